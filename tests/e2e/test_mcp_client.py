"""End to end with the official MCP Python SDK client: gateway under uvicorn, real OPA, the simulator."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError

from gateway.tools import default_registry
from tests.processes import Gateway, Simulator, create_key, start_gateway
from tests.replay import assert_every_decision_replays
from tests.untrusted import untrusted_data

pytestmark = pytest.mark.e2e

POLICY = """\
defaults:
  read: allow
  write: deny
tools:
  deny: [list_issues]
repositories:
  acme/app:
    paths:
      deny: ["src/secrets/*"]
"""
# Every read tool but list_issues, which POLICY denies globally.
READ_TOOLS = {bound.tool.name for bound in default_registry() if bound.tool.capability == "read"} - {
    "list_issues"
}


@pytest.fixture(scope="module")
def gateway(
    simulator: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str
) -> Iterator[Gateway]:
    gw = start_gateway(
        tmp_path_factory.mktemp("gw-client"),
        policy=POLICY,
        upstream=simulator,
        env={"AEGIS_AUTH_FAILURE_LIMIT": "100"},  # this module fails on purpose more than 10 times
    )
    yield gw
    gw.stop()


@asynccontextmanager
async def connect(gateway: Gateway, key: str | None) -> AsyncIterator[Client]:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    async with (
        create_mcp_http_client(headers=headers) as http,
        Client(streamable_http_client(gateway.url, http_client=http)) as client,
    ):
        yield client


def audit_entries(gateway: Gateway) -> list[dict[str, object]]:
    return [json.loads(line) for line in gateway.audit_log.read_text().splitlines()]


def verify(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "audit", "verify", str(path)], capture_output=True, text=True
    )


async def test_lists_only_tools_the_policy_can_allow(gateway: Gateway) -> None:
    async with connect(gateway, gateway.key) as client:
        listed = await client.list_tools()
    names = {tool.name for tool in listed.tools}
    assert names == READ_TOOLS  # list_issues is denied globally, so it is not shown
    for tool in listed.tools:
        assert tool.annotations is not None and tool.annotations.read_only_hint is True
        assert tool.input_schema["additionalProperties"] is False


async def test_reads_a_file_through_the_gateway(gateway: Gateway, simulator: Simulator) -> None:
    direct = httpx.get(
        f"{simulator.url}/api/v1/repos/acme/app/raw/README.md",
        headers={"Authorization": f"token {simulator.token}"},
    )
    async with connect(gateway, gateway.key) as client:
        result = await client.call_tool(
            "get_file_contents", {"owner": "ACME", "repo": "app", "filepath": "README.md"}
        )
    assert result.is_error is False
    assert untrusted_data(result.content[0].text) == direct.text
    served = [(r["path"], r["query"], r["auth_given"]) for r in simulator.requests()]
    assert result.structured_content is not None and result.structured_content["path"] == "README.md"
    blob = f"/api/v1/repos/acme/app/git/blobs/{result.structured_content['sha']}"
    # normalized owner, token sent: the file's metadata, then the blob it names
    assert served[-2:] == [("/api/v1/repos/acme/app/contents-ext/README.md", "", True), (blob, "", True)]
    entry = audit_entries(gateway)[-1]
    assert (entry["tool"], entry["outcome"], entry["repo"], entry["path"]) == (
        "get_file_contents",
        "allowed",
        "acme/app",
        "README.md",
    )


async def test_denied_path_names_the_rule(gateway: Gateway) -> None:
    async with connect(gateway, gateway.key) as client:
        result = await client.call_tool(
            "get_file_contents", {"owner": "acme", "repo": "app", "filepath": "src/secrets/prod.env"}
        )
    assert result.is_error is True
    assert result.structured_content is not None
    rules = [reason["rule"] for reason in result.structured_content["reasons"]]
    assert "repo.acme/app.paths.deny[0]" in rules
    assert "prod.env" not in json.dumps(result.structured_content.get("content", ""))
    entry = audit_entries(gateway)[-1]
    assert entry["outcome"] == "denied" and entry["path"] == "src/secrets/prod.env"
    assert any(
        r["rule"] == "repo.acme/app.paths.deny[0]" and r["source"].endswith(":9") for r in entry["reasons"]
    )


async def test_denied_tool_is_refused_even_when_called_directly(gateway: Gateway) -> None:
    async with connect(gateway, gateway.key) as client:
        result = await client.call_tool("list_issues", {"owner": "acme", "repo": "app"})
    assert result.is_error is True
    assert result.structured_content is not None
    assert "tools.deny[0]" in [reason["rule"] for reason in result.structured_content["reasons"]]
    assert audit_entries(gateway)[-1]["outcome"] == "denied"


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        pytest.param({"owner": "acme", "repo": "app"}, "filepath", id="missing-field"),
        pytest.param({"owner": "acme", "repo": "app", "filepath": 7}, "filepath", id="wrong-type"),
        pytest.param(
            {"owner": "acme", "repo": "app", "filepath": "a", "extra": 1}, "extra", id="extra-property"
        ),
        pytest.param(
            {"owner": "acme", "repo": "app", "filepath": "../etc/passwd"}, "filepath", id="traversal"
        ),
        pytest.param(
            {"owner": "acme", "repo": "app", "filepath": "a", "ref": "main..dev"}, "ref", id="bad-ref"
        ),
    ],
)
async def test_invalid_arguments_are_a_tool_error_naming_the_field(
    gateway: Gateway, simulator: Simulator, arguments: dict[str, object], field: str
) -> None:
    """The SDK speaks 2026-07-28: the model reads the error as a tool result and can correct the call."""
    upstream_before = len(simulator.requests())
    async with connect(gateway, gateway.key) as client:
        result = await client.call_tool("get_file_contents", arguments)
    assert result.is_error is True
    assert field in result.content[0].text
    assert len(simulator.requests()) == upstream_before  # never reached Gitea
    assert audit_entries(gateway)[-1]["outcome"] == "invalid"


async def test_unknown_tool_is_invalid_params(gateway: Gateway) -> None:
    async with connect(gateway, gateway.key) as client:
        with pytest.raises(MCPError) as raised:
            await client.call_tool("merge_pull_request", {"owner": "acme", "repo": "app"})
    assert raised.value.error.code == -32602
    entry = audit_entries(gateway)[-1]
    assert (entry["tool"], entry["outcome"], entry["decision_id"]) == ("merge_pull_request", "invalid", None)


@pytest.mark.parametrize("key", [None, "aegis_wrong-key"], ids=["missing-key", "wrong-key"])
async def test_client_without_a_valid_key_cannot_connect(gateway: Gateway, key: str | None) -> None:
    entries_before = len(audit_entries(gateway))
    with pytest.raises(ExceptionGroup) as raised:  # the SDK raises from inside its task group
        async with connect(gateway, key) as client:
            await client.list_tools()
    assert raised.group_contains(MCPError, match="^Unauthorized$", depth=2)
    response = httpx.post(gateway.url, json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith('Bearer realm="aegis"')
    failures = audit_entries(gateway)[entries_before:]  # security events, never tool calls
    assert failures and {(entry["event"], entry["tool"], entry["principal"]) for entry in failures} == {
        ("auth_failure", None, None)
    }


def test_audit_log_verifies_and_every_tampering_is_caught(gateway: Gateway, tmp_path: Path) -> None:
    """Runs after the calls above (module order): one entry per tools/call, chain intact, tampering fails."""
    entries = audit_entries(gateway)
    assert len(entries) >= 8
    assert [entry["seq"] for entry in entries] == list(range(1, len(entries) + 1))
    intact = verify(gateway.audit_log)
    assert intact.returncode == 0, intact.stderr
    assert f"{len(entries)} entries" in intact.stdout

    lines = gateway.audit_log.read_bytes().splitlines(keepends=True)
    flipped = bytearray(lines[2])
    position = flipped.index(b'"outcome":"') + len(b'"outcome":"')
    flipped[position] = ord("X") if flipped[position] != ord("X") else ord("Y")
    cases = {
        "byte-changed": ([*lines[:2], bytes(flipped), *lines[3:]], 3),
        "line-deleted": (lines[:3] + lines[4:], 4),
        "lines-swapped": ([*lines[:4], lines[5], lines[4], *lines[6:]], 5),
    }
    for name, (tampered, broken_line) in cases.items():
        copy = tmp_path / f"{name}.jsonl"
        copy.write_bytes(b"".join(tampered))
        result = verify(copy)
        assert result.returncode == 1, name
        assert f"line {broken_line}" in result.stderr, (name, result.stderr)


async def test_commit_path_cannot_smuggle_a_pathspec_past_the_path_policy(
    gateway: Gateway, simulator: Simulator
) -> None:
    token = {"Authorization": f"token {simulator.token}"}
    # Gitea (and so the simulator) treats `path` as a git pathspec: `src/*` reaches the denied file.
    direct = httpx.get(
        f"{simulator.url}/api/v1/repos/acme/app/commits", params={"path": "src/*"}, headers=token
    )
    secret_commits = httpx.get(
        f"{simulator.url}/api/v1/repos/acme/app/commits",
        params={"path": "src/secrets/prod.env"},
        headers=token,
    )
    assert secret_commits.json()
    assert {c["sha"] for c in secret_commits.json()} <= {c["sha"] for c in direct.json()}
    upstream_before = len(simulator.requests())
    async with connect(gateway, gateway.key) as client:
        pathspec = await client.call_tool("list_commits", {"owner": "acme", "repo": "app", "path": "src/*"})
        literal = await client.call_tool(
            "list_commits", {"owner": "acme", "repo": "app", "path": "src/secrets/prod.env"}
        )
    assert pathspec.is_error is True and "'path'" in pathspec.content[0].text
    assert len(simulator.requests()) == upstream_before
    assert literal.is_error is True
    assert literal.structured_content is not None and literal.structured_content["denied"] is True


async def test_a_key_without_the_read_scope_sees_and_runs_nothing(gateway: Gateway) -> None:
    admin_only = create_key(gateway.keys_file, name="admin-only", scopes=("admin",))
    async with connect(gateway, admin_only) as client:
        listed = await client.list_tools()
        result = await client.call_tool("get_repository_info", {"owner": "acme", "repo": "app"})
    assert listed.tools == []
    assert result.is_error is True
    assert result.structured_content is not None
    assert {"rule": "principal.scope", "effect": "deny", "source": "builtin"} in result.structured_content[
        "reasons"
    ]
    assert audit_entries(gateway)[-1]["principal"] == "admin-only"


def test_every_decision_replays_under_its_archived_policy(gateway: Gateway) -> None:
    """Runs last: the whole log of this module's gateway, decided again, gives every recorded decision."""
    assert_every_decision_replays(gateway, at_least=5)
