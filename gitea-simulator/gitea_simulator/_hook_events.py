"""Webhook events of the simulator's changes, with Gitea's payloads (``services/webhook/notifier.go``).

Each function builds one event's payload (``modules/structs/hook.go``: IssuePayload, PullRequestPayload,
IssueCommentPayload, PushPayload, CreatePayload) from the same JSON the REST API answers (``issue_json``,
``pull_json``, ``repo_json``, ``user_json``), encodes it as Go's ``json.MarshalIndent(p, "", "  ")``
does, and hands a task per hook that ``sends`` it to the delivery worker: repository hooks first, then
system hooks. None of them ever raises: a payload that cannot be built is logged and the API call that
caused it answers as it would have.

Example::

    await issue_opened(call, metadata, repo, issue, poster)
    await branch_pushed(call, repo, pusher, branch="main", before=old_sha, after=new_sha)
"""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Final, ParamSpec

from ._access import Permission, Principal, repo_permission
from ._context import Call
from ._git import Commit, ObjectReader, commit_changes, run_checked
from ._git_write import ZERO_SHA
from ._hook_delivery import HookTask
from ._hooks import sends
from ._pull_git import pull_git_state, pull_heads
from ._render import comment_json, issue_json, repo_json, user_json
from ._render_git import payload_user
from ._render_pull import pull_json
from ._store import Comment, Hook, Issue, Metadata, Repo, User
from ._urls import format_time, path_escape, path_escape_segments

__all__ = [
    "branch_pushed",
    "comment_created",
    "go_json",
    "issue_edited",
    "issue_opened",
    "issue_state_changed",
    "labels_changed",
]

_P = ParamSpec("_P")
_OWNER: Final = Permission(admin=True, push=True, pull=True)  # perm.AccessModeOwner
_NO_ACCESS: Final = Permission(admin=False, push=False, pull=False)  # perm.AccessModeNone
_NEW_BRANCH_COMMITS: Final = 10  # pushNewBranch: newCommit.CommitsBeforeLimit(10)
_FEED_MAX_COMMIT_NUM: Final = 5  # setting.UI.FeedMaxCommitNum: commits a push payload lists
_STATE_EVENTS: Final = ("issues", "pull_request")  # an issue's event type, a pull request's
_DELIVERED_TYPES: Final = frozenset({"gitea", "gogs"})  # the hook types sending Gitea's own payload
_GO_ESCAPES: Final = {
    "<": "\\u003c",
    ">": "\\u003e",
    "&": "\\u0026",
    "\u2028": "\\u2028",
    "\u2029": "\\u2029",
}
_log = logging.getLogger("gitea_simulator.hooks")


def go_json(payload: dict[str, Any]) -> bytes:
    """``json.MarshalIndent(p, "", "  ")``: two-space indentation, HTML characters escaped as Go does."""
    text = json.dumps(payload, indent=2, ensure_ascii=False)
    for char, escaped in _GO_ESCAPES.items():
        text = text.replace(char, escaped)  # these occur only inside strings
    return text.encode("utf-8")


def _never_fails(build: Callable[_P, Awaitable[None]]) -> Callable[_P, Awaitable[None]]:
    @functools.wraps(build)
    async def quiet(*args: _P.args, **kwargs: _P.kwargs) -> None:
        try:
            await build(*args, **kwargs)
        except Exception:
            _log.exception("webhook event %s could not be prepared", build.__name__)

    return quiet


def _hooks_for(call: Call, repo: Repo, event_type: str, *, branch: str = "") -> list[Hook]:
    """``PrepareWebhooks``' hooks: the repository's, then the system hooks, that send this event."""
    hooks = call.store.current().hooks
    ordered = [hook for hook in hooks if hook.repo_id == repo.id]
    ordered += [hook for hook in hooks if hook.repo_id == 0]
    return [
        hook for hook in ordered if hook.type in _DELIVERED_TYPES and sends(hook, event_type, branch=branch)
    ]


def _emit(call: Call, repo: Repo, event_type: str, payload: dict[str, Any], *, branch: str = "") -> None:
    """One task per hook that sends the event, all with the same body."""
    body = go_json(payload)
    for hook in _hooks_for(call, repo, event_type, branch=branch):
        call.hooks.enqueue(HookTask.of(hook, event_type=event_type, body=body))


def _permission(repo: Repo, user: User) -> Permission:
    """``GetUserRepoPermission`` of ``user`` (no access at all for a private repository they cannot see)."""
    return repo_permission(repo, Principal(user=user, scopes=())) or _NO_ACCESS


def _poster(metadata: Metadata, issue: Issue, fallback: User) -> User:
    return metadata.user(issue.user) or fallback


async def _pull_document(
    call: Call, metadata: Metadata, repo: Repo, issue: Issue, doer: User
) -> dict[str, Any]:
    """``convert.ToAPIPullRequest(ctx, pr, doer)`` as the REST API renders it, read from git now."""
    git_dir = call.git_dir(repo)
    async with ObjectReader.open(git_dir) as objects:
        base_sha, head_sha = await pull_heads(objects, issue)
    state = await pull_git_state(git_dir, base_sha, head_sha)
    return pull_json(call.site, metadata, repo, issue, _permission(repo, doer), doer, git=state)


async def _issue_event(
    call: Call,
    metadata: Metadata,
    repo: Repo,
    issue: Issue,
    *,
    action: str,
    doer: User,
    permission: Permission,
    kind: tuple[str, str],
    changes: dict[str, Any] | None = None,
) -> None:
    """An IssuePayload (event type ``kind[0]``) or, for a pull request, a PullRequestPayload (``kind[1]``)."""
    if not _hooks_for(call, repo, kind[1] if issue.is_pull else kind[0]):
        return  # no payload to build (and no git to ask) when no hook would send it
    head: dict[str, Any] = {"action": action, "number": issue.number}
    if changes:
        head["changes"] = changes
    repository = repo_json(call.site, metadata, repo, permission, doer)
    sender = user_json(call.site, doer, None)
    if issue.is_pull:
        pull = await _pull_document(call, metadata, repo, issue, doer)
        payload = head | {
            "pull_request": pull,
            "requested_reviewer": None,
            "repository": repository,
            "sender": sender,
            "commit_id": "",
            "review": None,
        }
        _emit(call, repo, kind[1], payload)
        return
    issue_document = issue_json(call.site, metadata, repo, issue, doer)
    payload = head | {"issue": issue_document, "repository": repository, "sender": sender, "commit_id": ""}
    _emit(call, repo, kind[0], payload)


@_never_fails
async def issue_state_changed(call: Call, metadata: Metadata, repo: Repo, issue: Issue, doer: User) -> None:
    """``IssueChangeStatus``: ``closed`` or ``reopened`` (the repository as the poster may see it)."""
    action = "closed" if issue.state == "closed" else "reopened"
    permission = _permission(repo, _poster(metadata, issue, doer))
    await _issue_event(
        call, metadata, repo, issue, action=action, doer=doer, permission=permission, kind=_STATE_EVENTS
    )


@_never_fails
async def issue_opened(call: Call, metadata: Metadata, repo: Repo, issue: Issue, poster: User) -> None:
    """``NewIssue`` / ``NewPullRequest``: ``opened``; an issue created closed is then ``closed`` too."""
    opened = replace(issue, state="open", closed_at=None)
    permission = _permission(repo, poster)
    await _issue_event(
        call, metadata, repo, opened, action="opened", doer=poster, permission=permission, kind=_STATE_EVENTS
    )
    if issue.state == "closed":
        await issue_state_changed(call, metadata, repo, issue, poster)


@_never_fails
async def issue_edited(
    call: Call, metadata: Metadata, repo: Repo, before: Issue, after: Issue, doer: User
) -> None:
    """``IssueChangeTitle`` then ``IssueChangeContent``: ``edited`` with ``changes.title|body.from``."""
    permission = _permission(repo, _poster(metadata, after, doer))
    current = before
    for name in ("title", "body"):
        old, new = getattr(before, name), getattr(after, name)
        if old == new:
            continue
        current = replace(current, **{name: new, "updated_at": after.updated_at})
        if name == "body":
            current = replace(current, content_version=after.content_version)
        await _issue_event(
            call,
            metadata,
            repo,
            current,
            action="edited",
            doer=doer,
            permission=permission,
            kind=_STATE_EVENTS,
            changes={name: {"from": old}},
        )


@_never_fails
async def labels_changed(
    call: Call, metadata: Metadata, repo: Repo, issue: Issue, doer: User, *, cleared: bool = False
) -> None:
    """``IssueChangeLabels`` (``label_updated``) or ``IssueClearLabels`` (``label_cleared``)."""
    poster_permission = _permission(repo, _poster(metadata, issue, doer))
    # IssueChangeLabels shows a pull request's repository with owner access, everything else as the poster
    permission = _OWNER if issue.is_pull and not cleared else poster_permission
    await _issue_event(
        call,
        metadata,
        repo,
        issue,
        action="label_cleared" if cleared else "label_updated",
        doer=doer,
        permission=permission,
        kind=("issue_label", "pull_request_label"),
    )


@_never_fails
async def comment_created(
    call: Call, metadata: Metadata, repo: Repo, issue: Issue, comment: Comment, doer: User
) -> None:
    """``CreateIssueComment``: ``issue_comment``, or ``pull_request_comment`` with the pull request."""
    event_type = "pull_request_comment" if issue.is_pull else "issue_comment"
    if not _hooks_for(call, repo, event_type):
        return
    payload: dict[str, Any] = {
        "action": "created",
        "issue": issue_json(call.site, metadata, repo, issue, doer),
    }
    if issue.is_pull:
        payload["pull_request"] = await _pull_document(call, metadata, repo, issue, doer)
    payload |= {
        "comment": comment_json(call.site, metadata, repo, issue, comment),
        "repository": repo_json(call.site, metadata, repo, _permission(repo, doer), doer),
        "sender": user_json(call.site, doer, None),
        "is_pull": issue.is_pull,
    }
    _emit(call, repo, event_type, payload)


def _payload_commit(
    call: Call, metadata: Metadata, repo: Repo, commit: Commit, statuses: dict[str, list[str]]
) -> dict[str, Any]:
    """``ToAPIPayloadCommit``: unsigned, with the files of ``GetCommitFileStatus`` (renames as two)."""
    return {
        "id": commit.sha,
        "message": commit.message,
        "url": f"{call.site.repo_html_url(repo)}/commit/{path_escape(commit.sha)}",
        "author": payload_user(metadata, commit.author),
        "committer": payload_user(metadata, commit.committer),
        "verification": None,
        "timestamp": format_time(commit.author.when),
        "added": statuses["added"],
        "removed": statuses["removed"],
        "modified": statuses["modified"],
    }


def _compare_url(call: Call, repo: Repo, branch: str, before: str, after: str, oldest: Commit | None) -> str:
    """``getCompareURL``: from ``before``, else the parent of the oldest listed commit, else the default
    branch; none for a new default branch without parents."""
    start = before
    if start == ZERO_SHA and oldest is not None and oldest.parents:
        start = oldest.parents[0]
    if start == ZERO_SHA and branch != repo.default_branch:
        start = repo.default_branch
    if start == ZERO_SHA:
        return call.site.app_url
    span = f"{path_escape_segments(start)}...{path_escape_segments(after)}"
    return f"{call.site.app_url}{path_escape(repo.owner)}/{path_escape(repo.name)}/compare/{span}"


async def _push_payload(
    call: Call, metadata: Metadata, repo: Repo, pusher: User, branch: str, before: str, after: str
) -> dict[str, Any]:
    """``PushCommits``' PushPayload: the commits newest first (at most five listed), the head commit."""
    git_dir = call.git_dir(repo)
    if before == ZERO_SHA:
        listed = await run_checked(git_dir, "rev-list", f"--max-count={_NEW_BRANCH_COMMITS}", after)
    else:
        listed = await run_checked(git_dir, "rev-list", f"{before}..{after}")
    shas = listed.decode("ascii").split()
    shown = shas[:_FEED_MAX_COMMIT_NUM]
    changes = await commit_changes(git_dir, [*shown, after] if after not in shown else shown)
    async with ObjectReader.open(git_dir) as objects:
        commits = {sha: await objects.commit(sha) for sha in {*shown, after}}
    documents: dict[str, dict[str, Any]] = {}
    for sha, commit in commits.items():
        assert commit is not None, sha
        statuses: dict[str, list[str]] = {"added": [], "removed": [], "modified": []}
        for change in changes.get(sha, []):
            statuses[change.status].append(change.path)
        documents[sha] = _payload_commit(call, metadata, repo, commit, statuses)
    user = user_json(call.site, pusher, None)
    oldest = commits[shown[-1]] if shown else None
    return {
        "ref": f"refs/heads/{branch}",
        "before": before,
        "after": after,
        "compare_url": _compare_url(call, repo, branch, before, after, oldest),
        "commits": [documents[sha] for sha in shown],
        "total_commits": len(shas),
        "head_commit": documents[after],
        "repository": repo_json(call.site, metadata, repo, _OWNER, pusher),
        "pusher": user,
        "sender": user,
    }


async def _synchronized(
    call: Call, metadata: Metadata, repo: Repo, pusher: User, branch: str, before: str, after: str
) -> None:
    """``PullRequestSynchronized`` for each open pull request from ``branch`` whose content changed."""
    if not _hooks_for(call, repo, "pull_request_sync"):
        return
    async with ObjectReader.open(call.git_dir(repo)) as objects:
        old, new = await objects.commit(before), await objects.commit(after)
    if old is not None and new is not None and old.tree == new.tree:
        return  # checkIfPRContentChanged: nothing to review anew
    for issue in repo.issues:
        pull = issue.pull_request
        if pull is None or issue.state != "open" or pull.merged or pull.head != branch:
            continue
        payload = {
            "action": "synchronized",
            "number": issue.number,
            "pull_request": await _pull_document(call, metadata, repo, issue, pusher),
            "requested_reviewer": None,
            "repository": repo_json(call.site, metadata, repo, _OWNER, pusher),
            "sender": user_json(call.site, pusher, None),
            "commit_id": "",
            "review": None,
        }
        _emit(call, repo, "pull_request_sync", payload)


@_never_fails
async def branch_pushed(
    call: Call, repo: Repo, pusher: User, *, branch: str, before: str, after: str
) -> None:
    """What Gitea's post-receive does for one branch: ``create`` for a new one (before the push),
    ``push``, then ``synchronized`` for the open pull requests it heads."""
    metadata = call.store.current()
    repo = metadata.repo(repo.owner, repo.name) or repo
    if before == ZERO_SHA:
        created = {
            "sha": after,
            "ref": branch,
            "ref_type": "branch",
            "repository": repo_json(call.site, metadata, repo, _NO_ACCESS, None),
            "sender": user_json(call.site, pusher, None),
        }
        _emit(call, repo, "create", created, branch=branch)
    if _hooks_for(call, repo, "push", branch=branch):
        payload = await _push_payload(call, metadata, repo, pusher, branch, before, after)
        _emit(call, repo, "push", payload, branch=branch)
    if before != ZERO_SHA:
        await _synchronized(call, metadata, repo, pusher, branch, before, after)
