"""Changes to issues, pull requests and comments in the metadata, as Gitea's issue services make them.

Pure functions over the immutable metadata: each returns the changed metadata (and what it made).
Issue ids and comment ids are global; issue numbers are per repository and shared with pull requests.

Example::

    metadata, repo, issue = open_issue(metadata, repo, user="aegis-bot", title="Bug", when=now_text())
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from ._store import Comment, Issue, Label, Metadata, PullRequest, Repo

__all__ = ["add_comment", "open_issue", "store_issue", "with_labels"]


def _exclusive_scope(label: Label) -> str:
    """``Label.ExclusiveScope``: ``scope`` of an exclusive ``scope/name`` label, "" otherwise."""
    scope, slash, name = label.name.rpartition("/")
    return scope if label.exclusive and slash and scope and name else ""


def with_labels(repo: Repo, issue: Issue, labels: Iterable[Label]) -> Issue:
    """``NewIssueLabels``: the repository's labels among ``labels`` added in turn; labels of other
    repositories are dropped silently, and an exclusive label replaces the issue's others of its scope."""
    own = {label.id: label for label in repo.labels}
    by_name = {label.name: label for label in repo.labels}
    names = list(issue.labels)
    for label in labels:
        if own.get(label.id) != label or label.name in names:
            continue
        scope = _exclusive_scope(label)
        if scope:
            names = [
                name for name in names if name not in by_name or _exclusive_scope(by_name[name]) != scope
            ]
        names.append(label.name)
    return issue if names == list(issue.labels) else replace(issue, labels=tuple(names))


def store_issue(metadata: Metadata, repo: Repo, issue: Issue) -> tuple[Metadata, Repo]:
    """The metadata and repository with ``issue`` saved under its number."""
    repo = repo.with_issue(issue)
    return metadata.with_repo(repo), repo


def open_issue(
    metadata: Metadata,
    repo: Repo,
    *,
    user: str,
    title: str,
    when: str,
    body: str = "",
    labels: Iterable[Label] = (),
    closed: bool = False,
    pull: PullRequest | None = None,
) -> tuple[Metadata, Repo, Issue]:
    """A new issue (a pull request with ``pull``) with the next global id and repository number."""
    issue = Issue(
        id=max((i.id for r in metadata.repos for i in r.issues), default=0) + 1,
        number=max((i.number for i in repo.issues), default=0) + 1,
        title=title,
        user=user,
        created_at=when,
        updated_at=when,
        body=body,
        state="closed" if closed else "open",
        closed_at=when if closed else None,
        pull_request=pull,
    )
    issue = with_labels(repo, issue, labels)
    metadata, repo = store_issue(metadata, repo, issue)
    return metadata, repo, issue


def add_comment(
    metadata: Metadata, repo: Repo, issue: Issue, *, user: str, body: str, when: str
) -> tuple[Metadata, Repo, Issue, Comment]:
    """A new comment on ``issue``, which counts it and is updated."""
    comment = Comment(
        id=max((c.id for c in metadata.comments), default=0) + 1,
        issue_id=issue.id,
        user=user,
        body=body,
        created_at=when,
        updated_at=when,
    )
    issue = replace(issue, comments=issue.comments + 1, updated_at=when)
    metadata, repo = store_issue(replace(metadata, comments=(*metadata.comments, comment)), repo, issue)
    return metadata, repo, issue, comment
