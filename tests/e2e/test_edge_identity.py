"""Who a request comes from, as the edge and the audit log see it: the client behind a trusted proxy
(X-Forwarded-For read only from AEGIS_TRUSTED_PROXIES, rightmost untrusted hop), and request ids that the
gateway owns (a client's X-Request-ID is recorded beside them, never in their place)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.processes import UNLIMITED, Gateway, Simulator, start_gateway

pytestmark = pytest.mark.e2e

POLICY = "defaults: {read: allow, write: deny}\n"
THROTTLE = {**UNLIMITED, "AEGIS_AUTH_FAILURE_LIMIT": "3", "AEGIS_AUTH_FAILURE_WINDOW": "60"}
READ = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "get_repository_info", "arguments": {"owner": "acme", "repo": "app"}},
}
PING = {"jsonrpc": "2.0", "id": 2, "method": "ping"}


@pytest.fixture(scope="module")
def behind_proxy(
    simulator: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str
) -> Iterator[Gateway]:
    """A gateway that trusts the loopback peer as its proxy (as a sidecar ingress would be)."""
    env = {**THROTTLE, "AEGIS_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1/32"}
    gw = start_gateway(tmp_path_factory.mktemp("gw-proxied"), policy=POLICY, upstream=simulator, env=env)
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def rate_limited_behind_proxy(
    simulator: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str
) -> Iterator[Gateway]:
    """A gateway behind the loopback proxy whose per-address budget is three requests."""
    env = {**UNLIMITED, "AEGIS_IP_RATE": "0.001", "AEGIS_IP_BURST": "3", "AEGIS_TRUSTED_PROXIES": "127.0.0.1"}
    gw = start_gateway(tmp_path_factory.mktemp("gw-rate"), policy=POLICY, upstream=simulator, env=env)
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def direct(simulator: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str) -> Iterator[Gateway]:
    """A gateway with no trusted proxy (the default)."""
    gw = start_gateway(tmp_path_factory.mktemp("gw-direct"), policy=POLICY, upstream=simulator, env=THROTTLE)
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def plain(simulator: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str) -> Iterator[Gateway]:
    """A gateway that no test of this module throttles, for the request id tests."""
    gw = start_gateway(tmp_path_factory.mktemp("gw-plain"), policy=POLICY, upstream=simulator, env=UNLIMITED)
    yield gw
    gw.stop()


def post(
    gateway: Gateway,
    body: dict[str, Any],
    *,
    key: str | None,
    forwarded_for: str | None = None,
    **headers: str,
) -> httpx.Response:
    sent = {"Content-Type": "application/json", "Accept": "application/json"}
    sent.update({name.replace("_", "-"): value for name, value in headers.items()})
    if key is not None:
        sent["Authorization"] = f"Bearer {key}"
    if forwarded_for is not None:
        sent["X-Forwarded-For"] = forwarded_for
    return httpx.post(gateway.url, json=body, headers=sent, timeout=30)


def logged(gateway: Gateway, reply: httpx.Response) -> list[dict[str, Any]]:
    """The JSON log lines of the request `reply` answered, its access log line included."""
    return gateway.logged(reply.headers["x-request-id"])


def audit(gateway: Gateway) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gateway.audit_log.read_text().splitlines()]


def test_bad_keys_behind_a_proxy_throttle_that_client_not_everyone(behind_proxy: Gateway) -> None:
    for _ in range(3):
        assert post(behind_proxy, PING, key="aegis_wrong", forwarded_for="203.0.113.5").status_code == 401
    assert post(behind_proxy, PING, key=behind_proxy.key, forwarded_for="203.0.113.5").status_code == 429
    allowed = post(behind_proxy, READ, key=behind_proxy.key, forwarded_for="203.0.113.6")
    assert allowed.status_code == 200
    failures = [entry for entry in audit(behind_proxy) if entry["event"] == "auth_failure"]
    assert [entry["client_ip"] for entry in failures[-3:]] == ["203.0.113.5"] * 3
    (access,) = [line for line in logged(behind_proxy, allowed) if line["msg"] == "http request"]
    assert access["client_ip"] == "203.0.113.6"


def test_a_client_behind_a_proxy_spends_its_own_rate_budget_only(rate_limited_behind_proxy: Gateway) -> None:
    """The per-address rate limit keys on the forwarded client too: one client spending its budget
    leaves the next client's whole, although both arrive from the proxy's address."""
    gateway = rate_limited_behind_proxy
    spent = [post(gateway, PING, key=gateway.key, forwarded_for="203.0.113.20").status_code for _ in range(4)]
    assert spent == [200, 200, 200, 429]
    assert post(gateway, PING, key=gateway.key, forwarded_for="203.0.113.21").status_code == 200
    assert post(gateway, PING, key=gateway.key, forwarded_for="203.0.113.20").status_code == 429


def test_the_rightmost_untrusted_hop_is_the_client(behind_proxy: Gateway) -> None:
    """A client cannot leave its throttle by writing hops of its own in front of the one the proxy adds;
    hops inside the trusted networks (an inner proxy at 10.x) are skipped."""
    for _ in range(3):
        post(behind_proxy, PING, key="aegis_wrong", forwarded_for="198.51.100.7")
    for spoofed in ("192.0.2.1, 198.51.100.7", "192.0.2.1, 198.51.100.7, 10.1.2.3", "nonsense, 198.51.100.7"):
        reply = post(behind_proxy, PING, key=behind_proxy.key, forwarded_for=spoofed)
        assert reply.status_code == 429, spoofed


def test_without_trusted_proxies_forwarded_for_is_ignored(direct: Gateway) -> None:
    for number in range(3):
        post(direct, PING, key="aegis_wrong", forwarded_for=f"203.0.113.{number + 10}")
    throttled = post(direct, PING, key=direct.key, forwarded_for="203.0.113.99")
    assert throttled.status_code == 429
    failures = [entry for entry in audit(direct) if entry["event"] == "auth_failure"]
    assert {entry["client_ip"] for entry in failures} == {"127.0.0.1"}


def test_a_client_request_id_is_recorded_beside_the_gateways_own(plain: Gateway) -> None:
    """Two calls sending one X-Request-ID still get two request ids, both the gateway's own."""
    replies = [post(plain, READ, key=plain.key, x_request_id="client-chosen-1") for _ in range(2)]
    calls = [entry for entry in audit(plain) if entry["event"] == "tool_call"][-2:]
    ids = [entry["request_id"] for entry in calls]
    assert "client-chosen-1" not in ids and len(set(ids)) == 2
    assert ids == [reply.headers["x-request-id"] for reply in replies]
    assert [entry["client_request_id"] for entry in calls] == ["client-chosen-1"] * 2
    lines = logged(plain, replies[0])
    assert {line["msg"] for line in lines} >= {"tool call", "http request"}
    assert {line.get("client_request_id") for line in lines} == {"client-chosen-1"}


@pytest.mark.parametrize("value", ["x" * 129, "bad id with spaces", "a/b", "<script>"])
def test_a_malformed_client_request_id_is_not_recorded(plain: Gateway, value: str) -> None:
    reply = post(plain, READ, key=plain.key, x_request_id=value)
    assert reply.status_code == 200 and value not in reply.headers["x-request-id"]
    entry = audit(plain)[-1]
    assert entry["request_id"] == reply.headers["x-request-id"] and "client_request_id" not in entry
