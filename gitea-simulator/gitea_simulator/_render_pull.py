"""Gitea's JSON for a pull request (``convert.ToAPIPullRequest``) of a same-repository pull request.

Example::

    pull_json(site, metadata, repo, issue, permission, doer, git=PullGitState(...))
"""

from __future__ import annotations

from typing import Any

from ._access import Permission
from ._pull_git import PullGitState
from ._render import issue_json, repo_json
from ._store import Issue, Metadata, Repo, User
from ._urls import Site

__all__ = ["pull_json"]


def pull_json(
    site: Site,
    metadata: Metadata,
    repo: Repo,
    issue: Issue,
    permission: Permission,
    doer: User | None,
    *,
    git: PullGitState,
) -> dict[str, Any]:
    """The pull request ``issue`` (its ``pull_request`` set); the issue id doubles as the pull request id."""
    pull = issue.pull_request
    assert pull is not None
    document = issue_json(site, metadata, repo, issue, doer)
    repository = repo_json(site, metadata, repo, permission, doer)
    html_url = document["html_url"]
    return {
        "id": issue.id,
        "url": html_url,
        "number": issue.number,
        "user": document["user"],
        "title": issue.title,
        "body": issue.body,
        "labels": document["labels"],
        "milestone": None,
        "assignee": None,
        "assignees": [],
        "requested_reviewers": [],
        "requested_reviewers_teams": [],
        "state": issue.state,
        "draft": pull.draft,
        "is_locked": issue.is_locked,
        "comments": issue.comments,
        "review_comments": 0,
        "additions": git.stat.additions,
        "deletions": git.stat.deletions,
        "changed_files": git.stat.files,
        "html_url": html_url,
        "diff_url": f"{html_url}.diff",
        "patch_url": f"{html_url}.patch",
        "mergeable": git.mergeable and not pull.draft,
        "merged": pull.merged,
        "merged_at": pull.merged_at,
        "merge_commit_sha": None,
        "merged_by": None,
        "allow_maintainer_edit": False,
        "base": {
            "label": pull.base,
            "ref": pull.base,
            "sha": git.base_sha,
            "repo_id": repo.id,
            "repo": repository,
        },
        "head": {
            "label": pull.head,
            "ref": pull.head,
            "sha": git.head_sha,
            "repo_id": repo.id,
            "repo": repository,
        },
        "merge_base": git.merge_base,
        "due_date": None,
        "created_at": issue.created_at,
        "updated_at": issue.updated_at,
        "closed_at": issue.closed_at,
        "pin_order": 0,
        "content_version": issue.content_version,
    }
