"""DecisionClient.allowed_paths against a scripted OPA: only a well-formed answer from the bundle that made
the call's decision lists paths; every other answer is PathsUndecided, which denies the call."""

from __future__ import annotations

import json
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from gateway.observability.metrics import Metrics
from gateway.opa import DecisionClient, PathsUndecided

INPUT = {"version": 1, "paths": ["a.py", "b.py"]}


async def scripted_opa(status: int, body: Any) -> AsyncIterator[str]:
    async def answer(request: web.Request) -> web.Response:
        assert request.path == "/v1/data/aegis/authz/allowed_paths"
        assert (await request.json()) == {"input": INPUT}
        text = body if isinstance(body, str) else json.dumps(body)
        return web.Response(status=status, text=text, content_type="application/json")

    app = web.Application()
    app.router.add_post("/v1/data/aegis/authz/allowed_paths", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def ask(status: int, body: Any) -> frozenset[str]:
    async for url in scripted_opa(status, body):
        client = DecisionClient(base_url=url, timeout_s=2, metrics=Metrics.create())
        try:
            return await client.allowed_paths(INPUT, revision="r1")
        finally:
            await client.aclose()
    raise AssertionError("unreachable")


async def test_a_well_formed_answer_of_the_same_bundle_lists_the_paths() -> None:
    assert await ask(200, {"result": {"paths": ["b.py"], "revision": "r1"}}) == frozenset({"b.py"})


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (200, {"result": {"paths": ["b.py"], "revision": "r2"}}, "policy_unverified"),
        (200, {"result": {"paths": ["b.py"]}}, "policy_unverified"),
        (200, {"result": {"paths": "b.py", "revision": "r1"}}, "malformed"),
        (200, {"result": {"paths": [1], "revision": "r1"}}, "malformed"),
        (200, {"result": ["b.py"]}, "malformed"),
        (200, {}, "undefined"),
        (200, "not json", "malformed"),
        (500, {"code": "internal_error"}, "error"),
    ],
)
async def test_any_other_answer_is_undecided(status: int, body: Any, kind: str) -> None:
    with pytest.raises(PathsUndecided) as raised:
        await ask(status, body)
    reasons = raised.value.decision.reasons
    assert [reason.rule for reason in reasons] == [f"opa.{kind}"]
    assert raised.value.decision.allow is False and raised.value.decision.revision == "r1"


async def test_an_unreachable_opa_is_undecided() -> None:
    client = DecisionClient(base_url="http://127.0.0.1:9", timeout_s=1, metrics=Metrics.create())
    try:
        with pytest.raises(PathsUndecided, match="unavailable"):
            await client.allowed_paths(INPUT, revision="r1")
    finally:
        await client.aclose()
