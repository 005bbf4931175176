"""The read tools. Each takes owner, name, path and ref from the normalized resource only."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from gateway.core.normalize import Resource
from gateway.gitea import GiteaClient, Page
from gateway.gitea._client import api_path
from gateway.tools._spec import Tool, ToolOutput
from gateway.tools._upstream import contents_path, decode_base64
from gateway.tools._upstream import repo_path as _repo_path

MAX_FILE_BYTES = 1 << 20
MAX_TREE_ENTRIES = 1000
MAX_MESSAGE_CHARS = 4000
DEFAULT_LIMIT = 30


def _paging(args: Mapping[str, Any]) -> dict[str, int]:
    return {"page": int(args.get("page", 1)), "limit": int(args.get("limit", DEFAULT_LIMIT))}


def _page_info(page: Page, args: Mapping[str, Any]) -> dict[str, Any]:
    return {"page": _paging(args)["page"], "count": len(page.items), "total": page.total}


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


def _commit(raw: Mapping[str, Any]) -> dict[str, Any]:
    commit = raw.get("commit") or {}
    author = commit.get("author") or {}
    return {
        "sha": raw.get("sha"),
        "message": (commit.get("message") or "")[:MAX_MESSAGE_CHARS],
        "author": author.get("name"),
        "date": author.get("date"),
        "parents": [parent.get("sha") for parent in raw.get("parents") or []],
    }


async def list_repositories(gitea: GiteaClient, resource: Resource, args: Mapping[str, Any]) -> ToolOutput:
    page = await gitea.get_page(api_path("repos", "search"), {"q": args.get("query", ""), **_paging(args)})
    return ToolOutput({"repositories": [_repository(repo) for repo in page.items], **_page_info(page, args)})


async def get_repository_info(gitea: GiteaClient, resource: Resource, args: Mapping[str, Any]) -> ToolOutput:
    return ToolOutput(_repository(await gitea.get_json(_repo_path(resource))))


async def get_file_tree(gitea: GiteaClient, resource: Resource, args: Mapping[str, Any]) -> ToolOutput:
    ref = resource.ref or (await gitea.get_json(_repo_path(resource)))["default_branch"]
    params = {
        "recursive": "true" if args.get("recursive", True) else "false",
        "page": 1,
        "per_page": MAX_TREE_ENTRIES,
    }
    tree = await gitea.get_json(_repo_path(resource, "git", "trees", ref), params)
    entries = [
        {"path": entry.get("path"), "type": entry.get("type"), "size": entry.get("size")}
        for entry in tree.get("tree") or []
    ]
    truncated = bool(tree.get("truncated")) or (tree.get("total_count") or 0) > len(entries)
    return ToolOutput({"ref": ref, "entries": entries, "truncated": truncated})


async def get_file_contents(gitea: GiteaClient, resource: Resource, args: Mapping[str, Any]) -> ToolOutput:
    params = {"ref": resource.ref} if resource.ref else {}
    contents = await gitea.get_json(contents_path(resource), params)
    if isinstance(contents, list):
        entries = [
            {"name": e.get("name"), "path": e.get("path"), "type": e.get("type"), "size": e.get("size")}
            for e in contents
        ]
        return ToolOutput({"path": resource.path, "type": "dir", "entries": entries})
    meta = {
        "path": contents.get("path"),
        "sha": contents.get("sha"),
        "size": contents.get("size"),
        "type": contents.get("type"),
        "ref": resource.ref,
    }
    if contents.get("type") != "file":
        target = contents.get("target") or contents.get("submodule_git_url")
        return ToolOutput({**meta, "target": target})
    if (contents.get("size") or 0) > MAX_FILE_BYTES:
        return ToolOutput({**meta, "error": f"file larger than {MAX_FILE_BYTES} bytes; not returned"})
    raw = decode_base64(contents.get("content") or "")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        encoded = base64.b64encode(raw).decode("ascii")
        return ToolOutput({**meta, "encoding": "base64", "content": encoded}, content_bytes=len(raw))
    return ToolOutput({**meta, "encoding": "utf-8", "content": text}, text=text, content_bytes=len(raw))


async def list_commits(gitea: GiteaClient, resource: Resource, args: Mapping[str, Any]) -> ToolOutput:
    params: dict[str, str | int] = {
        **_paging(args),
        "stat": "false",
        "verification": "false",
        "files": "false",
    }
    if resource.ref:
        params["sha"] = resource.ref
    if resource.path:
        params["path"] = resource.path
    page = await gitea.get_page(_repo_path(resource, "commits"), params)
    return ToolOutput({"commits": [_commit(item) for item in page.items], **_page_info(page, args)})


async def list_issues(gitea: GiteaClient, resource: Resource, args: Mapping[str, Any]) -> ToolOutput:
    params: dict[str, str | int] = {**_paging(args), "type": "issues", "state": args.get("state", "open")}
    if args.get("labels"):
        params["labels"] = ",".join(args["labels"])
    page = await gitea.get_page(_repo_path(resource, "issues"), params)
    return ToolOutput(
        {"issues": [_issue(item, with_body=False) for item in page.items], **_page_info(page, args)}
    )


async def get_issue(gitea: GiteaClient, resource: Resource, args: Mapping[str, Any]) -> ToolOutput:
    raw = await gitea.get_json(_repo_path(resource, "issues", str(int(args["index"]))))
    return ToolOutput(_issue(raw, with_body=True))


READ_TOOLS: tuple[Tool, ...] = (
    Tool(
        name="list_repositories",
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
        title="File tree",
        capability="read",
        ref_arg="ref",
        description="List the files and directories of a repository at a ref (default branch if omitted).",
        run=get_file_tree,
    ),
    Tool(
        name="get_file_contents",
        title="File contents",
        capability="read",
        path_arg="filepath",
        ref_arg="ref",
        description="Read a file (or list a directory) of a repository at a ref (default branch if omitted).",
        run=get_file_contents,
    ),
    Tool(
        name="list_commits",
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
        title="List issues",
        capability="read",
        description="List issues (not pull requests) of a repository by state and labels.",
        run=list_issues,
    ),
    Tool(
        name="get_issue",
        title="Get issue",
        capability="read",
        description="Read one issue of a repository, with its body.",
        run=get_issue,
    ),
)
