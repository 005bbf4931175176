"""The /mcp endpoint and the operational routes, driven with raw HTTP against the running gateway."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.ports import free_port
from tests.processes import AEGIS, Gateway, Simulator, start_gateway, wait_healthy

pytestmark = pytest.mark.e2e

POLICY = "defaults: {read: allow, write: deny}\n"
V = "2025-11-25"


@pytest.fixture(scope="module")
def gateway(
    simulator: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str
) -> Iterator[Gateway]:
    gw = start_gateway(tmp_path_factory.mktemp("gw-http"), policy=POLICY, upstream=simulator)
    yield gw
    gw.stop()


def post(gateway: Gateway, body: Any, *, raw: bytes | None = None, **headers: str) -> httpx.Response:
    base = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        **gateway.auth,
    }
    base.update({name.replace("_", "-"): value for name, value in headers.items()})
    content = raw if raw is not None else json.dumps(body).encode()
    return httpx.post(gateway.url, content=content, headers=base, timeout=10)


def rpc(method: str, params: dict[str, Any] | None = None, request_id: int | str = 1) -> dict[str, Any]:
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": method}
    if params is not None:
        message["params"] = params
    return message


INIT = {"protocolVersion": V, "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}


@pytest.mark.parametrize("version", ["2025-06-18", "2025-11-25"])
def test_initialize_echoes_a_supported_version(gateway: Gateway, version: str) -> None:
    response = post(gateway, rpc("initialize", {**INIT, "protocolVersion": version}))
    assert response.status_code == 200
    result = response.json()["result"]
    assert result["protocolVersion"] == version
    assert result["capabilities"] == {"tools": {"listChanged": False}}
    assert result["serverInfo"]["name"] == "aegis"
    assert "mcp-session-id" not in response.headers


def test_initialize_with_an_unknown_version_gets_the_latest(gateway: Gateway) -> None:
    response = post(gateway, rpc("initialize", {**INIT, "protocolVersion": "1999-01-01"}))
    assert response.json()["result"]["protocolVersion"] == "2025-11-25"


def test_unsupported_protocol_version_header_is_400_naming_the_supported_ones(gateway: Gateway) -> None:
    response = post(gateway, rpc("ping"), mcp_protocol_version="2024-01-01")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == -32022
    assert error["data"]["supported"] == ["2026-07-28", "2025-11-25", "2025-06-18"]
    assert error["data"]["requested"] == "2024-01-01"


def test_a_tools_call_refused_for_its_protocol_version_is_audited(gateway: Gateway) -> None:
    call = rpc("tools/call", {"name": "get_repository_info", "arguments": {"owner": "acme", "repo": "app"}})
    response = post(gateway, call, mcp_protocol_version="2024-01-01")
    assert response.status_code == 400
    entry = json.loads(gateway.audit_log.read_text().splitlines()[-1])
    assert (entry["tool"], entry["outcome"], entry["decision_id"]) == ("get_repository_info", "invalid", None)


def test_ping_and_notifications(gateway: Gateway) -> None:
    assert post(gateway, rpc("ping"), mcp_protocol_version=V).json() == {
        "jsonrpc": "2.0",
        "id": 1,
        "result": {},
    }
    notified = post(gateway, {"jsonrpc": "2.0", "method": "notifications/initialized"})
    assert (notified.status_code, notified.content) == (202, b"")


@pytest.mark.parametrize(
    ("raw", "status", "code"),
    [
        pytest.param(b"{not json", 400, -32700, id="parse-error"),
        pytest.param(b"\xff\xfe", 400, -32700, id="not-utf8"),
        pytest.param(b'[{"jsonrpc":"2.0","id":1,"method":"ping"}]', 400, -32600, id="batch"),
        pytest.param(b'{"jsonrpc":"1.0","id":1,"method":"ping"}', 400, -32600, id="wrong-version"),
        pytest.param(b'{"jsonrpc":"2.0","id":1,"id":2,"method":"ping"}', 400, -32600, id="duplicate-key"),
        pytest.param(b'{"jsonrpc":"2.0","id":null,"method":"ping"}', 400, -32600, id="null-id"),
        pytest.param(
            b'{"jsonrpc":"2.0","id":1,"method":"ping","params":[1]}', 400, -32600, id="array-params"
        ),
        pytest.param(
            b'{"jsonrpc":"2.0","id":1,"method":"ping","params":' + b"[" * 40 + b"]" * 40 + b"}",
            400,
            -32600,
            id="too-deep",
        ),
        pytest.param(b"[" * 100000 + b"]" * 100000, 400, -32700, id="very-deep"),
    ],
)
def test_malformed_messages_get_jsonrpc_errors(gateway: Gateway, raw: bytes, status: int, code: int) -> None:
    response = post(gateway, None, raw=raw)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert "Traceback" not in response.text


def test_unknown_method_is_method_not_found(gateway: Gateway) -> None:
    response = post(gateway, rpc("resources/list"), mcp_protocol_version=V)
    assert response.status_code == 200
    assert response.json()["error"]["code"] == -32601


@pytest.mark.parametrize(
    "params",
    [{"arguments": {}}, {"name": 5}, {"name": "get_repository_info", "arguments": [1]}],
    ids=["no-name", "name-not-string", "arguments-not-object"],
)
def test_malformed_tools_call_is_invalid_params_and_audited(gateway: Gateway, params: dict[str, Any]) -> None:
    entries_before = len(gateway.audit_log.read_text().splitlines())
    response = post(gateway, rpc("tools/call", params), mcp_protocol_version=V)
    assert response.json()["error"]["code"] == -32602
    entries = gateway.audit_log.read_text().splitlines()
    assert len(entries) == entries_before + 1
    assert json.loads(entries[-1])["outcome"] == "invalid"


def test_undecodable_protocol_version_header_is_400(gateway: Gateway) -> None:
    headers = [
        (b"content-type", b"application/json"),
        (b"mcp-protocol-version", b"\xff\xfe"),
        *((k.encode(), v.encode()) for k, v in gateway.auth.items()),
    ]
    response = httpx.post(gateway.url, content=json.dumps(rpc("ping")).encode(), headers=headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32022


def test_a_body_cut_short_by_a_disconnect_is_never_executed(gateway: Gateway) -> None:
    entries_before = len(gateway.audit_log.read_text().splitlines())
    call = json.dumps(
        rpc("tools/call", {"name": "get_repository_info", "arguments": {"owner": "acme", "repo": "app"}})
    ).encode()
    head = (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {gateway.key}\r\nContent-Length: {len(call) + 64}\r\n\r\n"
    ).encode()
    host, port = gateway.base_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as connection:
        connection.sendall(head + call)  # a complete JSON prefix, then the client goes away
    time.sleep(0.5)
    post(gateway, rpc("ping"))  # the gateway is still serving
    assert len(gateway.audit_log.read_text().splitlines()) == entries_before


def test_wrong_content_type_accept_method_and_size(gateway: Gateway) -> None:
    assert post(gateway, rpc("ping"), content_type="text/plain").status_code == 415
    assert post(gateway, rpc("ping"), accept="text/html").status_code == 406
    get = httpx.get(gateway.url, headers=gateway.auth)
    assert (get.status_code, get.headers["allow"]) == (405, "POST")
    huge = post(
        gateway,
        None,
        raw=b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"' + b"a" * (2 << 20) + b'"}}',
    )
    assert huge.status_code == 413


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        pytest.param({"Origin": "http://evil.example.com"}, 403, id="foreign-origin"),
        pytest.param({"Origin": "null"}, 403, id="null-origin"),
        pytest.param({"Origin": "http://localhost@evil.example.com"}, 403, id="userinfo-origin"),
        pytest.param({"Host": "evil.example.com"}, 403, id="foreign-host"),
        pytest.param({"Origin": "http://localhost:5173"}, 200, id="loopback-origin"),
        pytest.param({"Host": "localhost:1234", "Origin": "http://127.0.0.1:9"}, 200, id="loopback-host"),
    ],
)
def test_host_and_origin_are_checked(gateway: Gateway, headers: dict[str, str], status: int) -> None:
    response = post(gateway, rpc("ping"), **{k.lower(): v for k, v in headers.items()})
    assert response.status_code == status


def test_rebinding_attempts_are_audited_as_security_events(gateway: Gateway) -> None:
    response = post(gateway, rpc("ping"), origin="http://rebind.example.com")
    assert response.status_code == 403
    entries = [json.loads(line) for line in gateway.audit_log.read_text().splitlines()]
    rejected = [entry for entry in entries if entry["event"] == "origin_rejected"]
    assert rejected and rejected[-1]["reasons"][0]["rule"] in {
        "edge.origin.not_allowed",
        "edge.host.not_allowed",
    }
    assert rejected[-1]["client_ip"] == "127.0.0.1"


def test_request_id_is_always_the_gateways_own(gateway: Gateway) -> None:
    for sent in ("trace-123", "bad id with spaces", None):
        reply = post(gateway, rpc("ping"), **({"x_request_id": sent} if sent else {}))
        assert reply.headers["x-request-id"] != sent and len(reply.headers["x-request-id"]) == 32


def test_logs_are_json_lines_with_request_ids(gateway: Gateway) -> None:
    reply = post(
        gateway,
        rpc("tools/call", {"name": "get_repository_info", "arguments": {"owner": "acme", "repo": "app"}}),
        x_request_id="log-check-1",
    )

    mine = gateway.logged(reply.headers["x-request-id"], awaiting=frozenset({"tool call", "http request"}))
    assert {line["msg"] for line in mine} >= {"tool call", "http request"}
    assert {line["client_request_id"] for line in mine} == {"log-check-1"}


def test_metrics_health_and_readiness(gateway: Gateway) -> None:
    post(
        gateway,
        rpc("tools/call", {"name": "get_repository_info", "arguments": {"owner": "acme", "repo": "app"}}),
    )
    httpx.post(gateway.url, json=rpc("ping"))  # unauthenticated
    metrics = httpx.get(f"{gateway.base_url}/metrics").text
    assert 'aegis_tool_calls_total{outcome="allowed",tool="get_repository_info"}' in metrics
    assert "aegis_tool_call_duration_seconds_bucket" in metrics
    assert "aegis_opa_decision_duration_seconds_count" in metrics
    assert 'aegis_auth_failures_total{reason="missing"}' in metrics
    assert httpx.get(f"{gateway.base_url}/healthz").json() == {"status": "ok"}
    ready = httpx.get(f"{gateway.base_url}/readyz").json()
    assert ready["status"] == "ready" and len(ready["bundle_revision"]) == 64
    assert health(gateway, "--ready").returncode == 0  # the image's health check


def health(gateway: Gateway, *args: str) -> subprocess.CompletedProcess[str]:
    """`aegis health` against the gateway, as a container's health check runs it."""
    env = {**os.environ, "AEGIS_BIND": gateway.base_url.removeprefix("http://")}
    return subprocess.run([*AEGIS, "health", *args], env=env, capture_output=True, text=True, timeout=60)


def test_opa_unreachable_means_deny_and_not_ready(
    simulator: Simulator, tmp_path_factory: pytest.TempPathFactory
) -> None:
    dead_opa = f"http://127.0.0.1:{free_port()}"
    gw = start_gateway(
        tmp_path_factory.mktemp("gw-no-opa"),
        policy=POLICY,
        upstream=simulator,
        env={"AEGIS_OPA_URL": dead_opa},
        wait_ready=False,
    )
    try:
        wait_healthy(gw)
        assert httpx.get(f"{gw.base_url}/readyz").status_code == 503
        assert health(gw).returncode == 0
        not_ready = health(gw, "--ready")
        assert not_ready.returncode == 1 and '"opa":"not ready"' in not_ready.stderr
        call = rpc(
            "tools/call", {"name": "get_repository_info", "arguments": {"owner": "acme", "repo": "app"}}
        )
        result = post(gw, call, mcp_protocol_version=V).json()["result"]
        assert result["isError"] is True
        assert result["structuredContent"]["reasons"] == [
            {"rule": "opa.unavailable", "effect": "deny", "source": "gateway"}
        ]
        listed = post(gw, rpc("tools/list"), mcp_protocol_version=V).json()["result"]
        assert listed == {"tools": []}
    finally:
        gw.stop()
