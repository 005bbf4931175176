"""What the result of an allowed call may show: the paths a tool's result would show are shown only where
OPA allows the same call on that path, and the repositories a call without a repository would show only
where OPA allows the same call on that repository, so that no listing, search or diff becomes a side door
around path or repository rules.

Paths and names in results come from Gitea, not from the agent: git keeps whatever bytes were committed (a
macOS client commits NFD names, which an NFC glob would not match), and Gitea spells names as they were
created. So a result path is held to the rules of a path argument first, and one that is not already in
their normal form is withheld without asking OPA; a repository name is compared lower-cased, as OPA sees
every repository.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol

from gateway.core.normalize import normalize_name, normalize_path
from gateway.errors import InvalidToolCall


class ShownDecider(Protocol):
    async def allowed_paths(
        self, opa_input: Mapping[str, Any], *, revision: str | None
    ) -> frozenset[str]: ...

    async def allowed_repos(
        self, opa_input: Mapping[str, Any], *, revision: str | None
    ) -> frozenset[str]: ...


class _ResultFilter:
    """Each batch of items is one OPA query, made with the input that allowed the call and answered by the
    same bundle (else ResultUndecided, and the call is denied)."""

    def __init__(self, decider: ShownDecider, call_input: Mapping[str, Any], revision: str | None) -> None:
        self._decider = decider
        self._input = call_input
        self._revision = revision


class ResultPaths(_ResultFilter):
    """The filter of the paths an allowed call may show (`ToolCall.paths`)."""

    async def allowed(self, names: Collection[str]) -> frozenset[str]:
        normal = [path for path in dict.fromkeys(names) if _is_normal_path(path)]
        if not normal:
            return frozenset()
        return await self._decider.allowed_paths({**self._input, "paths": normal}, revision=self._revision)


class ResultRepos(_ResultFilter):
    """The filter of the repositories an allowed call without one may show (`ToolCall.repos`): names are
    `owner/name` as Gitea spells them, and the allowed ones come back in the same spelling."""

    async def allowed(self, names: Collection[str]) -> frozenset[str]:
        lowered = {repo: repo.lower() for repo in dict.fromkeys(names) if _is_repository(repo)}
        if not lowered:
            return frozenset()
        query = {**self._input, "repos": list(dict.fromkeys(lowered.values()))}
        allowed = await self._decider.allowed_repos(query, revision=self._revision)
        return frozenset(repo for repo, name in lowered.items() if name in allowed)


def _is_normal_path(path: str) -> bool:
    """The path is one a path argument could be after normalization (NFC, relative, no climbing, no
    invisible, look-alike, URL or revision characters), exactly as it is."""
    try:
        return normalize_path("path", path) == path
    except InvalidToolCall:
        return False


def _is_repository(repo: str) -> bool:
    """`owner/name` whose parts are valid owner and repository names."""
    owner, slash, name = repo.partition("/")
    try:
        normalize_name("owner", owner)
        normalize_name("repo", name)
    except InvalidToolCall:
        return False
    return bool(slash)
