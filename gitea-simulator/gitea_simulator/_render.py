"""Gitea's JSON for users, repositories, labels, issues, comments and releases (``services/convert``).

Fields Gitea marshals from Go pointers or nil slices are rendered as ``null`` exactly where Gitea does.

Example::

    repo_json(site, metadata, repo, permission)
"""

from __future__ import annotations

from typing import Any, Final

from ._access import Permission
from ._store import Comment, Issue, Label, Metadata, Release, Repo, User
from ._urls import ZERO_TIME, Site, path_escape_segments

__all__ = [
    "GHOST_USER",
    "comment_json",
    "issue_html_url",
    "issue_json",
    "issue_labels",
    "label_json",
    "release_json",
    "repo_json",
    "user_json",
    "user_or_ghost",
]

GHOST_USER: Final = User(id=-1, login="Ghost", email="", full_name="")
_UNIX_EPOCH: Final = "1970-01-01T00:00:00Z"


def user_json(site: Site, user: User, doer: User | None) -> dict[str, Any]:
    """``convert.ToUser``: the e-mail for signed-in callers only; private details for the user or an admin."""
    signed = doer is not None
    authed = doer is not None and (doer.is_admin or doer.id == user.id)
    return {
        "id": user.id,
        "login": user.login,
        "login_name": "",
        "source_id": 0,
        "full_name": user.full_name,
        "email": user.email if signed and user.email else f"{user.login.lower()}@noreply.localhost",
        "avatar_url": site.avatar_url(),
        "html_url": site.user_html_url(user.login),
        "language": "",
        "is_admin": user.is_admin if authed else False,
        "last_login": user.created if authed else ZERO_TIME,
        "created": user.created,
        "restricted": False,
        "active": authed,
        "prohibit_login": False,
        "location": user.location,
        "website": user.website,
        "description": user.description,
        "visibility": "public",
        "followers_count": 0,
        "following_count": 0,
        "starred_repos_count": 0,
        "username": user.login,
    }


def user_or_ghost(metadata: Metadata, login: str) -> User:
    """The user ``login``, or Gitea's Ghost user when it no longer exists."""
    return metadata.user(login) or GHOST_USER


def repo_json(
    site: Site, metadata: Metadata, repo: Repo, permission: Permission, doer: User | None
) -> dict[str, Any]:
    """``convert.ToRepo`` for a repository with the issue tracker, wiki and pull requests enabled."""
    html_url = site.repo_html_url(repo)
    api_url = site.repo_api_url(repo)
    open_issues = sum(1 for issue in repo.issues if issue.state == "open" and not issue.is_pull)
    open_pulls = sum(1 for issue in repo.issues if issue.state == "open" and issue.is_pull)
    return {
        "id": repo.id,
        "owner": user_json(site, user_or_ghost(metadata, repo.owner), doer),
        "name": repo.name,
        "full_name": repo.full_name,
        "description": repo.description,
        "empty": repo.empty,
        "private": repo.private,
        "fork": False,
        "template": False,
        "mirror": False,
        "size": repo.size,
        "language": repo.language,
        "languages_url": f"{api_url}/languages",
        "html_url": html_url,
        "url": api_url,
        "link": "",
        "ssh_url": f"git@{site.host}:{repo.owner}/{repo.name}.git",
        "clone_url": f"{html_url}.git",
        "original_url": "",
        "website": repo.website,
        "stars_count": 0,
        "forks_count": 0,
        "watchers_count": 0,
        "open_issues_count": open_issues,
        "open_pr_counter": open_pulls,
        "release_counter": 0,
        "default_branch": repo.default_branch,
        "archived": repo.archived,
        "created_at": repo.created_at,
        "updated_at": repo.updated_at,
        "archived_at": _UNIX_EPOCH,
        "permissions": permission.to_json(),
        "has_code": True,
        "has_issues": True,
        "internal_tracker": {
            "enable_time_tracker": True,
            "allow_only_contributors_to_track_time": True,
            "enable_issue_dependencies": True,
        },
        "has_wiki": True,
        "has_pull_requests": True,
        "has_projects": True,
        "projects_mode": "all",
        "has_releases": True,
        "has_packages": True,
        "has_actions": True,
        "ignore_whitespace_conflicts": False,
        "allow_merge_commits": True,
        "allow_rebase": True,
        "allow_rebase_explicit": True,
        "allow_squash_merge": True,
        "allow_fast_forward_only_merge": True,
        "allow_rebase_update": True,
        "allow_manual_merge": False,
        "autodetect_manual_merge": False,
        "default_delete_branch_after_merge": False,
        "default_merge_style": "merge",
        "default_allow_maintainer_edit": False,
        "default_target_branch": repo.default_branch,
        "avatar_url": "",
        "internal": False,
        "mirror_interval": "",
        "object_format_name": "sha1",
        "mirror_updated": ZERO_TIME,
        "topics": [],
        "licenses": [],
    }


def label_json(site: Site, repo: Repo, label: Label) -> dict[str, Any]:
    return {
        "id": label.id,
        "name": label.name,
        "exclusive": label.exclusive,
        "is_archived": False,
        "color": label.color,
        "description": label.description,
        "url": f"{site.repo_api_url(repo)}/labels/{label.id}",
    }


def issue_labels(repo: Repo, issue: Issue) -> list[Label]:
    """The issue's labels that exist in the repository, by name (``GetLabelsByIssueID``'s order)."""
    return sorted(
        (label for label in repo.labels if label.name in issue.labels), key=lambda label: label.name
    )


def issue_html_url(site: Site, repo: Repo, issue: Issue) -> str:
    """``Issue.HTMLURL``: ``/pulls/N`` for a pull request, ``/issues/N`` otherwise."""
    return f"{site.repo_html_url(repo)}/{'pulls' if issue.is_pull else 'issues'}/{issue.number}"


def issue_json(site: Site, metadata: Metadata, repo: Repo, issue: Issue, doer: User | None) -> dict[str, Any]:
    """``convert.ToAPIIssue``: pull requests carry ``pull_request`` and link to ``/pulls/N``."""
    html_url = issue_html_url(site, repo, issue)
    pull = issue.pull_request
    return {
        "id": issue.id,
        "url": f"{site.repo_api_url(repo)}/issues/{issue.number}",
        "html_url": html_url,
        "number": issue.number,
        "user": user_json(site, user_or_ghost(metadata, issue.user), doer),
        "original_author": "",
        "original_author_id": 0,
        "title": issue.title,
        "body": issue.body,
        "ref": "",
        "assets": [],
        "labels": [label_json(site, repo, label) for label in issue_labels(repo, issue)],
        "milestone": None,
        "assignee": None,
        "assignees": None,
        "state": issue.state,
        "is_locked": issue.is_locked,
        "comments": issue.comments,
        "created_at": issue.created_at,
        "updated_at": issue.updated_at,
        "closed_at": issue.closed_at,
        "due_date": None,
        "time_estimate": 0,
        "pull_request": None
        if pull is None
        else {
            "merged": pull.merged,
            "merged_at": pull.merged_at,
            "draft": pull.draft,
            "html_url": html_url,
        },
        "repository": {"id": repo.id, "name": repo.name, "owner": repo.owner, "full_name": repo.full_name},
        "pin_order": 0,
        "content_version": issue.content_version,
    }


def comment_json(
    site: Site, metadata: Metadata, repo: Repo, issue: Issue, comment: Comment
) -> dict[str, Any]:
    """``convert.ToAPIComment``: ``issue_url`` and ``pull_request_url`` are web URLs, one of them empty."""
    html_url = issue_html_url(site, repo, issue)
    return {
        "id": comment.id,
        "html_url": f"{html_url}#issuecomment-{comment.id}",
        "pull_request_url": html_url if issue.is_pull else "",
        "issue_url": "" if issue.is_pull else html_url,
        "user": user_json(site, user_or_ghost(metadata, comment.user), None),
        "original_author": "",
        "original_author_id": 0,
        "body": comment.body,
        "assets": [],
        "created_at": comment.created_at,
        "updated_at": comment.updated_at,
    }


def release_json(site: Site, metadata: Metadata, repo: Repo, release: Release) -> dict[str, Any]:
    """``convert.ToAPIRelease`` of a release without assets; the publisher as anonymous callers see them."""
    api_url = f"{site.repo_api_url(repo)}/releases/{release.id}"
    html_url = site.repo_html_url(repo)
    tag = path_escape_segments(release.tag_name)
    return {
        "id": release.id,
        "tag_name": release.tag_name,
        "target_commitish": release.target,
        "name": release.title,
        "body": release.note,
        "url": api_url,
        "html_url": f"{html_url}/releases/tag/{tag}",
        "tarball_url": f"{html_url}/archive/{tag}.tar.gz",
        "zipball_url": f"{html_url}/archive/{tag}.zip",
        "upload_url": f"{api_url}/assets",
        "draft": release.draft,
        "prerelease": release.prerelease,
        "created_at": release.created_at,
        "published_at": release.created_at,
        "author": user_json(site, user_or_ghost(metadata, release.publisher), None),
        "assets": [],
    }
