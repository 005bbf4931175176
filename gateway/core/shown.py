"""Path policy inside results: the paths a tool's result would show are shown only where OPA allows the
same call on that path, so that no listing, search or diff becomes a side door around path rules.

Paths in results come from Gitea, not from the agent: git keeps whatever bytes were committed (a macOS
client commits NFD names, which an NFC glob would not match). So a result path is held to the rules of a
path argument first, and one that is not already in their normal form is withheld without asking OPA.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol

from gateway.core.normalize import normalize_path
from gateway.errors import InvalidToolCall


class PathDecider(Protocol):
    async def allowed_paths(
        self, opa_input: Mapping[str, Any], *, revision: str | None
    ) -> frozenset[str]: ...


class ResultPaths:
    """The PathFilter of one allowed call: each batch of paths is one OPA query, made with the input that
    allowed the call and answered by the same bundle (else PathsUndecided, and the call is denied)."""

    def __init__(self, decider: PathDecider, call_input: Mapping[str, Any], revision: str | None) -> None:
        self._decider = decider
        self._input = call_input
        self._revision = revision

    async def allowed(self, paths: Collection[str]) -> frozenset[str]:
        normal = [path for path in dict.fromkeys(paths) if _is_normal(path)]
        if not normal:
            return frozenset()
        return await self._decider.allowed_paths({**self._input, "paths": normal}, revision=self._revision)


def _is_normal(path: str) -> bool:
    """The path is one a path argument could be after normalization (NFC, relative, no climbing, no
    invisible, look-alike, URL or revision characters), exactly as it is."""
    try:
        return normalize_path("path", path) == path
    except InvalidToolCall:
        return False
