"""Gitea's JSON for git data: commits, branches, tags, changed files, contents entries, file-change commits
(``services/convert``, ``services/repository/files``).

Example::

    commit_json(site, metadata, repo, commit, options=CommitOptions(), changes=None)
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Final

from ._access import Permission
from ._git import Commit, FileChange, Signature, TagInfo, TreeEntry
from ._refs import RefCommit
from ._render import user_json
from ._store import Metadata, Repo
from ._urls import ZERO_TIME, Site, format_time, path_escape, path_escape_segments, query_escape

__all__ = [
    "MAX_BLOB_SIZE",
    "UNSIGNED",
    "CommitOptions",
    "branch_json",
    "changed_file_json",
    "commit_json",
    "contents_json",
    "file_commit_json",
    "payload_user",
    "tag_json",
]

MAX_BLOB_SIZE: Final = 10 * 1024 * 1024  # setting.API.DefaultMaxBlobSize
UNSIGNED: Final = {
    "verified": False,
    "reason": "gpg.error.not_signed_commit",
    "signature": "",
    "signer": None,
    "payload": "",
}


@dataclass(frozen=True, slots=True)
class CommitOptions:
    """``convert.ParseCommitOptions``: each part is included unless its query flag is false."""

    stat: bool = True
    files: bool = True
    verification: bool = True


def _commit_user(signature: Signature) -> dict[str, str]:
    return {"name": signature.name, "email": signature.email, "date": format_time(signature.when)}


def commit_json(
    site: Site,
    metadata: Metadata,
    repo: Repo,
    commit: Commit,
    *,
    options: CommitOptions,
    changes: list[FileChange] | None,
) -> dict[str, Any]:
    """``convert.ToCommit``; ``changes`` is required when files or stats are asked for."""
    api_url = site.repo_api_url(repo)
    commit_url = f"{api_url}/git/commits/{path_escape(commit.sha)}"
    created = format_time(commit.committer.when)
    author = metadata.user_by_email(commit.author.email) if commit.author.email else None
    committer = metadata.user_by_email(commit.committer.email) if commit.committer.email else None
    files = stats = None
    if changes is not None and options.files:
        order = {"added": 0, "removed": 1, "modified": 2}
        files = [
            {"filename": change.path, "status": change.status}
            for change in sorted(changes, key=lambda change: order[change.status])
        ]
    if changes is not None and options.stat:
        additions = sum(change.additions for change in changes)
        deletions = sum(change.deletions for change in changes)
        stats = {"total": additions + deletions, "additions": additions, "deletions": deletions}
    return {
        "url": commit_url,
        "sha": commit.sha,
        "created": created,
        "html_url": f"{site.repo_html_url(repo)}/commit/{path_escape(commit.sha)}",
        "commit": {
            "url": commit_url,
            "author": _commit_user(commit.author),
            "committer": _commit_user(commit.committer),
            "message": commit.message,
            "tree": {
                "url": f"{api_url}/git/trees/{path_escape(commit.sha)}",
                "sha": commit.sha,
                "created": created,
            },
            "verification": dict(UNSIGNED) if options.verification else None,
        },
        "author": user_json(site, author, None) if author else None,
        "committer": user_json(site, committer, None) if committer else None,
        "parents": [
            {"url": f"{api_url}/git/commits/{parent}", "sha": parent, "created": ZERO_TIME}
            for parent in commit.parents
        ],
        "files": files,
        "stats": stats,
    }


def file_commit_json(site: Site, repo: Repo, commit: Commit) -> dict[str, Any]:
    """``files.GetFileCommitResponse``: dates in UTC, ``created`` left at Go's zero time everywhere."""
    api_url = site.repo_api_url(repo)

    def user(signature: Signature) -> dict[str, str]:
        return {
            "name": signature.name,
            "email": signature.email,
            "date": format_time(signature.when.astimezone(UTC)),
        }

    return {
        "url": f"{api_url}/git/commits/{path_escape(commit.sha)}",
        "sha": commit.sha,
        "created": ZERO_TIME,
        "html_url": f"{site.repo_html_url(repo)}/commit/{path_escape(commit.sha)}",
        "author": user(commit.author),
        "committer": user(commit.committer),
        "parents": [
            {"url": f"{api_url}/git/commits/{path_escape(parent)}", "sha": parent, "created": ZERO_TIME}
            for parent in commit.parents
        ],
        "message": commit.message,
        "tree": {
            "url": f"{api_url}/git/trees/{path_escape(commit.tree)}",
            "sha": commit.tree,
            "created": ZERO_TIME,
        },
    }


def payload_user(metadata: Metadata, signature: Signature) -> dict[str, str]:
    """``api.PayloadUser``: the signature's name and e-mail, and the login of the user with that e-mail."""
    user = metadata.user_by_email(signature.email) if signature.email else None
    return {"name": signature.name, "email": signature.email, "username": user.login if user else ""}


def branch_json(
    site: Site, metadata: Metadata, repo: Repo, name: str, commit: Commit, permission: Permission
) -> dict[str, Any]:
    """``convert.ToBranch`` for an unprotected branch, with ``convert.ToPayloadCommit`` as its commit."""
    return {
        "name": name,
        "commit": {
            "id": commit.sha,
            "message": commit.message,
            "url": f"{site.repo_html_url(repo)}/commit/{commit.sha}",
            "author": payload_user(metadata, commit.author),
            "committer": payload_user(metadata, commit.committer),
            "verification": dict(UNSIGNED),
            "timestamp": format_time(commit.author.when),
            "added": None,
            "removed": None,
            "modified": None,
        },
        "protected": False,
        "required_approvals": 0,
        "enable_status_check": False,
        "status_check_contexts": [],
        "user_can_push": permission.push,
        "user_can_merge": permission.push,
        "effective_branch_protection_name": "",
    }


def tag_json(site: Site, repo: Repo, tag: TagInfo) -> dict[str, Any]:
    """``convert.ToTag``; as in Gitea, ``commit.url`` names the tag object, not the commit."""
    html_url = site.repo_html_url(repo)
    return {
        "name": tag.name,
        "message": tag.message.strip(),
        "id": tag.sha,
        "commit": {
            "url": f"{site.repo_api_url(repo)}/git/commits/{tag.sha}",
            "sha": tag.commit,
            "created": format_time(tag.tagger.when),
        },
        "zipball_url": f"{html_url}/archive/{path_escape(tag.name + '.zip')}",
        "tarball_url": f"{html_url}/archive/{path_escape(tag.name + '.tar.gz')}",
    }


def _changed_status(change: FileChange) -> str:
    """``convert.ToChangedFile``'s status word."""
    words = {"D": "deleted", "A": "added", "C": "copied", "R": "renamed"}
    if change.code in words:
        return words[change.code]
    return "unchanged" if change.additions == 0 and change.deletions == 0 else "changed"


def changed_file_json(site: Site, repo: Repo, change: FileChange, commit: str) -> dict[str, Any]:
    """``convert.ToChangedFile``: a file of a pull request's diff, linked at the head ``commit``."""
    escaped = path_escape_segments(change.path)
    html_url = site.repo_html_url(repo)
    return {
        "filename": change.path,
        "previous_filename": change.previous_path if change.code == "R" else "",
        "status": _changed_status(change),
        "additions": change.additions,
        "deletions": change.deletions,
        "changes": change.additions + change.deletions,
        "html_url": f"{html_url}/src/commit/{commit}/{escaped}",
        "contents_url": f"{site.repo_api_url(repo)}/contents/{escaped}?ref={commit}",
        "raw_url": f"{html_url}/raw/commit/{commit}/{escaped}",
    }


def _content_type(entry: TreeEntry) -> str:
    if entry.is_dir:
        return "dir"
    if entry.is_submodule:
        return "submodule"
    if entry.is_symlink:
        return "symlink"
    return "file"


def contents_json(
    site: Site,
    repo: Repo,
    ref: RefCommit,
    path: str,
    entry: TreeEntry,
    *,
    last_commit: Commit | None,
    last_message: str | None = None,
    content: bytes | None = None,
    target: str | None = None,
    submodule_url: str | None = None,
) -> dict[str, Any]:
    """``files.getFileContentsByEntryInternal``: ``content`` only for a single file; the last commit's
    metadata and message only when given (``IncludeCommitMetadata``, ``IncludeCommitMessage``)."""
    api_url = site.repo_api_url(repo)
    html_base = site.repo_html_url(repo)
    escaped = path_escape_segments(path)
    self_url = f"{api_url}/contents/{escaped}?ref={query_escape(ref.input_ref)}"
    kind = _content_type(entry)
    html_url = git_url = download_url = None
    if kind != "submodule":
        html_url = f"{html_base}/src/{ref.web_link_path}/{escaped}"
        git_url = f"{api_url}/git/blobs/{path_escape(entry.sha)}"
    if kind in ("file", "symlink"):
        download_url = f"{html_base}/raw/{ref.web_link_path}/{escaped}"
    encoded = None
    if kind == "file" and content is not None and entry.size <= MAX_BLOB_SIZE:
        encoded = base64.b64encode(content).decode("ascii")
    result: dict[str, Any] = {"name": entry.name.rsplit("/", 1)[-1], "path": path, "sha": entry.sha}
    if last_commit is not None:
        result["last_commit_sha"] = last_commit.sha
        result["last_committer_date"] = format_time(last_commit.committer.when)
        result["last_author_date"] = format_time(last_commit.author.when)
    if last_message is not None:
        result["last_commit_message"] = last_message
    result.update(
        {
            "type": kind,
            "size": entry.size,
            "encoding": "base64" if encoded is not None else None,
            "content": encoded,
            "target": target if kind == "symlink" else None,
            "url": self_url,
            "html_url": html_url,
            "git_url": git_url,
            "download_url": download_url,
            "submodule_git_url": submodule_url if kind == "submodule" else None,
            "_links": {"self": self_url, "git": git_url, "html": html_url},
        }
    )
    return result
