"""What a decision source does by asking the OPA client it has now: one definition for both sources."""

from __future__ import annotations

import abc
from collections.abc import Mapping
from typing import Any

from gateway.opa._client import Decision, DecisionClient


class Delegating(abc.ABC):
    """The decision queries of a source, each asked of `client` at the moment of the call (a managed
    source may have swapped OPAs since the last one)."""

    @property
    @abc.abstractmethod
    def client(self) -> DecisionClient:
        """The OPA client that answers now."""

    async def decide(self, opa_input: Mapping[str, Any]) -> Decision:
        return await self.client.decide(opa_input)

    async def visible_tools(self, opa_input: Mapping[str, Any]) -> frozenset[str]:
        return await self.client.visible_tools(opa_input)

    async def allowed_paths(self, opa_input: Mapping[str, Any], *, revision: str | None) -> frozenset[str]:
        return await self.client.allowed_paths(opa_input, revision=revision)

    async def allowed_repos(self, opa_input: Mapping[str, Any], *, revision: str | None) -> frozenset[str]:
        return await self.client.allowed_repos(opa_input, revision=revision)
