"""Coverage-guided fuzzing of the whole /mcp endpoint in process: McpEndpoint over the real ToolService
(schema validation, normalization, the audit entry) with a policy stand-in that denies every call, so
nothing leaves the process.

Run it from the repository root (fuzz/README.md has the rest):

    mkdir -p var/fuzz/endpoint
    .venv/bin/python fuzz/fuzz_endpoint.py var/fuzz/endpoint fuzz/seeds -dict=fuzz/jsonrpc.dict

An input is the body of a POST with a good client's headers (the HTTP suite in tests/fuzz abuses the
headers). A finding is an exception out of the endpoint, a 5xx, a JSON-RPC internal error (-32603) or an
answer that is not JSON.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import atheris  # type: ignore[import-untyped]  # no type information published
from starlette.types import Message

with atheris.instrument_imports(include=["gateway"]):
    from gateway.audit import AuditLog
    from gateway.config import DEFAULT_WRITE_QUOTA
    from gateway.core.results import OutputBounds
    from gateway.core.service import ToolService
    from gateway.core.writes import WriteGate
    from gateway.gitea import GiteaClient
    from gateway.mcp import McpEndpoint
    from gateway.observability.metrics import Metrics
    from gateway.opa import Decision, Reason
    from gateway.state import ApprovalStore, SnapshotStore, SqliteDatabase, WriteQuotas, migrate
    from gateway.tools import default_registry
    from gateway.vocabulary import Principal

MAX_BODY_BYTES = 1 << 20
INTERNAL_ERROR = -32603
HEADERS = [(b"content-type", b"application/json"), (b"accept", b"application/json, text/event-stream")]


class DenyEverything:
    """The core's Decider: shows every tool, allows no call (so that no call reaches Gitea)."""

    async def decide(self, opa_input: Mapping[str, Any]) -> Decision:
        return Decision(allow=False, reasons=(Reason("fuzz.deny", "deny", "fuzz"),), decision_id="fuzz")

    async def visible_tools(self, opa_input: Mapping[str, Any]) -> frozenset[str]:
        return frozenset(tool["name"] for tool in opa_input["tools"])

    async def allowed_paths(self, opa_input: Mapping[str, Any], *, revision: str | None) -> frozenset[str]:
        return frozenset()

    async def allowed_repos(self, opa_input: Mapping[str, Any], *, revision: str | None) -> frozenset[str]:
        return frozenset()


def build_endpoint() -> McpEndpoint:
    state = SqliteDatabase.open(Path(tempfile.mkdtemp(prefix="aegis-fuzz-")) / "state.db")
    LOOP.run_until_complete(migrate(state))
    service = ToolService(
        registry=default_registry(),
        decisions=DenyEverything(),
        gitea=GiteaClient(base_url="http://127.0.0.1:9", token=None, timeout_s=0.1),  # never called
        audit=AuditLog.open(Path("/dev/null"), fsync=False),  # every entry is written, none is kept
        metrics=Metrics.create(),
        write_mode=False,
        output_bounds=OutputBounds(max_bytes=1 << 20, max_items=1000),
        writes=WriteGate(  # never reached: every call is denied first
            approvals=ApprovalStore(state, ttl_s=60),
            quotas=WriteQuotas(state),
            snapshots=SnapshotStore(state),
            default_quota=DEFAULT_WRITE_QUOTA,
        ),
    )
    return McpEndpoint(handler=service, max_body_bytes=MAX_BODY_BYTES)


LOOP = asyncio.new_event_loop()
ENDPOINT = build_endpoint()
PRINCIPAL = Principal(id="fuzz", kind="api_key", scopes=("tools:read",))


async def exchange(body: bytes) -> tuple[int, bytes]:
    """One POST /mcp through the ASGI interface: the status and body of the answer."""
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/mcp",
        "headers": HEADERS,
        "client": ("127.0.0.1", 1),
        "state": {"principal": PRINCIPAL, "request_id": "fuzz"},
    }
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await ENDPOINT(scope, receive, send)
    return sent[0]["status"], b"".join(message.get("body", b"") for message in sent[1:])


def test_one(body: bytes) -> None:
    status, answer = LOOP.run_until_complete(exchange(body))
    if status >= 500:
        raise AssertionError(f"HTTP {status}: {answer[:300]!r}")
    if answer:
        error = json.loads(answer).get("error")
        if isinstance(error, dict) and error.get("code") == INTERNAL_ERROR:
            raise AssertionError(f"internal error: {answer[:300]!r}")


def main() -> None:
    logging.disable(logging.CRITICAL)  # the endpoint logs what it survives; the fuzzer only wants crashes
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
