"""Abuse controls of the edge, attacked through the real HTTP endpoint: auth-failure throttling, rate
limits per address and per key (in memory and shared through a real Redis), the in-flight cap, the
circuit breaker around Gitea, and the request id on every error."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.ports import free_port
from tests.processes import (
    UNLIMITED,
    Gateway,
    SilentUpstream,
    Simulator,
    Upstream,
    start_gateway,
)
from tests.redis_server import RedisServer, start_redis

pytestmark = pytest.mark.e2e

POLICY = "defaults: {read: allow, write: deny}\n"
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
READ = {
    "jsonrpc": "2.0",
    "id": 2,
    "method": "tools/call",
    "params": {"name": "get_repository_info", "arguments": {"owner": "acme", "repo": "app"}},
}
OTHER_ADDRESS = "127.0.0.2"  # all of 127/8 is loopback on Linux: a second client address


def client(source: str = "127.0.0.1") -> httpx.Client:
    return httpx.Client(transport=httpx.HTTPTransport(local_address=source), timeout=30)


def post(
    http: httpx.Client, gateway: Gateway, key: str | None, body: dict[str, Any] = PING
) -> httpx.Response:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"
    return http.post(gateway.url, json=body, headers=headers)


def read_once(gateway: Gateway) -> httpx.Response:
    with client() as http:
        return post(http, gateway, gateway.key, READ)


def audit_events(gateway: Gateway) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gateway.audit_log.read_text().splitlines()]


def metric(gateway: Gateway, sample: str) -> float:
    for line in httpx.get(f"{gateway.base_url}/metrics").text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.fixture
def gateway_with(simulator: Simulator, tmp_path: Path, opa_bin: str) -> Iterator[Any]:
    started: list[Gateway] = []

    def start(env: dict[str, str], upstream: Simulator | Upstream | None = None, name: str = "gw") -> Gateway:
        gw = start_gateway(tmp_path / name, policy=POLICY, upstream=upstream or simulator, env=env)
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.stop()


@pytest.fixture(scope="module")
def plain_gateway(
    simulator: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str
) -> Iterator[Gateway]:
    gw = start_gateway(tmp_path_factory.mktemp("gw-edge"), policy=POLICY, upstream=simulator)
    yield gw
    gw.stop()


def test_the_throttle_lifts_when_its_window_closes(gateway_with: Any) -> None:
    gateway = gateway_with({**UNLIMITED, "AEGIS_AUTH_FAILURE_LIMIT": "2", "AEGIS_AUTH_FAILURE_WINDOW": "1"})
    with client() as http:
        assert [post(http, gateway, "aegis_bad").status_code for _ in range(3)] == [401, 401, 429]
        time.sleep(1.2)
        assert post(http, gateway, gateway.key).status_code == 200


@pytest.fixture
def redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = start_redis(tmp_path / "redis")
    yield server
    server.stop()


def test_replicas_sharing_redis_share_one_budget_per_key(gateway_with: Any, redis: RedisServer) -> None:
    shared = {
        "AEGIS_LIMITS_BACKEND": "redis",
        "AEGIS_REDIS_URL": redis.url,
        "AEGIS_KEY_RATE": "0.01",
        "AEGIS_KEY_BURST": "4",
    }
    first = gateway_with(shared, name="replica-1")
    second = gateway_with({**shared, "AEGIS_KEYS_FILE": str(first.keys_file)}, name="replica-2")
    with client() as http:
        statuses = [post(http, replica, first.key).status_code for replica in (first, second) * 3]
    assert statuses == [200, 200, 200, 200, 429, 429]


def test_an_unreachable_redis_refuses_requests_and_readiness(gateway_with: Any, redis: RedisServer) -> None:
    gateway = gateway_with({"AEGIS_LIMITS_BACKEND": "redis", "AEGIS_REDIS_URL": redis.url})
    with client() as http:
        assert post(http, gateway, gateway.key).status_code == 200
        redis.stop()
        refused = post(http, gateway, gateway.key)
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert httpx.get(f"{gateway.base_url}/readyz").status_code == 503
    assert metric(gateway, "aegis_limit_backend_errors_total") >= 1


def test_calls_over_the_in_flight_cap_get_503_with_retry_after(gateway_with: Any) -> None:
    upstream = SilentUpstream()
    try:
        gateway = gateway_with(
            {"AEGIS_MAX_IN_FLIGHT": "2", "AEGIS_MAX_IN_FLIGHT_PER_KEY": "2", "AEGIS_GITEA_TIMEOUT": "4"},
            upstream=Upstream(upstream.url),
        )
        with ThreadPoolExecutor(2) as pool, client() as http:
            hanging = [pool.submit(read_once, gateway) for _ in range(2)]
            deadline = time.monotonic() + 10
            while len(upstream.connections) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            refused = post(http, gateway, gateway.key)
            assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
            assert refused.json()["error"]["data"]["request_id"] == refused.headers["x-request-id"]
            results = [future.result().json()["result"] for future in hanging]
        assert all(r["isError"] and "timeout" in r["content"][0]["text"] for r in results)
        with client() as http:
            assert post(http, gateway, gateway.key).status_code == 200  # capacity is back
    finally:
        upstream.close()


def test_the_circuit_opens_after_repeated_upstream_failures(gateway_with: Any) -> None:
    refused_port = free_port()  # nothing listens: every connection is refused
    gateway = gateway_with(
        {"AEGIS_GITEA_BREAKER_FAILURES": "2", "AEGIS_GITEA_BREAKER_COOLDOWN": "60"},
        upstream=Upstream(f"http://127.0.0.1:{refused_port}"),
    )
    with client() as http:
        texts = [
            post(http, gateway, gateway.key, READ).json()["result"]["content"][0]["text"] for _ in range(3)
        ]
    assert [text.split(".")[0] for text in texts] == [
        "Gitea request failed: unavailable",
        "Gitea request failed: unavailable",
        "Gitea request failed: circuit open",
    ]
    assert metric(gateway, "aegis_gitea_circuit_open") == 1


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        pytest.param("GET", "/nowhere", 404, id="unknown-route"),
        pytest.param("POST", "/metrics", 405, id="wrong-method"),
        pytest.param("GET", "/mcp", 405, id="get-mcp"),
    ],
)
def test_every_error_carries_the_request_id(
    plain_gateway: Gateway, method: str, path: str, status: int
) -> None:
    gateway = plain_gateway
    response = httpx.request(method, gateway.base_url + path, headers=gateway.auth)
    assert response.status_code == status
    body = response.json()
    assert body["error"]["data"]["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
