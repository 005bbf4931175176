"""Handlers that create and edit issues and add comments (``routers/api/v1/repo/issue*.go`` in Gitea).

Gitea's permissions, not a blanket write check: anyone who can read the issues may open an issue (a
non-writer's labels are dropped) or comment (not on a locked issue); editing needs the poster or a writer.
Each change is a webhook event (``opened``, ``edited``, ``closed``, ``reopened``, comment ``created``).

Example::

    Route("/api/v1/repos/{owner}/{repo}/issues", create_issue, methods=["POST"])
"""

from __future__ import annotations

from dataclasses import replace

from starlette.requests import Request
from starlette.responses import Response

from ._bind import Field, Form, FormSpec, bind
from ._context import json_response, open_call
from ._errors import ApiError
from ._hook_events import comment_created, issue_edited, issue_opened, issue_state_changed
from ._issue_changes import add_comment, open_issue, store_issue
from ._render import comment_json, issue_json
from ._routes_issues import path_issue
from ._store import Issue
from ._writes import fresh_repo, now_text, save, write_lock

__all__ = ["create_comment", "create_issue", "edit_issue"]

CREATE_ISSUE = FormSpec(
    "CreateIssueOption",
    (
        Field("title", "Title", "string", ("Required",)),
        Field("body", "Body", "string"),
        Field("ref", "Ref", "string"),
        Field("assignee", "Assignee", "string"),
        Field("assignees", "Assignees", "[]string"),
        Field("due_date", "Deadline", "any"),
        Field("milestone", "Milestone", "int64"),
        Field("labels", "Labels", "[]int64"),
        Field("closed", "Closed", "bool"),
    ),
)
EDIT_ISSUE = FormSpec(
    "EditIssueOption",
    (
        Field("title", "Title", "string"),
        Field("body", "Body", "*string"),
        Field("ref", "Ref", "*string"),
        Field("assignee", "Assignee", "*string"),
        Field("assignees", "Assignees", "[]string"),
        Field("milestone", "Milestone", "*int64"),
        Field("state", "State", "*string"),
        Field("due_date", "Deadline", "any"),
        Field("unset_due_date", "RemoveDeadline", "*bool"),
        Field("content_version", "ContentVersion", "*int64"),
    ),
)
CREATE_COMMENT = FormSpec("CreateIssueCommentOption", (Field("body", "Body", "string", ("Required",)),))
_LOCKED_MESSAGE = "You cannot comment on a locked issue."  # locale repo.issues.comment_on_locked


async def create_issue(request: Request) -> Response:
    """``POST /issues``: 201 Issue numbered after every issue and pull request of the repository."""
    call = open_call(request)
    repo, permission, principal = call.writable_repo("issue")
    form = await bind(request, CREATE_ISSUE)
    wanted = set(form.items("labels")) if permission.push else set()
    async with write_lock():
        metadata, repo = fresh_repo(call)
        metadata, repo, issue = open_issue(
            metadata,
            repo,
            user=principal.user.login,
            title=form.text("title"),
            body=form.text("body"),
            labels=[label for label in repo.labels if label.id in wanted],
            closed=form.flag("closed"),
            when=now_text(),
        )
        save(call, metadata)
        await issue_opened(call, metadata, repo, issue, principal.user)
    return json_response(issue_json(call.site, metadata, repo, issue, call.doer), status=201)


def _edited(issue: Issue, form: Form, when: str) -> Issue:
    """Title and body as ``EditIssue`` applies them (before the state, which may still fail)."""
    changed = issue
    title = form.text("title")
    if title and title != issue.title:
        changed = replace(changed, title=title)
    body = form.optional_text("body")
    if body is not None:
        expected = form.optional_number("content_version")
        if expected is not None and expected != issue.content_version:
            raise ApiError(400, "the issue is already changed")
        changed = replace(changed, body=body, content_version=issue.content_version + 1)
    return changed if changed is issue else replace(changed, updated_at=when)


def _with_state(issue: Issue, state: str, when: str) -> Issue:
    """``closeOrReopenIssue``: 412 for an unknown state or a merged pull request."""
    if issue.pull_request is not None and issue.pull_request.merged:
        raise ApiError(412, "cannot change state of this pull request, it was already merged")
    if state not in ("open", "closed"):
        raise ApiError(412, f"unknown state: {state}")
    if state == issue.state:
        return issue
    return replace(issue, state=state, closed_at=when if state == "closed" else None, updated_at=when)


async def edit_issue(request: Request) -> Response:
    """``PATCH /issues/{index}``: title, body and state; 201 Issue, as Gitea answers."""
    call = open_call(request)
    repo, permission, principal = call.writable_repo("issue")
    form = await bind(request, EDIT_ISSUE)
    async with write_lock():
        metadata, repo = fresh_repo(call)
        issue = path_issue(repo, request)
        if issue.user.lower() != principal.user.login.lower() and not permission.push:
            return Response(status_code=403)  # Gitea: ctx.Status(403), no body
        when = now_text()
        edited = final = _edited(issue, form, when)
        state = form.optional_text("state")
        try:
            if state is not None:
                final = _with_state(edited, state, when)
        finally:
            if final is not issue:
                metadata, repo = store_issue(metadata, repo, final)
                save(call, metadata)
                await issue_edited(call, metadata, repo, issue, edited, principal.user)
        if final.state != edited.state:
            await issue_state_changed(call, metadata, repo, final, principal.user)
    return json_response(issue_json(call.site, metadata, repo, final, call.doer), status=201)


async def create_comment(request: Request) -> Response:
    """``POST /issues/{index}/comments``: 201 Comment; the issue counts it."""
    call = open_call(request)
    repo, permission, principal = call.writable_repo("issue")
    form = await bind(request, CREATE_COMMENT)
    async with write_lock():
        metadata, repo = fresh_repo(call)
        issue = path_issue(repo, request)
        if issue.is_locked and not permission.push:
            raise ApiError(403, _LOCKED_MESSAGE)
        metadata, repo, issue, comment = add_comment(
            metadata, repo, issue, user=principal.user.login, body=form.text("body"), when=now_text()
        )
        save(call, metadata)
        await comment_created(call, metadata, repo, issue, comment, principal.user)
    return json_response(comment_json(call.site, metadata, repo, issue, comment), status=201)
