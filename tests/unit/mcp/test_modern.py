"""MCP 2026-07-28 beside the handshake revisions, in process: the envelope, its headers, discovery, the
shapes of results, and invalid input as tool errors from 2025-11-25 on."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.observability.logs import JsonFormatter
from tests.unit.edge.in_process import InProcessGateway, running_app

MODERN = "2026-07-28"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
READ_FILE = {"owner": "acme", "repo": "app", "filepath": "README.md"}


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[InProcessGateway]:
    async with running_app(tmp_path) as running:
        yield running


def modern(method: str, params: dict[str, Any] | None = None, **meta: Any) -> dict[str, Any]:
    envelope = {
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
        "io.modelcontextprotocol/clientInfo": {"name": "test", "version": "1"},
        **meta,
    }
    return {"jsonrpc": "2.0", "id": 7, "method": method, "params": {**(params or {}), "_meta": envelope}}


def headers_of(message: dict[str, Any], **overrides: str) -> dict[str, str]:
    sent = {"MCP-Protocol-Version": MODERN, "Mcp-Method": message["method"]}
    if message["method"] == "tools/call":
        sent["Mcp-Name"] = message["params"]["name"]
    return {**sent, **overrides}


async def post_modern(gateway: InProcessGateway, message: dict[str, Any], **overrides: str) -> httpx.Response:
    return await gateway.post(message, key=gateway.key, headers=headers_of(message, **overrides))


def audited_calls(gateway: InProcessGateway) -> list[dict[str, Any]]:
    return gateway.audit_events("tool_call")


async def test_discover_names_every_revision_and_the_server(gateway: InProcessGateway) -> None:
    response = await post_modern(gateway, modern("server/discover"))
    assert response.status_code == 200
    result = response.json()["result"]
    assert result["supportedVersions"] == [MODERN, "2025-11-25", "2025-06-18"]
    assert result["capabilities"] == {"tools": {"listChanged": False}}
    assert result["resultType"] == "complete"
    assert result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"] == "aegis"
    assert (result["cacheScope"], result["ttlMs"]) == ("private", 60000)


async def test_tools_list_is_cacheable_only_for_the_caller(gateway: InProcessGateway) -> None:
    response = await post_modern(gateway, modern("tools/list"))
    result = response.json()["result"]
    assert response.status_code == 200 and result["tools"]
    assert (result["resultType"], result["cacheScope"], result["ttlMs"]) == ("complete", "private", 60000)


async def test_handshake_clients_are_served_as_before(gateway: InProcessGateway) -> None:
    response = await gateway.post(
        {"jsonrpc": "2.0", "id": 1, "method": "tools/list"},
        key=gateway.key,
        headers={"MCP-Protocol-Version": "2025-06-18"},
    )
    result = response.json()["result"]
    assert response.status_code == 200 and "resultType" not in result and "ttlMs" not in result
    ping = await gateway.post({"jsonrpc": "2.0", "id": 2, "method": "ping"}, key=gateway.key)
    assert ping.json()["result"] == {}


@pytest.mark.parametrize("method", ["ping", "initialize"])
async def test_what_the_revision_removed_is_unknown_to_it_only(
    gateway: InProcessGateway, method: str
) -> None:
    response = await post_modern(gateway, modern(method))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == -32601


async def test_an_unsupported_version_names_the_supported_ones(gateway: InProcessGateway) -> None:
    message = modern("tools/call", {"name": "get_file_contents", "arguments": READ_FILE})
    message["params"]["_meta"]["io.modelcontextprotocol/protocolVersion"] = "2099-01-01"
    response = await post_modern(gateway, message, **{"MCP-Protocol-Version": "2099-01-01"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == -32022
    assert error["data"]["supported"] == [MODERN, "2025-11-25", "2025-06-18"]
    assert error["data"]["requested"] == "2099-01-01"
    entry = audited_calls(gateway)[-1]
    assert (entry["outcome"], entry["reasons"][0]["rule"]) == ("invalid", "mcp.unsupported_version")


async def test_a_request_without_its_envelope_is_invalid(gateway: InProcessGateway) -> None:
    message = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
    response = await gateway.post(
        message, key=gateway.key, headers={"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/list"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == -32602
    assert "_meta" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        pytest.param({"Mcp-Name": "list_issues"}, "Mcp-Name", id="other-tool"),
        pytest.param({"Mcp-Method": "tools/list"}, "Mcp-Method", id="other-method"),
        pytest.param({"Mcp-Name": "=?base64?bGlzdF9pc3N1ZXM=?="}, "Mcp-Name", id="encoded-other-tool"),
        pytest.param({"Mcp-Name": "=?base64?not base64?="}, "Mcp-Name", id="broken-encoding"),
    ],
)
async def test_headers_that_disagree_with_the_body_run_nothing(
    gateway: InProcessGateway, overrides: dict[str, str], named: str
) -> None:
    message = modern("tools/call", {"name": "get_file_contents", "arguments": READ_FILE})
    response = await post_modern(gateway, message, **overrides)
    body = response.json()
    assert response.status_code == 400
    assert body["error"]["code"] == -32020 and named in body["error"]["message"]
    entry = audited_calls(gateway)[-1]
    assert (entry["outcome"], entry["reasons"][0]["rule"]) == ("invalid", "mcp.header_mismatch")
    assert entry["decision_id"] is None  # never decided, never run


async def test_a_missing_or_repeated_routing_header_is_a_mismatch(gateway: InProcessGateway) -> None:
    message = modern("tools/call", {"name": "get_file_contents", "arguments": READ_FILE})
    sent = {"MCP-Protocol-Version": MODERN, "Mcp-Method": "tools/call"}  # no Mcp-Name
    missing = await gateway.post(message, key=gateway.key, headers=sent)
    assert missing.status_code == 400 and missing.json()["error"]["code"] == -32020
    transport = httpx.ASGITransport(app=gateway._app, client=("127.0.0.1", 50000))
    repeated = [
        ("Content-Type", "application/json"),
        ("Authorization", f"Bearer {gateway.key}"),
        ("MCP-Protocol-Version", MODERN),
        ("Mcp-Method", "tools/call"),
        ("Mcp-Name", "get_file_contents"),
        ("Mcp-Name", "list_issues"),
    ]
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
        response = await http.post("/mcp", content=json.dumps(message), headers=repeated)
    assert response.status_code == 400 and "more than once" in response.json()["error"]["message"]


async def test_an_encoded_name_that_matches_is_accepted(gateway: InProcessGateway) -> None:
    message = modern("tools/call", {"name": "get_file_contents", "arguments": {"owner": "acme"}})
    encoded = "=?base64?" + base64.b64encode(b"get_file_contents").decode() + "?="
    response = await post_modern(gateway, message, **{"Mcp-Name": encoded})
    assert response.status_code == 200  # the envelope passed; the arguments are what is wrong


@pytest.mark.parametrize(
    ("version", "as_tool_error"),
    [(MODERN, True), ("2025-11-25", True), ("2025-06-18", False), (None, False)],
)
async def test_invalid_arguments_are_a_tool_error_from_2025_11_25_on(
    gateway: InProcessGateway, version: str | None, as_tool_error: bool
) -> None:
    arguments = {"owner": "acme", "repo": "app"}  # no filepath
    if version == MODERN:
        response = await post_modern(
            gateway, modern("tools/call", {"name": "get_file_contents", "arguments": arguments})
        )
    else:
        call = {"jsonrpc": "2.0", "id": 3, "method": "tools/call"}
        call["params"] = {"name": "get_file_contents", "arguments": arguments}
        sent = {"MCP-Protocol-Version": version} if version else {}
        response = await gateway.post(call, key=gateway.key, headers=sent)
    body = response.json()
    if as_tool_error:
        assert response.status_code == 200
        assert body["result"]["isError"] is True
        assert "filepath" in body["result"]["content"][0]["text"]
    else:
        assert body["error"]["code"] == -32602 and "filepath" in body["error"]["message"]
    assert audited_calls(gateway)[-1]["outcome"] == "invalid"


@pytest.mark.parametrize("version", [MODERN, "2025-11-25"])
async def test_an_unknown_tool_stays_a_protocol_error(gateway: InProcessGateway, version: str) -> None:
    if version == MODERN:
        response = await post_modern(gateway, modern("tools/call", {"name": "merge", "arguments": {}}))
        assert response.status_code == 400
    else:
        call = {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "merge", "arguments": {}},
        }
        response = await gateway.post(call, key=gateway.key, headers={"MCP-Protocol-Version": version})
    assert response.json()["error"]["code"] == -32602
    assert "Unknown tool" in response.json()["error"]["message"]


class FormattedLines(logging.Handler):
    """Formats each record as it is emitted, in the context of the request that logged it."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.setFormatter(JsonFormatter())
        self.lines: list[dict[str, Any]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(json.loads(self.format(record)))


async def test_traceparent_reaches_the_audit_entry_and_the_logs(gateway: InProcessGateway) -> None:
    message = modern(
        "tools/call", {"name": "get_file_contents", "arguments": READ_FILE}, traceparent=TRACEPARENT
    )
    handler, logger = FormattedLines(), logging.getLogger("gateway.core.service")
    logger.addHandler(handler)
    try:
        await post_modern(gateway, message)
    finally:
        logger.removeHandler(handler)
    assert audited_calls(gateway)[-1]["traceparent"] == TRACEPARENT
    assert [line["msg"] for line in handler.lines if line.get("traceparent") == TRACEPARENT]


@pytest.mark.parametrize("malformed", ["not-a-trace", "00-" + "0" * 32 + "-00f067aa0ba902b7-01", 7])
async def test_a_malformed_traceparent_is_left_out(gateway: InProcessGateway, malformed: object) -> None:
    message = modern(
        "tools/call", {"name": "get_file_contents", "arguments": READ_FILE}, traceparent=malformed
    )
    await post_modern(gateway, message)
    assert "traceparent" not in audited_calls(gateway)[-1]
