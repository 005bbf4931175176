"""End to end with the MCP clients agents are built on, at each protocol revision the gateway speaks: the
official Python SDK, the official TypeScript SDK clients (v2 and v1) and the MCP Inspector CLI (legacy and
modern era). Each lists the tools and calls one; the SDKs also send invalid arguments, which 2025-06-18
refuses as a JSON-RPC error and later revisions answer as a tool error the model can read."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from gateway.tools import default_registry
from tests.processes import Gateway, Simulator, start_gateway
from tests.untrusted import untrusted_data

pytestmark = pytest.mark.e2e

HERE = Path(__file__).parent
READ_TOOLS = {bound.tool.name for bound in default_registry() if bound.tool.capability == "read"}
README = {"owner": "acme", "repo": "app", "filepath": "README.md"}
MISSING_FILEPATH = {"owner": "acme", "repo": "app"}
NODE_TIMEOUT_S = 60


@dataclasses.dataclass(frozen=True)
class Seen:
    """What a client saw: the revision it negotiated, the tools listed and the README call's first text."""

    protocol_version: str
    tools: set[str]
    readme_text: str


@pytest.fixture(scope="module")
def gateway(
    simulator: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str
) -> Iterator[Gateway]:
    gw = start_gateway(
        tmp_path_factory.mktemp("gw-clients"), policy="defaults: {read: allow}\n", upstream=simulator
    )
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def readme(simulator: Simulator) -> str:
    response = httpx.get(
        f"{simulator.url}/api/v1/repos/acme/app/raw/README.md",
        headers={"Authorization": f"token {simulator.token}"},
    )
    response.raise_for_status()
    return response.text


def assert_served(seen: Seen, revision: str, readme: str) -> None:
    assert seen.protocol_version == revision
    assert seen.tools == READ_TOOLS
    assert untrusted_data(seen.readme_text) == readme


def run_node(node_modules: Path, *args: str, env: dict[str, str]) -> Any:
    """A Node program under the pinned Node 22; its stdout parsed as JSON."""
    result = subprocess.run(
        [str(node_modules / ".bin/node"), *args],
        capture_output=True,
        text=True,
        timeout=NODE_TIMEOUT_S,
        env={**os.environ, **env},
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize(
    ("mode", "revision"),
    [
        pytest.param("legacy", "2025-11-25", id="legacy-2025-11-25"),
        pytest.param("2026-07-28", "2026-07-28", id="pinned-2026-07-28"),
    ],
)
async def test_python_sdk_lists_and_calls_tools(
    gateway: Gateway, readme: str, mode: str, revision: str
) -> None:
    """mcp 2.3 offers 2025-11-25 in the handshake (`mode="legacy"`, no older pin) or adopts 2026-07-28."""
    async with (
        create_mcp_http_client(headers=gateway.auth) as http,
        Client(streamable_http_client(gateway.url, http_client=http), mode=mode) as client,
    ):
        listed = await client.list_tools()
        result = await client.call_tool("get_file_contents", README)
        invalid = await client.call_tool("get_file_contents", MISSING_FILEPATH)
        seen = Seen(client.protocol_version, {tool.name for tool in listed.tools}, result.content[0].text)
    assert_served(seen, revision, readme)
    assert result.is_error is False
    assert invalid.is_error is True and "filepath" in invalid.content[0].text


@pytest.mark.parametrize(
    ("sdk", "revision"),
    [("v2", "2025-06-18"), ("v2", "2025-11-25"), ("v2", "2026-07-28"), ("v1", "2025-11-25")],
)
def test_typescript_sdk_lists_and_calls_tools(
    gateway: Gateway, node_modules: Path, readme: str, sdk: str, revision: str
) -> None:
    """v2 (@modelcontextprotocol/client) pinned to each revision; v1 (@modelcontextprotocol/sdk), which
    offers only 2025-11-25, because most clients shipped today are built on it."""
    calls = [
        {"name": "get_file_contents", "arguments": README},
        {"name": "get_file_contents", "arguments": MISSING_FILEPATH},
    ]
    report = run_node(
        node_modules,
        str(HERE / "ts_sdk_client.cjs"),
        sdk,
        gateway.url,
        revision,
        json.dumps(calls),
        env={"NODE_PATH": str(node_modules), "AEGIS_KEY": gateway.key},
    )
    found, invalid = report["calls"]
    seen = Seen(report["protocolVersion"], set(report["tools"]), found["result"]["content"][0]["text"])
    assert_served(seen, revision, readme)
    if revision == "2025-06-18":
        assert invalid["error"]["code"] == -32602 and "filepath" in invalid["error"]["message"]
    else:
        assert invalid["result"]["isError"] is True and "filepath" in invalid["result"]["content"][0]["text"]


@pytest.mark.parametrize(("era", "revision"), [("legacy", "2025-11-25"), ("modern", "2026-07-28")])
def test_inspector_cli_lists_and_calls_tools(
    gateway: Gateway, node_modules: Path, readme: str, tmp_path: Path, era: str, revision: str
) -> None:
    """The era comes only from a config file (protocolEra); each CLI run is one connection and one method."""
    config = tmp_path / "mcp.json"
    server = {"type": "http", "url": gateway.url, "protocolEra": era, "headers": gateway.auth}
    config.write_text(json.dumps({"mcpServers": {"aegis": server}}))
    launcher = node_modules / "@modelcontextprotocol/inspector/clients/launcher/build/index.js"
    env = {"HOME": str(tmp_path), "MCP_INSPECTOR_SECRET_STORE": "memory"}  # no OS keychain, nothing in ~

    def inspect(*method: str) -> Any:
        args = ("--cli", "--config", str(config), "--server", "aegis", "--format", "json", *method)
        return run_node(node_modules, str(launcher), *args, env=env)["result"]

    connected = inspect("--method", "initialize")
    listed = inspect("--method", "tools/list")
    result = inspect(
        "--method", "tools/call", "--tool-name", "get_file_contents", "--tool-args-json", json.dumps(README)
    )
    seen = Seen(
        connected["protocolVersion"], {tool["name"] for tool in listed["tools"]}, result["content"][0]["text"]
    )
    assert_served(seen, revision, readme)
