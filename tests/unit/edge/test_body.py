"""The body deadline in process: a body that does not come in time is 408 with the connection closed, one
too large is 413, and a complete one reaches the app whole, in one message."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.types import Message, Receive, Scope, Send

from gateway.audit import AuditLog
from gateway.edge.body import BodyDeadlineMiddleware
from gateway.edge.events import SecurityEvents
from gateway.observability.metrics import Metrics
from gateway.vocabulary import PRINCIPAL_STATE_KEY, Principal

SCOPE: Scope = {
    "type": "http",
    "path": "/mcp",
    "headers": [],
    "client": ("127.0.0.1", 1),
    "state": {PRINCIPAL_STATE_KEY: Principal(id="agent", kind="api_key", scopes=("tools:read",))},
}


@pytest.fixture
def audit(tmp_path: Path) -> Iterator[AuditLog]:
    log = AuditLog.open(tmp_path / "audit.jsonl", fsync=False)
    yield log
    log.close()


def chunks_then_silence(*chunks: bytes) -> Receive:
    """The body in `chunks`, more announced after the last one, which never comes."""
    pending = [{"type": "http.request", "body": chunk, "more_body": True} for chunk in chunks]

    async def receive() -> Message:
        if pending:
            return pending.pop(0)
        await asyncio.Event().wait()
        raise AssertionError("unreachable")

    return receive


async def run(audit: AuditLog, receive: Receive) -> tuple[list[Message], list[bytes]]:
    seen: list[bytes] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((await receive())["body"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    sent: list[Message] = []

    async def send(message: Message) -> None:
        sent.append(message)

    middleware = BodyDeadlineMiddleware(
        app,
        timeout_s=0.05,
        max_bytes=10,
        events=SecurityEvents(audit=audit, metrics=Metrics.create()),
        protected=("/mcp",),
    )
    await middleware(dict(SCOPE), receive, send)
    return sent, seen


async def test_a_body_that_does_not_come_in_time_is_408_and_closes(audit: AuditLog) -> None:
    sent, seen = await run(audit, chunks_then_silence(b"{", b'"a'))
    assert (sent[0]["status"], seen) == (408, [])
    assert (b"connection", b"close") in sent[0]["headers"]
    [entry] = [json.loads(line) for line in audit.path.read_text().splitlines()]
    assert (entry["event"], entry["principal"]) == ("body_timeout", "agent")


async def test_a_body_over_the_bound_is_413_and_closes(audit: AuditLog) -> None:
    sent, seen = await run(audit, chunks_then_silence(b"12345", b"678901"))
    assert (sent[0]["status"], seen) == (413, [])
    assert (b"connection", b"close") in sent[0]["headers"]


async def test_a_complete_body_reaches_the_app_in_one_message(audit: AuditLog) -> None:
    parts = [
        {"type": "http.request", "body": b"12", "more_body": True},
        {"type": "http.request", "body": b"34"},
    ]

    async def receive() -> Message:
        return parts.pop(0)

    sent, seen = await run(audit, receive)
    assert (sent[0]["status"], seen) == (200, [b"1234"])
