"""Review of the 2026-07-28 transport (commits 2c74767..394c9e2): requests whose headers and body disagree
yet run, and a requestState that crashes the verifier instead of being refused. Each test states what a
conforming server must do; it fails while the gateway does otherwise."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.unit.edge.in_process import InProcessGateway, running_app
from tests.unit.mcp.test_modern import MODERN, READ_FILE, audited_calls, headers_of, modern, post_modern


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[InProcessGateway]:
    async with running_app(tmp_path) as running:
        yield running


async def post_raw(
    gateway: InProcessGateway, message: dict[str, Any], headers: list[tuple[str, str]]
) -> httpx.Response:
    """POST with raw header lines, so that one header can be repeated."""
    transport = httpx.ASGITransport(app=gateway._app, client=("127.0.0.1", 50000))
    sent = [
        ("Content-Type", "application/json"),
        ("Accept", "application/json"),
        ("Authorization", f"Bearer {gateway.key}"),
        *headers,
    ]
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
        return await http.post("/mcp", content=json.dumps(message), headers=sent)


def assert_refused_as_mismatch(response: httpx.Response, gateway: InProcessGateway) -> None:
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == -32020, response.text
    entry = audited_calls(gateway)[-1]
    assert entry["decision_id"] is None, "the call was decided (and run) although its headers lie"


async def test_a_repeated_version_header_cannot_switch_off_the_header_check(
    gateway: InProcessGateway,
) -> None:
    """FINDING 1. The era is taken from the *last* MCP-Protocol-Version line (a dict of the headers), the
    duplicate check only runs in the modern branch. A first-copy reader in front of the gateway (nginx's
    $http_mcp_protocol_version, the official SDK's own era router, which takes the first) sees
    2026-07-28, trusts Mcp-Name as validated and routes/limits on `list_issues`, while the gateway
    serves the request as 2025-11-25, never compares Mcp-Name and runs `get_file_contents`."""
    message = modern("tools/call", {"name": "get_file_contents", "arguments": READ_FILE})
    response = await post_raw(
        gateway,
        message,
        [
            ("MCP-Protocol-Version", MODERN),
            ("MCP-Protocol-Version", "2025-11-25"),
            ("Mcp-Method", "tools/list"),
            ("Mcp-Name", "list_issues"),
        ],
    )
    assert_refused_as_mismatch(response, gateway)


@pytest.mark.parametrize(
    "version_header",
    [pytest.param("2025-11-25", id="handshake-header"), pytest.param(None, id="no-header")],
)
async def test_a_body_in_the_modern_envelope_is_served_as_the_modern_revision(
    gateway: InProcessGateway, version_header: str | None
) -> None:
    """FINDING 2. versioning.mdx: "A request carrying modern per-request `_meta` is served statelessly
    according to this revision." Here the body declares 2026-07-28 in `_meta` while the version header
    names a handshake revision (or is absent), and Mcp-Name names another tool: the gateway picks the
    era from the header alone, checks nothing, and runs the call (requestState, if any, silently
    ignored)."""
    message = modern(
        "tools/call", {"name": "get_file_contents", "arguments": READ_FILE, "requestState": "forged"}
    )
    headers = {"Mcp-Method": "tools/call", "Mcp-Name": "list_issues"}
    if version_header is not None:
        headers["MCP-Protocol-Version"] = version_header
    response = await gateway.post(message, key=gateway.key, headers=headers)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] in (-32020, -32602), response.text
    assert audited_calls(gateway)[-1]["decision_id"] is None, "ran under legacy semantics"


def _state_of(payload: bytes) -> str:
    return base64.urlsafe_b64encode(payload).rstrip(b"=").decode() + "." + "A" * 43


async def test_a_deeply_nested_request_state_is_refused_not_an_internal_error(
    gateway: InProcessGateway,
) -> None:
    """FINDING 3. RequestStates.open json-decodes the attacker's body *before* checking its seal; a body
    of 1500 nested arrays (2000 characters, under MAX_STATE_CHARS) raises RecursionError, which nothing
    catches: the client gets a generic -32603 with HTTP 200 instead of the invalid-state refusal, every
    such request logs a stack trace, and the audit entry says `error` rather than `invalid`."""
    state = _state_of(b"[" * 1500)
    assert len(state) <= 2048
    message = modern(
        "tools/call", {"name": "get_file_contents", "arguments": READ_FILE, "requestState": state}
    )
    response = await post_modern(gateway, message)
    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == -32602, response.text
    assert "requestState" in response.json()["error"]["message"]
    assert audited_calls(gateway)[-1]["outcome"] == "invalid"


async def test_initialize_with_an_unknown_version_header_is_still_negotiated(
    gateway: InProcessGateway,
) -> None:
    """NOTE (behaviour change, lower confidence). Before 2c74767..394c9e2 an `initialize` was exempt from
    the version-header check (`message.method != "initialize"`) and was negotiated down to our latest
    handshake version; now a client that stamps its own version on initialize (2025-03-26 here) gets
    400 and -32022, a 2026-07-28 error code that a handshake-era client does not know, instead of a
    negotiated 2025-11-25."""
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-03-26",
            "capabilities": {},
            "clientInfo": {"name": "c", "version": "1"},
        },
    }
    response = await gateway.post(initialize, key=gateway.key, headers={"MCP-Protocol-Version": "2025-03-26"})
    assert response.status_code == 200, response.text
    assert response.json()["result"]["protocolVersion"] == "2025-11-25"


async def test_the_routing_headers_match_in_the_happy_path(gateway: InProcessGateway) -> None:
    """Control: the same call with honest headers is decided (so the refusals above are about the headers)."""
    message = modern("tools/call", {"name": "get_file_contents", "arguments": READ_FILE})
    response = await gateway.post(message, key=gateway.key, headers=headers_of(message))
    assert response.status_code == 200
    assert audited_calls(gateway)[-1]["decision_id"] == "in-process"
