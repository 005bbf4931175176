"""Handlers for reading pull requests: the list, one pull request and its changed files
(``routers/api/v1/repo/pull.go``).

A pull request is an issue with ``pull_request`` set; its git state (heads, merge base, diff, mergeability)
is read from git on every request. As in Gitea, a missing ``state`` lists every pull request, and an
issue number that is not a pull request is a 404.

Example::

    Route("/api/v1/repos/{owner}/{repo}/pulls/{index}/files", list_pull_files)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from ._access import Permission
from ._context import Call, json_response, open_call
from ._errors import ApiError
from ._git import ObjectReader, diff_files
from ._pagination import ListOptions, add_page_headers, form_int
from ._pull_git import PullGitState, pull_git_state, pull_heads
from ._render_git import changed_file_json
from ._render_pull import pull_json
from ._routes_issues import path_issue
from ._store import Issue, Repo

__all__ = ["get_pull", "list_pull_files", "list_pulls", "path_pull", "pull_state"]

_KEYS: Final[dict[str, Callable[[Issue], Any]]] = {
    "created": lambda issue: issue.created_at,
    "updated": lambda issue: issue.updated_at,
    "closed": lambda issue: issue.closed_at or "",
    "comments": lambda issue: issue.comments,
    "id": lambda issue: issue.id,
}
_NEWEST: Final = (("created", True), ("id", True))
# issues_model.applySorts: (key, descending) from the most significant; anything else is newest first.
_ORDERS: Final[dict[str, tuple[tuple[str, bool], ...]]] = {
    "oldest": (("created", False), ("id", False)),
    "recentupdate": (("updated", True), *_NEWEST),
    "leastupdate": (("updated", False), ("created", False), ("id", False)),
    "mostcomment": (("comments", True), *_NEWEST),
    "leastcomment": (("comments", False), *_NEWEST),
    "recentclose": (("closed", True), *_NEWEST),
}


def path_pull(repo: Repo, request: Request) -> Issue:
    """The pull request numbered by the route's ``{index}``; 404 for an issue that is not one."""
    issue = path_issue(repo, request)
    if not issue.is_pull:
        raise ApiError.not_found()
    return issue


async def pull_state(call: Call, repo: Repo, issue: Issue) -> PullGitState:
    """What git says about the pull request ``issue`` now."""
    async with ObjectReader.open(call.git_dir(repo)) as objects:
        base_sha, head_sha = await pull_heads(objects, issue)
    return await pull_git_state(call.git_dir(repo), base_sha, head_sha)


async def _pull_document(call: Call, repo: Repo, permission: Permission, issue: Issue) -> dict[str, Any]:
    state = await pull_state(call, repo, issue)
    return pull_json(call.site, call.metadata, repo, issue, permission, call.doer, git=state)


def _label_names(call: Call, repo: Repo) -> set[str] | None:
    """The ``labels`` filter (label ids, any of them) as the names of the repository's labels."""
    try:
        ids = {int(value, 10) for value in call.values("labels") if value}
    except ValueError as exc:
        raise ApiError(500, "") from exc  # Gitea: StringsToInt64s fails, an internal error
    return {label.name for label in repo.labels if label.id in ids} if ids else None


def _poster(call: Call) -> str | None:
    """The ``poster`` filter as a login; 400 for a user that does not exist."""
    name = call.query.get("poster", "")
    if not name:
        return None
    user = call.metadata.user(name)
    if user is None:
        raise ApiError(400, f"user does not exist [uid: 0, name: {name}]")
    return user.login.lower()


def _sorted(issues: list[Issue], sort: str) -> list[Issue]:
    for key, descending in reversed(_ORDERS.get(sort, _NEWEST)):
        issues.sort(key=_KEYS[key], reverse=descending)
    return issues


async def list_pulls(request: Request) -> Response:
    """``GET /pulls``: filtered by ``state``, ``labels`` (ids), ``poster``, ``base_branch``, ``milestone``."""
    call = open_call(request)
    repo, permission = call.repo("repository")
    labels = _label_names(call, repo)
    poster = _poster(call)
    options = ListOptions.from_query(call.query)
    state = call.query.get("state", "").strip()
    base_branch = call.query.get("base_branch", "").strip()
    milestone = form_int(call.query, "milestone")
    matching = [
        issue
        for issue in repo.issues
        if issue.pull_request is not None
        and (state not in ("open", "closed") or issue.state == state)
        and (labels is None or not labels.isdisjoint(issue.labels))
        and (poster is None or issue.user.lower() == poster)
        and (not base_branch or issue.pull_request.base == base_branch)
        and milestone <= 0  # the simulator has no milestones
    ]
    page = options.slice(_sorted(matching, call.query.get("sort", "").strip()))
    data = [await _pull_document(call, repo, permission, issue) for issue in page]
    headers = call.list_headers(total=len(matching), page_size=options.size, raw_page=options.raw_page)
    return json_response(data, headers=headers)


async def get_pull(request: Request) -> Response:
    """``GET /pulls/{index}``: one pull request."""
    call = open_call(request)
    repo, permission = call.repo("repository")
    issue = path_pull(repo, request)
    return json_response(await _pull_document(call, repo, permission, issue))


async def list_pull_files(request: Request) -> Response:
    """``GET /pulls/{index}/files``: the files changed from the merge base to the head, renames detected,
    paged with X-Page, X-PerPage, X-PageCount and X-HasMore (``skip-to`` and ``whitespace`` are ignored)."""
    call = open_call(request)
    repo, _ = call.repo("repository")
    issue = path_pull(repo, request)
    state = await pull_state(call, repo, issue)
    files = await diff_files(call.git_dir(repo), state.diff_base, state.head_sha)
    options = ListOptions.from_query(call.query)
    data = [changed_file_json(call.site, repo, change, state.head_sha) for change in options.slice(files)]
    headers = call.list_headers(total=len(files), page_size=options.size, raw_page=options.raw_page)
    add_page_headers(headers, options, total=len(files), with_total=False)
    return json_response(data, headers=headers)
