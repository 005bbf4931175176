"""Validation of the names a policy refers to: tools and Gitea repositories."""

from __future__ import annotations

import re

__all__ = ["normalize_repository", "repository_problem", "tool_name_problem"]

_TOOL_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}", re.ASCII)
# Gitea's character set for owner and repository names; '.' and '..' are never names.
_OWNER = re.compile(r"[A-Za-z0-9_.-]{1,40}", re.ASCII)
_REPO = re.compile(r"[A-Za-z0-9_.-]{1,100}", re.ASCII)
_DOTS = frozenset({".", ".."})


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


def normalize_repository(name: str) -> str:
    """Repository names are case-insensitive in Gitea: the policy compares them lower-cased."""
    return name.lower()
