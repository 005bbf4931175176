"""The read tools. Each takes owner, name, path and ref from the normalized resource only."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.errors import FileTooLarge, InvalidToolCall, UpstreamError
from gateway.gitea import contents_ext_path, repo_path
from gateway.gitea._client import api_path
from gateway.sanitize import Binary, Clip
from gateway.tools._paging import page_info, paging
from gateway.tools._shown import entry_path, repository_name, shown_items
from gateway.tools._spec import ShownFilter, Tool, ToolCall, ToolOutput
from gateway.tools._text import decode_text
from gateway.tools._upstream import NO_COMMIT_EXTRAS, commit_at, read_blob, tree_page

MAX_FILE_BYTES = 1 << 20
REPOSITORY_PAGE_SIZE = 50  # Gitea's largest page by default (setting.API.MaxResponseItems)
MAX_REPOSITORY_PAGES = 20  # so at most 1000 repositories are examined per call
MAX_MESSAGE_CHARS = 4000  # of each message in a list: the sanitizer cuts it once it has scanned it whole
TEXT_NOTE = (
    "The file's text is this result's text content, between untrusted-data markers; not repeated here."
)
BINARY_NOTE = "The file's bytes, base64-encoded, are this result's text content; not repeated here."


def _repository(raw: Mapping[str, Any]) -> dict[str, Any]:
    keys = ("full_name", "description", "private", "archived", "default_branch", "html_url", "updated_at")
    return {key: raw.get(key) for key in keys}


def _issue(raw: Mapping[str, Any], *, with_body: bool) -> dict[str, Any]:
    issue = {
        "number": raw.get("number"),
        "title": raw.get("title"),
        "state": raw.get("state"),
        "user": (raw.get("user") or {}).get("login"),
        "labels": [label.get("name") for label in raw.get("labels") or []],
        "comments": raw.get("comments"),
        "is_pull_request": raw.get("pull_request") is not None,
        "created_at": raw.get("created_at"),
        "updated_at": raw.get("updated_at"),
        "closed_at": raw.get("closed_at"),
    }
    if with_body:
        issue["body"] = raw.get("body") or ""
    return issue


def commit_summary(raw: Mapping[str, Any], *, whole_message: bool = False) -> dict[str, Any]:
    """A commit as listed; its message cut to MAX_MESSAGE_CHARS (after scanning) unless `whole_message`."""
    commit = raw.get("commit") or {}
    author = commit.get("author") or {}
    message = commit.get("message") or ""
    return {
        "sha": raw.get("sha"),
        "message": message if whole_message else Clip(message, MAX_MESSAGE_CHARS),
        "author": author.get("name"),
        "date": author.get("date"),
        "parents": [parent.get("sha") for parent in raw.get("parents") or []],
    }


async def list_repositories(call: ToolCall) -> ToolOutput:
    """The repositories Gitea's search finds that the policy lets this call show, paged by the gateway.

    Gitea's own pages would show where hidden repositories sit among the others, and its total how many
    there are; with a query, even a count of the hidden matches would spell their names one character at
    a time. So every match is fetched (up to MAX_REPOSITORY_PAGES pages), filtered, then paged here, and
    hidden repositories are counted as withheld only when no query narrowed the search."""
    query = str(call.args.get("query", ""))
    found, complete = await _search_repositories(call, query)
    repositories, withheld = await shown_items(call.repos, found, repository_name)
    asked = paging(call.args)
    page, limit = asked["page"], asked["limit"]
    shown = repositories[(page - 1) * limit : page * limit]
    result = {
        "repositories": shown,
        "page": page,
        "count": len(shown),
        "total": len(repositories) if complete else None,
        "complete": complete,
    }
    return ToolOutput(result, withheld=0 if query else withheld)


async def _search_repositories(call: ToolCall, query: str) -> tuple[list[dict[str, Any]], bool]:
    """Every repository `/repos/search` finds for `query`, and whether that is all of them: as many as
    Gitea's total (X-Total-Count) were read, or, without a total, a page came back short. Gitea may
    serve pages smaller than asked (its MAX_RESPONSE_ITEMS): a short page proves nothing when a total
    is known."""
    found: list[dict[str, Any]] = []
    read = 0
    for page in range(1, MAX_REPOSITORY_PAGES + 1):
        params: dict[str, str | int] = {"q": query, "page": page, "limit": REPOSITORY_PAGE_SIZE}
        listed = await call.gitea.get_page(api_path("repos", "search"), params)
        read += len(listed.items)
        found += [_repository(repo) for repo in listed.items if isinstance(repo, Mapping)]
        last = read >= listed.total if listed.total is not None else len(listed.items) < REPOSITORY_PAGE_SIZE
        if last or not listed.items:
            return found, True
    return found, False


async def get_repository_info(call: ToolCall) -> ToolOutput:
    return ToolOutput(_repository(await call.gitea.get_json(repo_path(call.resource))))


async def get_file_tree(call: ToolCall) -> ToolOutput:
    commit = await commit_at(call.gitea, call.resource)
    recursive = bool(call.args.get("recursive", True))
    tree = await tree_page(call.gitea, call.resource, commit, page=1, recursive=recursive)
    listed = [
        {"path": entry.get("path"), "type": entry.get("type"), "size": entry.get("size")}
        for entry in tree.get("tree") or []
    ]
    truncated = bool(tree.get("truncated")) or (tree.get("total_count") or 0) > len(listed)
    entries, withheld = await shown_items(call.paths, listed, entry_path)
    listing = {"ref": commit.ref, "commit": commit.id, "entries": entries, "truncated": truncated}
    return ToolOutput(listing, withheld=withheld)


async def get_file_contents(call: ToolCall) -> ToolOutput:
    """A file's text (base64 when binary), or a directory's entries. The file's metadata comes first: one
    over the size limit (the tool's, or the policy's if lower) is refused before any of it is read; one
    within it is read as the blob the metadata of the decided path names. The text is returned once, as
    the result's text; the structured result holds its metadata only (docs/read-tools.md)."""
    params = {"ref": call.resource.ref} if call.resource.ref else {}
    found = await call.gitea.get_json(contents_ext_path(call.resource), params)
    listing = found.get("dir_contents") if isinstance(found, Mapping) else None
    entry = found.get("file_contents") if isinstance(found, Mapping) else None
    if isinstance(listing, list) and entry is None:
        return await _directory(call.paths, call.resource.path, listing)
    if not isinstance(entry, Mapping) or listing is not None:
        raise UpstreamError("malformed")
    if entry.get("path") != call.resource.path:  # an answer for another file than the one decided on
        raise UpstreamError("malformed")
    meta = {
        "path": entry.get("path"),
        "sha": entry.get("sha"),
        "size": entry.get("size"),
        "type": entry.get("type"),
        "ref": call.resource.ref,
    }
    if entry.get("type") != "file":
        return ToolOutput({**meta, "target": entry.get("target") or entry.get("submodule_git_url")})
    size, sha = entry.get("size"), entry.get("sha")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0 or not isinstance(sha, str):
        raise UpstreamError("malformed")
    limit = MAX_FILE_BYTES if call.max_file_bytes is None else min(MAX_FILE_BYTES, call.max_file_bytes)
    if size > limit:
        raise FileTooLarge(size, limit)
    raw = await read_blob(call.gitea, call.resource, sha)
    if len(raw) != size:
        raise UpstreamError("malformed")
    decoded = decode_text(raw)
    if decoded is None:
        binary = {**meta, "encoding": "base64", "note": BINARY_NOTE}
        return ToolOutput(binary, text=Binary(raw), content_bytes=size)
    document = {**meta, "encoding": "utf-8", "charset": decoded.charset, "note": TEXT_NOTE}
    return ToolOutput(document, text=decoded.text, content_bytes=size)


async def _directory(paths: ShownFilter, path: str | None, listing: list[Any]) -> ToolOutput:
    """The entries of the directory at `path` that the policy lets this call show."""
    if not all(isinstance(entry, Mapping) for entry in listing):
        raise UpstreamError("malformed")
    listed = [
        {"name": e.get("name"), "path": e.get("path"), "type": e.get("type"), "size": e.get("size")}
        for e in listing
    ]
    entries, withheld = await shown_items(paths, listed, entry_path)
    return ToolOutput({"path": path, "type": "dir", "entries": entries}, withheld=withheld)


async def list_commits(call: ToolCall) -> ToolOutput:
    params: dict[str, str | int] = {**paging(call.args), **NO_COMMIT_EXTRAS}
    if call.resource.ref:
        params["sha"] = call.resource.ref
    if call.resource.path:
        params["path"] = call.resource.path
    page = await call.gitea.get_page(repo_path(call.resource, "commits"), params)
    return ToolOutput(
        {"commits": [commit_summary(item) for item in page.items], **page_info(page, call.args)}
    )


async def list_issues(call: ToolCall) -> ToolOutput:
    params: dict[str, str | int] = {
        **paging(call.args),
        "type": "issues",
        "state": call.args.get("state", "open"),
    }
    if call.args.get("labels"):
        params["labels"] = ",".join(call.args["labels"])
    page = await call.gitea.get_page(repo_path(call.resource, "issues"), params)
    return ToolOutput(
        {"issues": [_issue(item, with_body=False) for item in page.items], **page_info(page, call.args)}
    )


async def get_issue(call: ToolCall) -> ToolOutput:
    index = int(call.args["index"])
    raw = await call.gitea.get_json(repo_path(call.resource, "issues", str(index)))
    if not isinstance(raw, Mapping):
        raise UpstreamError("malformed")
    if raw.get("pull_request") is not None:  # Gitea serves a pull request as an issue too
        raise InvalidToolCall(f"Invalid arguments: 'index' {index} is a pull request: use get_pull_request")
    return ToolOutput(_issue(raw, with_body=True))


READ_TOOLS: tuple[Tool, ...] = (
    Tool(
        name="list_repositories",
        audited_args=("query", "page", "limit"),
        title="List repositories",
        capability="read",
        repo_scoped=False,
        description="Search the repositories visible to the gateway, optionally by a query string.",
        run=list_repositories,
    ),
    Tool(
        name="get_repository_info",
        title="Repository information",
        capability="read",
        description="Describe one repository: description, visibility, default branch.",
        run=get_repository_info,
    ),
    Tool(
        name="get_file_tree",
        audited_args=("ref", "recursive"),
        title="File tree",
        capability="read",
        shows_paths=True,
        ref_arg="ref",
        description="List the files and directories of a repository at a ref (default branch if omitted).",
        run=get_file_tree,
    ),
    Tool(
        name="get_file_contents",
        audited_args=("filepath", "ref"),
        title="File contents",
        capability="read",
        shows_paths=True,
        path_arg="filepath",
        ref_arg="ref",
        description="Read a file (or list a directory) of a repository at a ref (default branch if omitted).",
        run=get_file_contents,
    ),
    Tool(
        name="list_commits",
        audited_args=("ref", "path", "page", "limit"),
        title="List commits",
        capability="read",
        path_arg="path",
        path_is_pathspec=True,
        ref_arg="ref",
        description="List commits of a repository, newest first, optionally from a ref and touching a path.",
        run=list_commits,
    ),
    Tool(
        name="list_issues",
        audited_args=("state", "labels", "page", "limit"),
        title="List issues",
        capability="read",
        description="List issues (not pull requests) of a repository by state and labels.",
        run=list_issues,
    ),
    Tool(
        name="get_issue",
        audited_args=("index",),
        title="Get issue",
        capability="read",
        description="Read one issue of a repository, with its body.",
        run=get_issue,
    ),
)
