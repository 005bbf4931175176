"""Validation of the names a policy refers to: tools, Gitea repositories (exact or glob), roles
and principals (API key names)."""

from __future__ import annotations

import re

__all__ = [
    "is_repository_glob",
    "normalize_repository",
    "principal_name_problem",
    "repository_example",
    "repository_owner",
    "repository_pattern_problem",
    "repository_problem",
    "repository_regex",
    "role_name_problem",
    "tool_name_problem",
]

_TOOL_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}", re.ASCII)
# Gitea's character set for owner and repository names; '.' and '..' are never names.
_OWNER = re.compile(r"[A-Za-z0-9_.-]{1,40}", re.ASCII)
_REPO = re.compile(r"[A-Za-z0-9_.-]{1,100}", re.ASCII)
_OWNER_GLOB = re.compile(r"[A-Za-z0-9_.*?-]{1,40}", re.ASCII)
_REPO_GLOB = re.compile(r"[A-Za-z0-9_.*?-]{1,100}", re.ASCII)
_DOTS = frozenset({".", ".."})
_GLOB_CHARACTERS = "letters, digits, '_', '-', '.', '*' or '?'"
_WILDCARDS = frozenset("*?")
# The gateway's API key names (gateway/edge/keys/_model.py): a principal is named by its key, or an
# automation job by `automation:<job>` (no key name holds a ':', so no key can pass for a job).
_PRINCIPAL = re.compile(r"(?:automation:)?[a-z0-9][a-z0-9._-]{0,63}", re.ASCII)
_ROLE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}", re.ASCII)


def tool_name_problem(name: str) -> str | None:
    """Why `name` is not a valid tool name (MCP: 1 to 128 of A-Z a-z 0-9 _ - .), or None."""
    if _TOOL_NAME.fullmatch(name):
        return None
    return f"invalid tool name {name!r}: use 1 to 128 letters, digits, '_', '-' or '.'"


def repository_problem(name: str) -> str | None:
    """Why `name` is not an exact `owner/repo` Gitea repository name, or None."""
    parts = name.split("/")
    if len(parts) != 2:
        return f"invalid repository {name!r}: expected exactly 'owner/repo' (no wildcards, no URL)"
    owner, repo = parts
    if not _OWNER.fullmatch(owner) or owner in _DOTS:
        return f"invalid repository {name!r}: the owner must be 1 to 40 letters, digits, '_', '-' or '.'"
    if not _REPO.fullmatch(repo) or repo in _DOTS:
        return f"invalid repository {name!r}: the name must be 1 to 100 letters, digits, '_', '-' or '.'"
    return None


def is_repository_glob(name: str) -> bool:
    """Whether `name` uses a wildcard ('*' or '?')."""
    return not _WILDCARDS.isdisjoint(name)


def repository_pattern_problem(name: str) -> str | None:
    """Why `name` is neither an exact `owner/repo` nor a repository glob, or None.

    In a glob, '*' matches any run of characters and '?' one character, never '/': `acme/*`,
    `*/docs`, `acme/app-?`.
    """
    if not is_repository_glob(name):
        if len(name.split("/")) != 2:
            return f"invalid repository {name!r}: expected 'owner/repo' or a glob such as 'acme/*' (no URL)"
        return repository_problem(name)
    parts = name.split("/")
    if len(parts) != 2:
        return f"invalid repository glob {name!r}: expected 'owner/repo', either part may use '*' and '?'"
    if "**" in name:
        return f"invalid repository glob {name!r}: '**' has no meaning in repository names; use '*'"
    owner, repo = parts
    if not _OWNER_GLOB.fullmatch(owner) or owner in _DOTS:
        return f"invalid repository glob {name!r}: the owner must be 1 to 40 {_GLOB_CHARACTERS}"
    if not _REPO_GLOB.fullmatch(repo) or repo in _DOTS:
        return f"invalid repository glob {name!r}: the name must be 1 to 100 {_GLOB_CHARACTERS}"
    return None


def normalize_repository(name: str) -> str:
    """Repository names are case-insensitive in Gitea: the policy compares them lower-cased."""
    return name.lower()


def repository_regex(pattern: str) -> str:
    """The anchored regular expression of a (lower-cased) repository glob: '*' is `[^/]*`, '?' `[^/]`."""
    out = []
    for char in normalize_repository(pattern):
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char in "._-/" or char.isalnum():
            out.append("\\" + char if char == "." else char)
        else:  # pragma: no cover - rejected by repository_pattern_problem
            raise ValueError(f"unexpected character {char!r} in repository glob {pattern!r}")
    return "(?s)^" + "".join(out) + "$"


def repository_owner(pattern: str) -> str | None:
    """The literal owner of a repository name or glob (lower-cased), None when it has a wildcard."""
    owner = normalize_repository(pattern).split("/", 1)[0]
    return None if is_repository_glob(owner) else owner


def repository_example(pattern: str) -> str:
    """One concrete repository name the (lower-cased) pattern matches: each wildcard becomes 'x'."""
    return re.sub(r"[*?]+", "x", normalize_repository(pattern))


def principal_name_problem(name: str) -> str | None:
    """Why `name` is neither an API key name nor `automation:<job>` (the principal's id), or None."""
    if _PRINCIPAL.fullmatch(name):
        return None
    return (
        f"invalid principal {name!r}: principals are API key names, 1 to 64 of a-z 0-9 '.' '_' '-' "
        "starting with a letter or digit, or automation:<job> with a job named alike"
    )


def role_name_problem(name: str) -> str | None:
    """Why `name` is not a valid role name, or None."""
    if _ROLE.fullmatch(name):
        return None
    return (
        f"invalid role name {name!r}: use 1 to 64 letters, digits, '.', '_' or '-', "
        "starting with a letter or digit"
    )
