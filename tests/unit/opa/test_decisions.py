"""DecisionClient.decide against a scripted OPA: the decision keeps OPA's own decision id (its decision
log's) and the policy's audit settings; a malformed id or audit setting denies the call."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from aiohttp import web

from gateway.observability.metrics import Metrics
from gateway.opa import Decision, DecisionClient
from tests.ports import free_port

INPUT = {"version": 1}
VERDICT = {"allow": True, "reasons": [], "obligations": {"secrets": "mask"}, "revision": "r1"}


async def scripted_opa(answer: dict[str, Any]) -> AsyncIterator[str]:
    """An OPA whose policy verifies under revision r1 and which answers every decision with `answer`."""

    def respond(body: Any) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handler(_: web.Request) -> web.Response:
            return web.Response(text=json.dumps(body), content_type="application/json")

        return handler

    app = web.Application()
    app.router.add_post("/v1/data/aegis/authz/policy_valid", respond({"result": True}))
    app.router.add_post("/v1/data/aegis/meta/revision", respond({"result": "r1"}))
    app.router.add_post("/v1/data/aegis/authz/decision", respond(answer))
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def decide(answer: dict[str, Any]) -> Decision:
    async for url in scripted_opa(answer):
        client = DecisionClient(base_url=url, timeout_s=2, metrics=Metrics.create())
        try:
            return await client.decide(INPUT)
        finally:
            await client.aclose()
    raise AssertionError("unreachable")


async def test_the_decision_carries_opas_own_decision_id() -> None:
    decision = await decide({"decision_id": "5d2a85ce-ffdb-4316-a4c3-b115d79c6b2d", "result": VERDICT})
    assert decision.allow and decision.decision_id == "5d2a85ce-ffdb-4316-a4c3-b115d79c6b2d"


async def test_without_opas_decision_log_the_gateway_names_the_decision() -> None:
    first, second = await decide({"result": VERDICT}), await decide({"result": VERDICT})
    assert first.allow and re.fullmatch(r"[0-9a-f]{32}", first.decision_id)
    assert first.decision_id != second.decision_id


@pytest.mark.parametrize(
    "decision_id",
    [
        pytest.param(17, id="not a string"),
        pytest.param("", id="empty"),
        pytest.param("x" * 129, id="too long"),
        pytest.param('a"}\n{"forged": 1', id="not an id"),
    ],
)
async def test_a_malformed_decision_id_denies(decision_id: object) -> None:
    decision = await decide({"decision_id": decision_id, "result": VERDICT})
    assert not decision.allow and decision.reasons[0].rule == "opa.malformed"


async def test_the_audit_settings_name_the_arguments_to_hash() -> None:
    decision = await decide({"result": {**VERDICT, "audit": {"hash_arguments": ["query", "ref"]}}})
    assert decision.allow and decision.hash_arguments == frozenset({"query", "ref"})


async def test_a_decision_without_audit_settings_leaves_the_choice_to_the_gateway() -> None:
    decision = await decide({"result": VERDICT})
    assert decision.allow and decision.hash_arguments is None  # the audit then hashes every argument


@pytest.mark.parametrize(
    "audit",
    [
        pytest.param([], id="not an object"),
        pytest.param({}, id="no list"),
        pytest.param({"hash_arguments": "query"}, id="a string"),
        pytest.param({"hash_arguments": ["query", 1]}, id="not all names"),
    ],
)
async def test_malformed_audit_settings_deny(audit: object) -> None:
    decision = await decide({"result": {**VERDICT, "audit": audit}})
    assert not decision.allow and decision.reasons[0].rule == "opa.malformed"
