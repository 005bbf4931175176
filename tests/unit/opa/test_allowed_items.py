"""DecisionClient.allowed_paths and allowed_repos against a scripted OPA: only a well-formed answer from the
bundle that made the call's decision lists items; every other answer is ResultUndecided, which denies the
call."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from gateway.observability.metrics import Metrics
from gateway.opa import DecisionClient, ResultUndecided
from tests.ports import free_port

INPUT = {"version": 1, "paths": ["a.py", "b.py"], "repos": ["a/b", "c/d"]}


@pytest.fixture(params=["paths", "repos"])
def items(request: pytest.FixtureRequest) -> str:
    """Which list is asked for: `paths` (allowed_paths) or `repos` (allowed_repos)."""
    return str(request.param)


async def scripted_opa(items: str, status: int, body: Any) -> AsyncIterator[str]:
    entrypoint = f"/v1/data/aegis/authz/allowed_{items}"

    async def answer(request: web.Request) -> web.Response:
        assert (await request.json()) == {"input": INPUT}
        text = body if isinstance(body, str) else json.dumps(body)
        return web.Response(status=status, text=text, content_type="application/json")

    app = web.Application()
    app.router.add_post(entrypoint, answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


async def ask(items: str, status: int, body: Any) -> frozenset[str]:
    async for url in scripted_opa(items, status, body):
        client = DecisionClient(base_url=url, timeout_s=2, metrics=Metrics.create())
        try:
            allowed = client.allowed_paths if items == "paths" else client.allowed_repos
            return await allowed(INPUT, revision="r1")
        finally:
            await client.aclose()
    raise AssertionError("unreachable")


async def test_a_well_formed_answer_of_the_same_bundle_lists_the_items(items: str) -> None:
    answer = await ask(items, 200, {"result": {items: ["x", "b.py"], "revision": "r1"}})
    assert answer == frozenset({"x", "b.py"})


async def test_the_other_list_does_not_answer(items: str) -> None:
    other = "repos" if items == "paths" else "paths"
    with pytest.raises(ResultUndecided, match="malformed"):
        await ask(items, 200, {"result": {other: ["x"], "revision": "r1"}})


@pytest.mark.parametrize(
    ("status", "body", "kind"),
    [
        (200, {"result": {"ITEMS": ["b.py"], "revision": "r2"}}, "policy_unverified"),
        (200, {"result": {"ITEMS": ["b.py"]}}, "policy_unverified"),
        (200, {"result": {"ITEMS": "b.py", "revision": "r1"}}, "malformed"),
        (200, {"result": {"ITEMS": [1], "revision": "r1"}}, "malformed"),
        (200, {"result": ["b.py"]}, "malformed"),
        (200, {}, "undefined"),
        (200, "not json", "malformed"),
        (500, {"code": "internal_error"}, "error"),
    ],
)
async def test_any_other_answer_is_undecided(items: str, status: int, body: Any, kind: str) -> None:
    if isinstance(body, dict) and isinstance(body.get("result"), dict):
        body = {
            "result": {(items if key == "ITEMS" else key): value for key, value in body["result"].items()}
        }
    with pytest.raises(ResultUndecided) as raised:
        await ask(items, status, body)
    reasons = raised.value.decision.reasons
    assert [reason.rule for reason in reasons] == [f"opa.{kind}"]
    assert raised.value.decision.allow is False and raised.value.decision.revision == "r1"


async def test_an_unreachable_opa_is_undecided(items: str) -> None:
    client = DecisionClient(base_url="http://127.0.0.1:9", timeout_s=1, metrics=Metrics.create())
    allowed = client.allowed_paths if items == "paths" else client.allowed_repos
    try:
        with pytest.raises(ResultUndecided, match="unavailable"):
            await allowed(INPUT, revision="r1")
    finally:
        await client.aclose()
