"""The edge's controls in process: authentication and its throttle, Host and Origin, rate limits per
address and per key, the in-flight cap and each key's share of it, and the security events each writes
to the audit log."""

from __future__ import annotations

import asyncio
from pathlib import Path

from gateway.edge.keys import KeyRateLimit
from tests.unit.edge.in_process import LIST_TOOLS, PING, running_app


async def test_a_request_without_a_valid_key_is_refused_and_audited(tmp_path: Path) -> None:
    async with running_app(tmp_path) as gateway:
        missing = await gateway.post(PING)
        wrong = await gateway.post(PING, key="aegis_" + "x" * 43)
        served = await gateway.post(PING, key=gateway.key)
    assert (missing.status_code, wrong.status_code, served.status_code) == (401, 401, 200)
    assert missing.headers["www-authenticate"].startswith("Bearer")
    failures = gateway.audit_events("auth_failure")
    assert len(failures) == 2 and {entry["client_ip"] for entry in failures} == {"127.0.0.1"}


async def test_auth_failures_throttle_the_address_then_even_a_valid_key_waits(tmp_path: Path) -> None:
    env = {"AEGIS_AUTH_FAILURE_LIMIT": "3", "AEGIS_AUTH_FAILURE_WINDOW": "60"}
    async with running_app(tmp_path, env) as gateway:
        failures = [
            (await gateway.post(PING, key=key)).status_code for key in (None, "aegis_wrong", "x" * 300)
        ]
        throttled = await gateway.post(PING, key=gateway.key)
        elsewhere = await gateway.post(PING, key=gateway.key, client_ip="127.0.0.2")
        later = [(await gateway.post(PING, key=gateway.key)).status_code for _ in range(5)]
        throttled_count = gateway.metric('aegis_auth_failures_total{reason="throttled"}')
        failure_events = gateway.metric('aegis_security_events_total{event="auth_failure"}')
    assert failures == [401, 401, 401]
    assert throttled.status_code == 429 and 1 <= int(throttled.headers["retry-after"]) <= 60
    assert throttled.json()["error"]["data"]["request_id"] == throttled.headers["x-request-id"]
    assert elsewhere.status_code == 200  # another address is not affected
    assert later == [429] * 5
    events = gateway.audit_events("auth_failure") + gateway.audit_events("auth_throttled")
    assert [(e["event"], e["reasons"][0]["rule"]) for e in events] == [
        ("auth_failure", "edge.auth.missing"),
        ("auth_failure", "edge.auth.invalid"),
        ("auth_failure", "edge.auth.malformed"),
        ("auth_throttled", "edge.auth.throttled"),  # once per quiet period, not once per request
    ]
    assert {e["client_ip"] for e in events} == {"127.0.0.1"} and {e["outcome"] for e in events} == {"denied"}
    assert (throttled_count, failure_events) == (6, 3)


async def test_a_foreign_origin_is_refused_and_audited(tmp_path: Path) -> None:
    async with running_app(tmp_path) as gateway:
        foreign = await gateway.post(PING, key=gateway.key, headers={"Origin": "https://evil.example"})
        local = await gateway.post(PING, key=gateway.key, headers={"Origin": "http://localhost:3000"})
    assert (foreign.status_code, local.status_code) == (403, 200)
    assert [entry["reasons"][0]["rule"] for entry in gateway.audit_events("origin_rejected")] == [
        "edge.origin.not_allowed"
    ]


async def test_the_rate_limit_per_address_holds_before_authentication(tmp_path: Path) -> None:
    async with running_app(tmp_path, {"AEGIS_IP_RATE": "0.05", "AEGIS_IP_BURST": "3"}) as gateway:
        statuses = [(await gateway.post(PING, key=gateway.key)).status_code for _ in range(3)]
        limited = await gateway.post(PING, key=gateway.key)
        unauthenticated = await gateway.post(PING)
        other_address = await gateway.post(PING, key=gateway.key, client_ip="127.0.0.3")
        counted = gateway.metric('aegis_rate_limited_total{per="ip"}')
    assert statuses == [200, 200, 200]
    assert (limited.status_code, unauthenticated.status_code, other_address.status_code) == (429, 429, 200)
    assert int(limited.headers["retry-after"]) >= 1
    assert counted == 2


async def test_the_rate_limit_per_key_and_a_key_of_its_own(tmp_path: Path) -> None:
    async with running_app(tmp_path, {"AEGIS_KEY_RATE": "0.05", "AEGIS_KEY_BURST": "2"}) as gateway:
        generous = gateway.new_key("generous", KeyRateLimit(rate_per_s=100, burst=50))
        other = gateway.new_key("other-agent")
        own = [(await gateway.post(PING, key=gateway.key)).status_code for _ in range(3)]
        others = [(await gateway.post(PING, key=other)).status_code for _ in range(3)]
        generous_statuses = {(await gateway.post(PING, key=generous)).status_code for _ in range(10)}
    assert own == others == [200, 200, 429]
    assert generous_statuses == {200}
    assert [(e["principal"], e["reasons"][0]["rule"]) for e in gateway.audit_events("rate_limited")] == [
        ("agent", "edge.rate_limit.key"),
        ("other-agent", "edge.rate_limit.key"),
    ]


async def test_one_key_holds_only_its_share_of_the_in_flight_cap(tmp_path: Path) -> None:
    env = {"AEGIS_MAX_IN_FLIGHT": "3", "AEGIS_MAX_IN_FLIGHT_PER_KEY": "2"}
    async with running_app(tmp_path, env) as gateway:
        other = gateway.new_key("other")
        gateway.engine.held.set()
        held = [asyncio.create_task(gateway.post(LIST_TOOLS, key=gateway.key)) for _ in range(2)]
        await asyncio.sleep(0.05)  # both are in flight, waiting on the engine
        over_share = await gateway.post(LIST_TOOLS, key=gateway.key)
        third = asyncio.create_task(gateway.post(LIST_TOOLS, key=other))
        await asyncio.sleep(0.05)
        over_cap = await gateway.post(PING, key=other)
        gateway.engine.released.set()
        answers = await asyncio.gather(*held, third)
    assert over_share.status_code == 503 and "retry-after" in over_share.headers
    assert over_cap.status_code == 503
    assert [answer.status_code for answer in answers] == [200, 200, 200]
    assert gateway.audit_events("overloaded")
