"""Path policy inside results: the paths a tool's result would show are shown only where OPA allows the
same call on that path, so that no listing, search or diff becomes a side door around path rules."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, Protocol


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
        unique = list(dict.fromkeys(paths))
        if not unique:
            return frozenset()
        return await self._decider.allowed_paths({**self._input, "paths": unique}, revision=self._revision)
