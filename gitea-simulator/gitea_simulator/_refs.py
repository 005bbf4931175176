"""Turning a ref given by a client into a commit, with Gitea's rules for each kind of endpoint.

- ``resolve_ref_commit`` (contents): a branch, else a tag, else a full commit id; anything else is 404.
- ``resolve_legacy_ref`` (raw): ``{ref}/{path}`` or ``?ref=``; a ref that matches nothing falls back to
  the default branch, as Gitea's ``getRefNameLegacy`` does.
- ``resolve_revision`` (compare): a branch, else a tag, else any revision git resolves; None otherwise.

Example::

    ref = await resolve_ref_commit(objects, "feature/login")
    ref.web_link_path   # "branch/feature/login"
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from ._errors import ApiError
from ._git import Commit, ObjectReader
from ._paths import go_path_clean
from ._urls import path_escape_segments

__all__ = [
    "RefCommit",
    "is_commit_id",
    "is_valid_ref_pattern",
    "resolve_legacy_ref",
    "resolve_ref_commit",
    "resolve_revision",
]

# Gitea's refNamePatternInvalid (modules/git/ref.go).
_INVALID_REF: Final = re.compile(
    r"[\000-\037\177 \\~^:?*\[]|^[/.]|/\.|\.lock$|\.lock/|\.\.|//|@\{|[/.]$|^@$",
)
_COMMIT_ID: Final = re.compile(r"^[0-9a-fA-F]{40}$")


def is_valid_ref_pattern(name: str) -> bool:
    return bool(name) and not _INVALID_REF.search(name)


def is_commit_id(name: str) -> bool:
    """Gitea's ``IsStringLikelyCommitID`` with its default minimum: a full SHA-1 in hex."""
    return bool(_COMMIT_ID.match(name))


@dataclass(frozen=True, slots=True)
class RefCommit:
    input_ref: str
    kind: str  # branch | tag | commit
    name: str
    commit: Commit

    @property
    def web_link_path(self) -> str:
        """Gitea's ``RefName.RefWebLinkPath``: ``branch/<name>``, ``tag/<name>`` or ``commit/<id>``."""
        return f"{self.kind}/{path_escape_segments(self.name)}"


_REF_KINDS: Final = (("branch", "refs/heads/"), ("tag", "refs/tags/"))


async def _ref_commit(objects: ObjectReader, prefix: str, name: str) -> Commit | None:
    return await objects.commit(prefix + name) if is_valid_ref_pattern(name) else None


async def resolve_ref_commit(objects: ObjectReader, ref: str) -> RefCommit:
    """Gitea's ``utils.ResolveRefCommit``: 404 ``object does not exist`` for anything unknown."""
    for kind, prefix in _REF_KINDS:
        commit = await _ref_commit(objects, prefix, ref)
        if commit is not None:
            return RefCommit(input_ref=ref, kind=kind, name=ref, commit=commit)
    if is_commit_id(ref):
        commit = await objects.commit(ref.lower())
        if commit is not None:
            return RefCommit(input_ref=ref, kind="commit", name=commit.sha, commit=commit)
    raise ApiError.not_found(errors=[f"object does not exist [id: {ref}, rel_path: ]"])


async def resolve_revision(objects: ObjectReader, name: str) -> Commit | None:
    """Gitea's ``detectFullRef``: a branch, else a tag, else whatever ``git rev-parse`` makes of ``name``."""
    for _, prefix in _REF_KINDS:
        commit = await _ref_commit(objects, prefix, name)
        if commit is not None:
            return commit
    return await objects.commit(name)


async def resolve_legacy_ref(
    objects: ObjectReader, path: str, ref: str, default_branch: str
) -> tuple[RefCommit, str]:
    """Gitea's ``getRefNameLegacy`` + ``RepoRefForAPI``: the ref and the tree path left after it."""
    joined = go_path_clean("/".join(part for part in (ref, path) if part))
    parts = [] if joined == "." else joined.split("/")
    for kind, prefix in _REF_KINDS:
        for index in range(len(parts)):
            name = "/".join(parts[: index + 1])
            commit = await _ref_commit(objects, prefix, name)
            if commit is not None:
                return RefCommit(ref, kind, name, commit), "/".join(parts[index + 1 :])
    if parts and is_commit_id(parts[0]):
        commit = await objects.commit(parts[0].lower())
        if commit is None:
            raise ApiError.not_found("unable to find a git ref")
        return RefCommit(ref, "commit", commit.sha, commit), "/".join(parts[1:])
    commit = await objects.commit(f"refs/heads/{default_branch}")
    if commit is None:
        raise ApiError.not_found("unable to find a git ref")
    return RefCommit(default_branch, "branch", default_branch, commit), path
