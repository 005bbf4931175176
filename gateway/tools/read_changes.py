"""Read tools for changes: a commit's diff, the difference between two refs, pull requests.

Every file a result names passes the path policy first (gateway.core.paths): the diff sections and file
entries of denied paths are dropped, and a diff section whose paths cannot be told is dropped too.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from gateway.gitea import repo_path
from gateway.sanitize import Clip
from gateway.tools._diff import FileDiff, join_diff, split_diff
from gateway.tools._paging import page_info, paging
from gateway.tools._shown import entry_path, shown_items
from gateway.tools._spec import ShownFilter, Tool, ToolCall, ToolOutput
from gateway.tools._upstream import NO_COMMIT_EXTRAS
from gateway.tools.read import MAX_MESSAGE_CHARS, commit_summary

MAX_COMPARE_COMMITS = 250


def _diff_file(section: FileDiff) -> dict[str, Any]:
    moved = section.status in ("renamed", "copied")
    return {
        "path": section.new_path or section.old_path,
        "previous_path": section.old_path if moved else None,
        "status": section.status,
        "binary": section.binary,
        "additions": section.additions,
        "deletions": section.deletions,
    }


async def _shown_diff(paths: ShownFilter, raw: bytes) -> tuple[dict[str, Any], int]:
    """The files and the text of the diff `raw` without the sections the policy withholds.

    Bytes that are not UTF-8 are kept as surrogates while splitting, so that two different undecodable
    names never read as one; a path carrying them is then withheld (gateway.core.paths). Splitting a
    large diff takes a while: not on the event loop."""
    parsed = await asyncio.to_thread(split_diff, raw.decode("utf-8", "surrogateescape"))
    sections, withheld = await shown_items(paths, parsed, _section_paths)
    text = join_diff(sections).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return {"files": [_diff_file(section) for section in sections], "diff": text}, withheld


def _section_paths(section: FileDiff) -> tuple[str, ...]:
    return section.paths


def _without_show_header(raw: bytes) -> bytes:
    """Gitea answers the diff of a root commit with `git show`: the commit's header and message (shown from
    the commit itself) come before its first file. Anything before the first file is dropped."""
    if not raw.startswith(b"commit "):
        return raw
    start = raw.find(b"\ndiff --git ")
    return b"" if start < 0 else raw[start + 1 :]


async def get_commit_diff(call: ToolCall) -> ToolOutput:
    sha = call.resource.ref or ""
    commit = await call.gitea.get_json(repo_path(call.resource, "git", "commits", sha), NO_COMMIT_EXTRAS)
    raw = await call.gitea.get_bytes(repo_path(call.resource, "git", "commits", f"{sha}.diff"))
    diff, withheld = await _shown_diff(call.paths, _without_show_header(raw))
    summary = commit_summary(commit, whole_message=True)
    text = f"commit {summary['sha']}\nAuthor: {summary['author']}\nDate: {summary['date']}\n\n"
    text += f"{summary['message']}\n\n{diff['diff']}"
    return ToolOutput({**summary, **diff}, text=text, content_bytes=len(raw), withheld=withheld)


def _affected(commit: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        {"path": item.get("filename"), "status": item.get("status")}
        for item in commit.get("files") or []
        if isinstance(item, Mapping)
    ]


async def compare_refs(call: ToolCall) -> ToolOutput:
    """The commits on `head` since it left `base` (Gitea's compare), each with the files it changed."""
    basehead = f"{call.args['base']}...{call.args['head']}"
    raw = await call.gitea.get_json(repo_path(call.resource, "compare", basehead), {"verification": "false"})
    commits = [item for item in raw.get("commits") or [] if isinstance(item, Mapping)][:MAX_COMPARE_COMMITS]
    affected = [_affected(commit) for commit in commits]
    changed = {entry["path"]: entry for files in affected for entry in files}
    shown, withheld = await shown_items(call.paths, list(changed.values()), entry_path)
    allowed = {entry["path"] for entry in shown}
    rendered = [
        {**commit_summary(commit), "files": [entry for entry in files if entry["path"] in allowed]}
        for commit, files in zip(commits, affected, strict=True)
    ]
    result = {
        "base": call.args["base"],
        "head": call.args["head"],
        "total_commits": raw.get("total_commits"),
        "commits": rendered,
        "files": sorted(shown, key=lambda entry: str(entry["path"])),
        "truncated": (raw.get("total_commits") or 0) > len(rendered),
    }
    return ToolOutput(result, withheld=withheld)


def _pull(raw: Mapping[str, Any], *, with_body: bool) -> dict[str, Any]:
    pull = {
        "number": raw.get("number"),
        "title": raw.get("title"),
        "state": raw.get("state"),
        "user": (raw.get("user") or {}).get("login"),
        "head": (raw.get("head") or {}).get("ref"),
        "base": (raw.get("base") or {}).get("ref"),
        "draft": raw.get("draft"),
        "merged": raw.get("merged"),
        "labels": [label.get("name") for label in raw.get("labels") or []],
        "created_at": raw.get("created_at"),
        "updated_at": raw.get("updated_at"),
    }
    if with_body:
        pull["body"] = Clip(raw.get("body") or "", MAX_MESSAGE_CHARS)
        pull["head_sha"] = (raw.get("head") or {}).get("sha")
        pull["mergeable"] = raw.get("mergeable")
    return pull


async def list_pull_requests(call: ToolCall) -> ToolOutput:
    params: dict[str, str | int] = {**paging(call.args), "state": call.args.get("state", "open")}
    page = await call.gitea.get_page(repo_path(call.resource, "pulls"), params)
    pulls = [_pull(item, with_body=False) for item in page.items if isinstance(item, Mapping)]
    return ToolOutput({"pull_requests": pulls, **page_info(page, call.args)})


async def get_pull_request(call: ToolCall) -> ToolOutput:
    """The pull request with its changed files and their diff (base's merge base to head)."""
    index = str(int(call.args["index"]))
    pull = await call.gitea.get_json(repo_path(call.resource, "pulls", index))
    raw = await call.gitea.get_bytes(repo_path(call.resource, "pulls", f"{index}.diff"))
    diff, withheld = await _shown_diff(call.paths, raw)
    return ToolOutput({**_pull(pull, with_body=True), **diff}, content_bytes=len(raw), withheld=withheld)


CHANGE_TOOLS: tuple[Tool, ...] = (
    Tool(
        name="get_commit_diff",
        audited_args=("sha",),
        title="Commit diff",
        capability="read",
        shows_paths=True,
        ref_arg="sha",
        description="Show one commit: its message and its diff against its first parent, file by file.",
        run=get_commit_diff,
    ),
    Tool(
        name="compare_refs",
        audited_args=("base", "head"),
        title="Compare refs",
        capability="read",
        shows_paths=True,
        ref_arg="head",
        other_ref_args=("base",),
        description="List the commits on head since it diverged from base, and the files they changed.",
        run=compare_refs,
    ),
    Tool(
        name="list_pull_requests",
        audited_args=("state", "page", "limit"),
        title="List pull requests",
        capability="read",
        description="List the pull requests of a repository by state.",
        run=list_pull_requests,
    ),
    Tool(
        name="get_pull_request",
        audited_args=("index",),
        title="Get pull request",
        capability="read",
        shows_paths=True,
        description="Read one pull request: its description, branches, changed files and their diff.",
        run=get_pull_request,
    ),
)
