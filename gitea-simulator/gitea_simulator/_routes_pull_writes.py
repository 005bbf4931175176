"""``POST /pulls``: a pull request between two branches of the repository (``repo.CreatePullRequest``).

As in Gitea: anyone who can read the code and pull requests may open one; ``head`` equal to ``base`` is
a 422; a head or base that names nothing (or a head in another user's fork, which the simulator has not)
is a 404; a tag or commit instead of a branch is a 422; an open pull request for the same head and base
is a 409. The pull request is an issue sharing the issue numbers, and ``refs/pull/N/head`` is created.
It is a ``pull_request`` webhook event (``opened``).

Example::

    Route("/api/v1/repos/{owner}/{repo}/pulls", create_pull, methods=["POST"])
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ._bind import Field, FormSpec, bind
from ._context import json_response, open_call
from ._errors import ApiError
from ._git import ObjectReader
from ._git_write import ZERO_SHA, update_ref
from ._hook_events import issue_opened
from ._issue_changes import open_issue
from ._pull_git import pull_git_state
from ._refs import is_commit_id, is_valid_ref_pattern
from ._render_pull import pull_json
from ._store import PullRequest, Repo
from ._writes import fresh_repo, now_text, save, write_lock

__all__ = ["create_pull"]

CREATE_PULL = FormSpec(
    "CreatePullRequestOption",
    (
        Field("head", "Head", "string", ("Required",)),
        Field("base", "Base", "string", ("Required",)),
        Field("title", "Title", "string", ("Required",)),
        Field("body", "Body", "string"),
        Field("assignee", "Assignee", "string"),
        Field("assignees", "Assignees", "[]string"),
        Field("reviewers", "Reviewers", "[]string"),
        Field("team_reviewers", "TeamReviewers", "[]string"),
        Field("milestone", "Milestone", "int64"),
        Field("labels", "Labels", "[]int64"),
        Field("due_date", "Deadline", "any"),
        Field("allow_maintainer_edit", "AllowMaintainerEdit", "bool"),
    ),
)


def _head_branch(repo: Repo, head: str) -> str:
    """``parseCompareInfo``'s head: ``branch`` or ``owner:branch`` of this repository; 404 otherwise."""
    parts = head.split(":")
    if len(parts) > 2 or (len(parts) == 2 and parts[0].lower() != repo.owner.lower()):
        raise ApiError.not_found()
    return parts[-1]


async def _guess(objects: ObjectReader, name: str) -> tuple[str, str] | None:
    """``UnstableGuessRefByShortName``: (kind, commit id) of a branch, else tag, else full commit id."""
    if is_valid_ref_pattern(name):
        for kind, prefix in (("branch", "refs/heads/"), ("tag", "refs/tags/")):
            commit = await objects.commit(prefix + name)
            if commit is not None:
                return kind, commit.sha
    if is_commit_id(name):
        commit = await objects.commit(name.lower())
        if commit is not None:
            return "commit", commit.sha
    return None


async def _branch_heads(objects: ObjectReader, base: str, head: str) -> tuple[str, str]:
    """The base and head commits; 404 when either names nothing, 422 when either is not a branch."""
    base_found, head_found = await _guess(objects, base), await _guess(objects, head)
    if base_found is None or head_found is None:
        raise ApiError.not_found()
    if base_found[0] != "branch" or head_found[0] != "branch":
        raise ApiError(422, "Invalid PullRequest: base and head must be branches")
    return base_found[1], head_found[1]


def _refuse_duplicate(repo: Repo, head: str, base: str) -> None:
    """``GetUnmergedPullRequest``: 409 when an open, unmerged pull request has the same head and base."""
    for issue in repo.issues:
        pull = issue.pull_request
        if pull and issue.state == "open" and not pull.merged and (pull.head, pull.base) == (head, base):
            raise ApiError(
                409,
                f"pull request already exists for these targets [id: {issue.id}, "
                f"issue_id: {issue.number}, head_repo_id: {repo.id}, base_repo_id: {repo.id}, "
                f"head_branch: {head}, base_branch: {base}]",
            )


async def create_pull(request: Request) -> Response:
    """``POST /pulls``: 201 PullRequest."""
    call = open_call(request)
    repo, permission, principal = call.writable_repo("repository")
    form = await bind(request, CREATE_PULL)
    head, base = form.text("head"), form.text("base")
    if head == base:
        raise ApiError(422, "Invalid PullRequest: There are no changes between the head and the base")
    head = _head_branch(repo, head)
    git_dir = call.git_dir(repo)
    async with write_lock(), ObjectReader.open(git_dir) as objects:
        base_sha, head_sha = await _branch_heads(objects, base, head)
        metadata, repo = fresh_repo(call)
        _refuse_duplicate(repo, head, base)
        wanted = set(form.items("labels"))
        metadata, repo, issue = open_issue(
            metadata,
            repo,
            user=principal.user.login,
            title=form.text("title"),
            body=form.text("body"),
            labels=[label for label in repo.labels if label.id in wanted],
            pull=PullRequest(head=head, base=base),
            when=now_text(),
        )
        if not await update_ref(git_dir, f"refs/pull/{issue.number}/head", head_sha, ZERO_SHA):
            raise ApiError(409, f"refs/pull/{issue.number}/head already exists")
        save(call, metadata)
        await issue_opened(call, metadata, repo, issue, principal.user)
    state = await pull_git_state(git_dir, base_sha, head_sha)
    return json_response(
        pull_json(call.site, metadata, repo, issue, permission, call.doer, git=state), status=201
    )
