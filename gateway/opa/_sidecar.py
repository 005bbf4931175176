"""Decisions from an OPA run beside the gateway (a sidecar), whose bundle the gateway verifies once per
revision before it trusts a decision of it."""

from __future__ import annotations

from gateway.observability.metrics import Metrics
from gateway.opa._client import DecisionClient
from gateway.opa._delegating import Delegating


class SidecarSource(Delegating):
    """Example:
    source = SidecarSource(url="http://127.0.0.1:8181", timeout_s=2, metrics=metrics)
    ready = await source.refresh()
    """

    def __init__(self, *, url: str, timeout_s: float, metrics: Metrics) -> None:
        self._client = DecisionClient(base_url=url, timeout_s=timeout_s, metrics=metrics)
        self._verified_revision: str | None = None
        self.revision = "unknown"

    @property
    def client(self) -> DecisionClient:
        return self._client

    async def start(self) -> None:
        """Nothing to start: the sidecar runs on its own; readiness says whether it serves."""

    async def stop(self) -> None:
        await self._client.aclose()

    async def refresh(self) -> bool:
        """Ready when the sidecar serves bundles whose policy verified (again whenever a revision changes)."""
        if not await self._client.is_ready():
            return False
        revisions = await self._client.bundle_revisions()
        if not revisions:
            return False
        self.revision = ",".join(f"{name}={rev}" for name, rev in sorted(revisions.items()))
        if self._verified_revision != self.revision:
            self._verified_revision = self.revision if await self._client.verify_policy() else None
        return self._verified_revision == self.revision
