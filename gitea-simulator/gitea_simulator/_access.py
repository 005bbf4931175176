"""Who is calling and what they may see: API tokens, token scopes and repository permissions.

Follows Gitea's API middleware: a token in ``?token=``/``?access_token=`` or ``Authorization: token|Bearer``;
an unknown token is a 401; a token without the route's scope category (at write level for a request that
changes something) is a 403 naming the scope; a repository the caller cannot read is a 404 exactly like
one that does not exist; an archived repository refuses changes with a 423.

Example::

    principal = authenticate(metadata, request.headers, request.query_params)
    require_scope(principal, "repository")
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

from ._errors import ApiError
from ._store import Metadata, Repo, User

__all__ = [
    "SCOPE_CATEGORIES",
    "Permission",
    "Principal",
    "authenticate",
    "normalize_scopes",
    "repo_permission",
    "require_scope",
    "require_signed",
    "require_unarchived",
    "token_digest",
    "visible_repo",
]

SCOPE_CATEGORIES: Final = (
    "activitypub",
    "admin",
    "misc",
    "notification",
    "organization",
    "package",
    "issue",
    "repository",
    "user",
)
_SPECIAL_SCOPES: Final = ("all", "public-only")
_BAD_TOKEN_MESSAGE: Final = "user does not exist [uid: 0, name: ]"  # noqa: S105 - an error text
_LEVELS: Final = {"read": 1, "write": 2, "admin": 3}


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalize_scopes(scopes: Iterable[str]) -> tuple[str, ...]:
    """Gitea's normalized scope list: known scopes only, write implies read, in Gitea's order."""
    given = {scope.strip() for scope in scopes if scope.strip()}
    unknown = (
        given
        - set(_SPECIAL_SCOPES)
        - {f"{level}:{c}" for level in ("read", "write") for c in SCOPE_CATEGORIES}
    )
    if unknown:
        raise ValueError(f"unknown token scopes: {sorted(unknown)}")
    result: list[str] = [scope for scope in _SPECIAL_SCOPES if scope in given]
    for category in SCOPE_CATEGORIES:
        if f"write:{category}" in given:
            result.append(f"write:{category}")
        elif f"read:{category}" in given:
            result.append(f"read:{category}")
    return tuple(result)


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller authenticated by an API token."""

    user: User
    scopes: tuple[str, ...]

    @property
    def public_only(self) -> bool:
        return "public-only" in self.scopes

    def has_scope(self, category: str, *, write: bool = False) -> bool:
        """Whether the token reaches ``category`` at read level, or at write level with ``write``."""
        if "all" in self.scopes or f"write:{category}" in self.scopes:
            return True
        return not write and f"read:{category}" in self.scopes


@dataclass(frozen=True, slots=True)
class Permission:
    admin: bool
    push: bool
    pull: bool

    def to_json(self) -> dict[str, bool]:
        return {"admin": self.admin, "push": self.push, "pull": self.pull}


def _token_from(headers: Mapping[str, str], query: Mapping[str, str]) -> str | None:
    for name in ("token", "access_token"):
        if query.get(name):
            return query[name]
    scheme, _, value = headers.get("authorization", "").strip().partition(" ")
    if scheme.lower() in ("token", "bearer") and value.strip():
        return value.strip()
    return None


def authenticate(
    metadata: Metadata, headers: Mapping[str, str], query: Mapping[str, str]
) -> Principal | None:
    """The caller behind the request's token; None for an anonymous request; 401 for an unknown token."""
    token = _token_from(headers, query)
    if token is None:
        return None
    record = metadata.token(token_digest(token))
    user = metadata.user(record.user) if record is not None else None
    if record is None or user is None:
        raise ApiError(401, _BAD_TOKEN_MESSAGE)
    return Principal(user=user, scopes=record.scopes)


def require_signed(principal: Principal | None) -> Principal:
    if principal is None:
        raise ApiError(401, "token is required")
    return principal


def require_scope(principal: Principal | None, *categories: str, write: bool = False) -> None:
    """Gitea's ``tokenRequiresScopes``: read (or write) on every category; write on all of them for a
    request that changes something (POST, PUT, PATCH, DELETE)."""
    if principal is None:
        return
    missing = [category for category in categories if not principal.has_scope(category, write=write)]
    if missing:
        level = "write" if write else "read"
        required = " ".join(f"{level}:{category}" for category in categories)
        raise ApiError(
            403,
            f"token does not have at least one of required scope(s), required=[{required}], "
            f"token scope={','.join(principal.scopes)}",
        )


def repo_permission(repo: Repo, principal: Principal | None) -> Permission | None:
    """The caller's access to ``repo``, or None when the repository must look nonexistent to them."""
    level = 0
    if principal is not None:
        user = principal.user
        if user.is_admin or user.login.lower() == repo.owner.lower():
            level = _LEVELS["admin"]
        else:
            collaborators = {login.lower(): mode for login, mode in repo.collaborators.items()}
            level = _LEVELS.get(collaborators.get(user.login.lower(), ""), 0)
    if not repo.private:
        level = max(level, _LEVELS["read"])
    if level == 0:
        return None
    return Permission(admin=level >= _LEVELS["admin"], push=level >= _LEVELS["write"], pull=True)


def visible_repo(
    metadata: Metadata, owner: str, name: str, principal: Principal | None, category: str
) -> Repo:
    """Gitea's ``repoAssignment`` + ``checkTokenPublicOnly``: the repository, or 404 (403 for public-only)."""
    repo = metadata.repo(owner, name)
    if repo is None or metadata.user(repo.owner) is None:
        raise ApiError.not_found()
    if repo_permission(repo, principal) is None:
        raise ApiError.not_found()
    if repo.private and principal is not None and principal.public_only:
        noun = "issues" if category == "issue" else "repos"
        raise ApiError(403, f"token scope is limited to public {noun}")
    return repo


def require_unarchived(repo: Repo) -> None:
    """Gitea's ``mustNotBeArchived``: 423 with the repository's log string."""
    if repo.archived:
        raise ApiError(423, f"<Repository {repo.id}:{repo.owner}/{repo.name}> is archived")
