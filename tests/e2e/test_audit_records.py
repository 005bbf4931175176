"""What a reviewer gets end to end: the audit entry names the key's id and the call's target arguments,
and with the managed OPA's decision log on the console, OPA's log line for the call carries the audit
entry's decision_id and none of what the call wrote."""

from __future__ import annotations

import hashlib
import json
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from policy_compiler import build_bundle

from gateway.audit import canonical_json
from gateway.edge.keys import load_keys
from tests.processes import (
    SIDECAR_NOT_ARCHIVED,
    UNLIMITED,
    Gateway,
    Simulator,
    create_key,
    free_port,
    opa_binary,
    start_gateway,
    start_simulator,
)

pytestmark = pytest.mark.e2e

POLICY = """\
defaults: {read: allow, write: deny}
tools:
  allow: [create_or_update_file, search_code, get_pull_request]
write:
  repositories: [acme/app]
  branches: [main]
audit:
  hash_arguments: [query]
"""
GITEA_SCOPES = ("read:repository", "write:repository", "read:issue", "write:issue", "read:user")
CONTENT = "canary-content-4be1c7 written by the agent\n"
MESSAGE = "canary-message-93d0aa"
QUERY = "canary-query-5e21f0"
LOG_WAIT_S = 10.0


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    sim = start_simulator(tmp_path_factory.mktemp("gitea-audit") / "state", token_scopes=GITEA_SCOPES)
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def gateway(upstream: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gw = start_gateway(
        tmp_path_factory.mktemp("gw-audit"),
        policy=POLICY,
        upstream=upstream,
        env={**UNLIMITED, "WRITE_MODE": "true", "AEGIS_OPA_DECISION_LOGS": "console"},
    )
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def writer(gateway: Gateway) -> tuple[str, str]:
    """A write key and its id in the keys file."""
    key = create_key(gateway.keys_file, "writer", ("tools:read", "tools:write"))
    (stored,) = [stored for stored in load_keys(gateway.keys_file) if stored.name == "writer"]
    return key, stored.id


def call(gateway: Gateway, key: str, request_id: str, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
    message = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }
    response = httpx.post(
        gateway.url,
        json=message,
        headers={
            "Authorization": f"Bearer {key}",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-11-25",
            "X-Request-ID": request_id,
        },
        timeout=30,
    )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["result"]
    return result


def entries_of(gateway: Gateway, request_id: str) -> list[dict[str, Any]]:
    lines = gateway.audit_log.read_text(encoding="utf-8").splitlines()
    return [entry for entry in map(json.loads, lines) if entry.get("client_request_id") == request_id]


def opa_log_line(gateway: Gateway, decision_id: str) -> dict[str, Any]:
    """OPA's decision log line of `decision_id`, from the gateway's output (OPA writes to its stderr)."""
    return decision_logged(gateway.logs, decision_id)


def decision_logged(logs: Callable[[], str], decision_id: str) -> dict[str, Any]:
    """The decision log line of `decision_id` in the output `logs` reads, once it is there."""
    deadline = time.monotonic() + LOG_WAIT_S
    while time.monotonic() < deadline:
        for line in logs().splitlines():
            logged = json.loads(line) if line.startswith("{") else {}
            if logged.get("msg") == "Decision Log" and logged.get("decision_id") == decision_id:
                return dict(logged)
        time.sleep(0.1)
    raise AssertionError(f"no OPA decision log line for {decision_id} in:\n{logs()}")


def test_a_writes_opa_decision_log_line_joins_its_audit_entries_without_its_content(
    gateway: Gateway, writer: tuple[str, str]
) -> None:
    key, key_id = writer
    arguments = {
        "owner": "acme",
        "repo": "app",
        "filepath": "docs/canary.md",
        "branch": "main",
        "content": CONTENT,
        "message": MESSAGE,
    }
    result = call(gateway, key, "write-canary", "create_or_update_file", arguments)
    assert result["isError"] is False, result
    intent, outcome = entries_of(gateway, "write-canary")
    assert (intent["event"], outcome["event"], outcome["outcome"]) == ("write_intent", "tool_call", "allowed")
    assert intent["decision_id"] == outcome["decision_id"]
    for entry in (intent, outcome):
        assert (entry["principal"], entry["credential_id"]) == ("writer", key_id)
        assert entry["args"] == {"filepath": "docs/canary.md", "branch": "main"}
    logged = opa_log_line(gateway, outcome["decision_id"])
    assert logged["path"] == "aegis/authz/decision"
    assert logged["input"]["args"] == {
        "owner": "acme",
        "repo": "app",
        "filepath": "docs/canary.md",
        "branch": "main",
    }
    assert sorted(logged["erased"]) == ["/input/args/content", "/input/args/message"]
    everything = gateway.logs() + gateway.audit_log.read_text(encoding="utf-8")
    assert CONTENT.strip() not in everything and MESSAGE not in everything


def test_a_query_the_policy_hashes_is_only_its_digest_in_the_audit_and_absent_from_opas_log(
    gateway: Gateway, writer: tuple[str, str]
) -> None:
    key, _ = writer
    arguments = {"owner": "acme", "repo": "app", "query": QUERY, "path_prefix": "src"}
    result = call(gateway, key, "search-canary", "search_code", arguments)
    assert result["isError"] is False, result
    (entry,) = entries_of(gateway, "search-canary")
    digest = hashlib.sha256(canonical_json(QUERY)).hexdigest()
    assert entry["args"] == {"query": {"sha256": digest}, "path_prefix": "src"}
    logged = opa_log_line(gateway, entry["decision_id"])
    assert logged["erased"] == ["/input/args/query"] and "query" not in logged["input"]["args"]
    assert QUERY not in gateway.logs() + gateway.audit_log.read_text(encoding="utf-8")


def test_a_pull_request_read_names_its_number(gateway: Gateway, writer: tuple[str, str]) -> None:
    key, _ = writer
    result = call(gateway, key, "pull-read", "get_pull_request", {"owner": "acme", "repo": "app", "index": 3})
    assert result["isError"] is False, result
    (entry,) = entries_of(gateway, "pull-read")
    assert (entry["tool"], entry["path"], entry["args"]) == ("get_pull_request", None, {"index": 3})
    assert opa_log_line(gateway, entry["decision_id"])["input"]["args"]["index"] == 3


def test_a_sidecars_decision_log_joins_the_audit_entry_too(tmp_path: Path, upstream: Simulator) -> None:
    (tmp_path / "policy.yaml").write_text(POLICY, encoding="utf-8")
    bundle = build_bundle(tmp_path / "policy.yaml", tmp_path / "bundle.tar.gz").path
    port, opa_log = free_port(), tmp_path / "opa.log"
    with opa_log.open("wb") as output:
        sidecar = subprocess.Popen(
            [
                *(opa_binary(), "run", "--server", "--addr", f"127.0.0.1:{port}", "--bundle", str(bundle)),
                *("--set", "decision_logs.console=true", "--skip-version-check", "--log-level", "error"),
            ],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        env = {**UNLIMITED, "AEGIS_OPA_URL": f"http://127.0.0.1:{port}"}
        gateway = start_gateway(
            tmp_path / "gw", policy=POLICY, upstream=upstream, env=env, not_replayed=SIDECAR_NOT_ARCHIVED
        )
        try:
            arguments = {"owner": "acme", "repo": "app", "index": 3}
            assert (
                call(gateway, gateway.key, "sidecar-read", "get_pull_request", arguments)["isError"] is False
            )
            (entry,) = entries_of(gateway, "sidecar-read")
        finally:
            gateway.stop()
        logged = decision_logged(lambda: opa_log.read_text(encoding="utf-8"), entry["decision_id"])
        assert logged["input"]["args"]["index"] == 3 and entry["args"] == {"index": 3}
    finally:
        sidecar.terminate()
        sidecar.wait(timeout=10)
