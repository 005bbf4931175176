"""Read tools that list a repository's named things: branches, tags, releases and labels."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gateway.gitea import repo_path
from gateway.sanitize import Clip
from gateway.tools._paging import page_info, paging
from gateway.tools._spec import Runner, Tool, ToolCall, ToolOutput

MAX_TEXT_CHARS = 4000  # of a tag message or release notes: cut by the sanitizer once scanned whole


def _branch(raw: Mapping[str, Any]) -> dict[str, Any]:
    commit = raw.get("commit") or {}
    return {"name": raw.get("name"), "commit": commit.get("id"), "protected": raw.get("protected")}


def _tag(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": raw.get("name"),
        "commit": (raw.get("commit") or {}).get("sha"),
        "message": Clip(raw.get("message") or "", MAX_TEXT_CHARS),
    }


def _release(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "tag_name": raw.get("tag_name"),
        "name": raw.get("name"),
        "body": Clip(raw.get("body") or "", MAX_TEXT_CHARS),
        "draft": raw.get("draft"),
        "prerelease": raw.get("prerelease"),
        "target": raw.get("target_commitish"),
        "author": (raw.get("author") or {}).get("login"),
        "published_at": raw.get("published_at"),
    }


def _label(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {"name": raw.get("name"), "color": raw.get("color"), "description": raw.get("description")}


def _lister(segment: str, render: Callable[[Mapping[str, Any]], dict[str, Any]]) -> Runner:
    """A tool that lists one page of `/repos/{owner}/{repo}/{segment}`, each item rendered by `render`."""

    async def run(call: ToolCall) -> ToolOutput:
        page = await call.gitea.get_page(repo_path(call.resource, segment), paging(call.args))
        items = [render(item) for item in page.items if isinstance(item, Mapping)]
        return ToolOutput({segment: items, **page_info(page, call.args)})

    return run


REF_TOOLS: tuple[Tool, ...] = (
    Tool(
        name="list_branches",
        audited_args=("page", "limit"),
        title="List branches",
        capability="read",
        description="List the branches of a repository with the commit each points to.",
        run=_lister("branches", _branch),
    ),
    Tool(
        name="list_tags",
        audited_args=("page", "limit"),
        title="List tags",
        capability="read",
        description="List the tags of a repository, newest first, with their commits and messages.",
        run=_lister("tags", _tag),
    ),
    Tool(
        name="list_releases",
        audited_args=("page", "limit"),
        title="List releases",
        capability="read",
        description="List the releases of a repository, newest first, with their notes.",
        run=_lister("releases", _release),
    ),
    Tool(
        name="list_labels",
        audited_args=("page", "limit"),
        title="List labels",
        capability="read",
        description="List the issue labels defined in a repository.",
        run=_lister("labels", _label),
    ),
)
