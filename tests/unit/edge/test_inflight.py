"""The in-flight cap and each key's share of it, in process: requests held open by an app that waits."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.types import Message, Receive, Scope, Send

from gateway.audit import AuditLog
from gateway.edge.events import SecurityEvents
from gateway.edge.inflight import InFlightLimitMiddleware
from gateway.observability.metrics import Metrics
from gateway.vocabulary import PRINCIPAL_STATE_KEY, Principal


class Held:
    """An app that answers 200 once released."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.entered = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.entered += 1
        await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditLog]:
    log = AuditLog.open(tmp_path / "audit.jsonl", fsync=False)
    yield log
    log.close()


def scope_of(key: str) -> Scope:
    principal = Principal(id=key, kind="api_key", scopes=("tools:read",))
    return {
        "type": "http",
        "path": "/mcp",
        "headers": [],
        "client": ("127.0.0.1", 1),
        "state": {PRINCIPAL_STATE_KEY: principal},
    }


async def call(app: InFlightLimitMiddleware, key: str) -> int:
    statuses: list[int] = []

    async def receive() -> Message:
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    await app(scope_of(key), receive, send)
    return statuses[0]


async def test_a_key_over_its_share_is_refused_while_others_still_pass(audit: AuditLog) -> None:
    held = Held()
    app = InFlightLimitMiddleware(
        held,
        max_in_flight=4,
        max_per_key=2,
        events=SecurityEvents(audit=audit, metrics=Metrics.create()),
        metrics=Metrics.create(),
        protected=("/mcp",),
    )
    greedy = [asyncio.create_task(call(app, "greedy")) for _ in range(2)]
    await asyncio.sleep(0)
    assert await call(app, "greedy") == 503  # answered at once: over its share
    other = [asyncio.create_task(call(app, "other")) for _ in range(2)]
    await asyncio.sleep(0)
    assert held.entered == 4
    assert await call(app, "third") == 503  # the whole cap is taken
    held.release.set()
    assert await asyncio.gather(*greedy, *other) == [200] * 4
    assert await call(app, "greedy") == 200  # the share is given back when a call ends
