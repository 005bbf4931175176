"""Handlers for repository labels and an issue's labels (``routers/api/v1/repo/{label,issue_label}.go``).

As in Gitea: labels to add are ids or names (not both); ids or names that match no label of the
repository are ignored, not an error; removing a label id that exists nowhere is a 422, removing one the
issue does not carry is a 204. Every change is a ``label_updated`` webhook event (``label_cleared`` for
``DELETE /issues/{index}/labels``), sent even when the labels stayed the same, as Gitea does.

Example::

    Route("/api/v1/repos/{owner}/{repo}/issues/{index}/labels", add_issue_labels, methods=["POST"])
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from ._bind import Field, FormSpec, bind
from ._context import json_response, open_call
from ._errors import ApiError
from ._hook_events import labels_changed
from ._issue_changes import store_issue, with_labels
from ._pagination import ListOptions
from ._render import issue_labels, label_json
from ._routes_issues import path_issue
from ._store import Label, Metadata, Repo
from ._writes import fresh_repo, now_text, save, write_lock

__all__ = ["add_issue_labels", "clear_issue_labels", "delete_issue_label", "list_labels"]

ISSUE_LABELS = FormSpec("IssueLabelsOption", (Field("labels", "Labels", "[]any"),))
_NOT_A_LABEL: Final = "a label must be an integer or a string"


def _by_issue_count(repo: Repo, sign: int) -> Callable[[Label], tuple[int, int]]:
    """Sort key: how many issues carry the label (times ``sign``), then the label id."""
    return lambda label: (sign * sum(1 for issue in repo.issues if label.name in issue.labels), label.id)


def _sorted(repo: Repo, sort: str) -> list[Label]:
    """``GetLabelsByRepoID``'s orders: by name unless ``reversealphabetically``, ``leastissues``,
    ``mostissues``."""
    labels = list(repo.labels)
    if sort == "reversealphabetically":
        return sorted(labels, key=lambda label: label.name, reverse=True)
    if sort in ("leastissues", "mostissues"):
        return sorted(labels, key=_by_issue_count(repo, -1 if sort == "mostissues" else 1))
    return sorted(labels, key=lambda label: label.name)


async def list_labels(request: Request) -> Response:
    """``GET /labels``: the repository's labels, paginated."""
    call = open_call(request)
    repo, _ = call.repo("issue")
    options = ListOptions.from_query(call.query)
    labels = _sorted(repo, call.query.get("sort", ""))
    data = [label_json(call.site, repo, label) for label in options.slice(labels)]
    headers = call.list_headers(total=len(labels), page_size=options.size, raw_page=options.raw_page)
    return json_response(data, headers=headers)


def _wanted(repo: Repo, items: list[Any]) -> list[Label]:
    """``prepareForReplaceOrAdd``: labels by id (JSON numbers, truncated) or by name; 400 otherwise."""
    ids: list[int] = []
    names: list[str] = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, int | float | str):
            raise ApiError(400, _NOT_A_LABEL)
        if isinstance(item, str):
            names.append(item)
        else:
            ids.append(int(item))
    if ids and names:
        raise ApiError(400, "labels should be an array of strings or integers")
    return [label for label in repo.labels if label.id in ids or label.name in names]


async def add_issue_labels(request: Request) -> Response:
    """``POST /issues/{index}/labels``: 200 with every label the issue has afterwards."""
    call = open_call(request)
    repo, permission, principal = call.writable_repo("issue")
    form = await bind(request, ISSUE_LABELS)
    async with write_lock():
        metadata, repo = fresh_repo(call)
        issue = path_issue(repo, request)
        if not permission.push:
            raise ApiError(403, "write permission is required")
        labeled = with_labels(repo, issue, _wanted(repo, form.items("labels")))
        if labeled is not issue:
            issue = replace(labeled, updated_at=now_text())
            metadata, repo = store_issue(metadata, repo, issue)
            save(call, metadata)
        await labels_changed(call, metadata, repo, issue, principal.user)
    return json_response([label_json(call.site, repo, label) for label in issue_labels(repo, issue)])


def _path_label(metadata: Metadata, request: Request) -> Label:
    """The route's label ``{id}``, of any repository; 422 when no label has that id."""
    try:
        label_id = int(request.path_params["id"], 10)
    except ValueError:
        label_id = 0
    label = metadata.label(label_id)
    if label is None:
        raise ApiError(422, f"label does not exist [label_id: {label_id}]")
    return label


async def _remove_labels(request: Request, *, clear: bool) -> Response:
    """204 once the route's label (or every label, with ``clear``) is off the issue; 403, no body, for a
    caller who may not write (Gitea's ``ctx.Status(403)``)."""
    call = open_call(request)
    repo, permission, principal = call.writable_repo("issue")
    async with write_lock():
        metadata, repo = fresh_repo(call)
        issue = path_issue(repo, request)
        if not permission.push:
            return Response(status_code=403)
        removed = set(issue.labels)
        if not clear:
            label = _path_label(metadata, request)
            removed = {label.name} if label in repo.labels else set()
        remaining = tuple(name for name in issue.labels if name not in removed)
        if remaining != issue.labels:
            issue = replace(issue, labels=remaining, updated_at=now_text())
            metadata, repo = store_issue(metadata, repo, issue)
            save(call, metadata)
        await labels_changed(call, metadata, repo, issue, principal.user, cleared=clear)
    return Response(status_code=204)


async def delete_issue_label(request: Request) -> Response:
    """``DELETE /issues/{index}/labels/{id}``: 204; 422 for a label id that does not exist."""
    return await _remove_labels(request, clear=False)


async def clear_issue_labels(request: Request) -> Response:
    """``DELETE /issues/{index}/labels``: 204; every label of the issue removed (``ClearIssueLabels``)."""
    return await _remove_labels(request, clear=True)
