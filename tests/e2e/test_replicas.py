"""Two gateway replicas sharing one PostgreSQL and one Redis, each writing its own audit chain: an approval
asked on one is decided and run on the other exactly once, a quota is spent once across both, any replica
rolls back any replica's write, and PostgreSQL going away refuses writes while reads go on."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.replica_set import (
    POLICY,
    Replicas,
    admin,
    admin_get,
    app,
    audit,
    audit_of,
    call,
    issue_titles,
    sent,
)
from tests.processes import Gateway, SilentUpstream, Simulator, Upstream, create_key, start_gateway

pytestmark = pytest.mark.e2e

# Far below the state pool's 5 s wait for a connection, far above a refused connection on loopback.
PROMPT_REFUSAL_S = 2.0


async def modern_call(
    gateway: Gateway, key: str, tool: str, arguments: dict[str, Any], request_state: str | None = None
) -> dict[str, Any]:
    """A 2026-07-28 tools/call; the whole JSON-RPC answer, a result or an error."""
    params: dict[str, Any] = {
        "name": tool,
        "arguments": arguments,
        "_meta": {
            "io.modelcontextprotocol/protocolVersion": "2026-07-28",
            "io.modelcontextprotocol/clientCapabilities": {},
        },
    }
    if request_state is not None:
        params["requestState"] = request_state
    headers = {
        "MCP-Protocol-Version": "2026-07-28",
        "Mcp-Method": "tools/call",
        "Mcp-Name": tool,
        "Authorization": f"Bearer {key}",
    }
    async with httpx.AsyncClient(timeout=30) as client:
        body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}
        response = await client.post(gateway.url, json=body, headers=headers)
    answer: dict[str, Any] = response.json()
    return answer


async def test_an_approval_asked_on_one_replica_runs_once_from_either(replicas: Replicas) -> None:
    writer, approver = replicas.keys["writer"], replicas.keys["approver"]
    comment = app(index=1, body="approved across replicas")
    held = await call(replicas.a, writer, "create_issue_comment", comment)
    approval_id = held["structuredContent"]["approval_id"]
    again = await call(replicas.b, writer, "create_issue_comment", comment)
    assert again["structuredContent"]["approval_id"] == approval_id  # one request, whichever replica
    decided = admin(replicas.b, approver, "/admin/approvals/approve", {"id": approval_id})
    assert decided.status_code == 200, decided.text

    before = sent(replicas.upstream, "POST", "/api/v1/repos/acme/app/issues/1/comments")
    raced = await asyncio.gather(
        *(call(gateway, writer, "create_issue_comment", comment) for gateway in replicas.both() * 3)
    )
    ran = [result for result in raced if not result["isError"]]
    assert len(ran) == 1
    assert sent(replicas.upstream, "POST", "/api/v1/repos/acme/app/issues/1/comments") == before + 1
    held_again = {result["structuredContent"]["approval_id"] for result in raced if result["isError"]}
    assert len(held_again) == 1 and approval_id not in held_again  # used up: one new request for the rest


async def test_a_held_calls_state_from_one_replica_runs_once_from_either(replicas: Replicas) -> None:
    """A 2026-07-28 client's retry may reach any replica: the shared key opens the state everywhere, and
    of six racing retries with it, one runs and the rest are refused as spent."""
    writer, approver = replicas.keys["writer"], replicas.keys["approver"]
    comment = app(index=1, body="held across replicas, resumed by its state")
    held = (await modern_call(replicas.a, writer, "create_issue_comment", comment))["result"]
    assert held["resultType"] == "input_required"
    still = await modern_call(replicas.b, writer, "create_issue_comment", comment, held["requestState"])
    assert still["result"]["resultType"] == "input_required"  # B opened A's state: still waiting
    (pending,) = [
        approval
        for approval in admin_get(replicas.b, approver, "/admin/approvals")["approvals"]
        if approval["arguments"] == comment
    ]
    assert admin(replicas.a, approver, "/admin/approvals/approve", {"id": pending["id"]}).status_code == 200

    before = sent(replicas.upstream, "POST", "/api/v1/repos/acme/app/issues/1/comments")
    state = still["result"]["requestState"]
    raced = await asyncio.gather(
        *(
            modern_call(gateway, writer, "create_issue_comment", comment, state)
            for gateway in replicas.both() * 3
        )
    )
    ran = [answer for answer in raced if "result" in answer]
    assert len(ran) == 1 and ran[0]["result"]["isError"] is False
    assert {answer["error"]["code"] for answer in raced if "error" in answer} == {-32602}
    assert sent(replicas.upstream, "POST", "/api/v1/repos/acme/app/issues/1/comments") == before + 1


async def test_a_quota_is_spent_once_across_replicas(replicas: Replicas) -> None:
    key = replicas.keys["four-writes"]
    before = sent(replicas.upstream, "POST", "/api/v1/repos/acme/app/issues")
    raced = await asyncio.gather(
        *(
            call(gateway, key, "create_issue", app(title=f"race {n}"))
            for n, gateway in enumerate(replicas.both() * 5)
        )
    )
    allowed = [result for result in raced if not result["isError"]]
    refused = [result for result in raced if result["isError"]]
    assert len(allowed) == 4
    assert {result["structuredContent"]["reasons"][-1]["rule"] for result in refused} == {
        "quota.writes_per_day"
    }
    assert sent(replicas.upstream, "POST", "/api/v1/repos/acme/app/issues") == before + 4


def file_text(upstream: Simulator, path: str) -> str | None:
    response = httpx.get(
        f"{upstream.url}/api/v1/repos/acme/app/contents/{path}?ref=main",
        headers={"Authorization": f"token {upstream.token}"},
    )
    return base64.b64decode(response.json()["content"]).decode() if response.status_code == 200 else None


async def test_any_replica_rolls_back_any_replicas_write(replicas: Replicas) -> None:
    writer, approver = replicas.keys["writer"], replicas.keys["approver"]
    written = await call(
        replicas.a,
        writer,
        "create_or_update_file",
        app(filepath="docs/replica.md", branch="main", content="A\n"),
    )
    assert written["isError"] is False, written
    assert file_text(replicas.upstream, "docs/replica.md") == "A\n"
    entry = audit(replicas.a)[-1]
    assert entry["replica"] == "gw-a"
    snapshot = entry["write"]["snapshot"]

    rolled = admin(replicas.b, approver, "/admin/rollback", {"snapshot": snapshot})
    assert rolled.status_code == 200, rolled.text
    assert file_text(replicas.upstream, "docs/replica.md") is None  # the file the write created is gone
    recorded = audit(replicas.b)[-1]
    assert (recorded["event"], recorded["replica"], recorded["rollback"]["target_snapshot"]) == (
        "rollback",
        "gw-b",
        snapshot,
    )
    again = admin(replicas.a, approver, "/admin/rollback", {"seq": entry["seq"]})
    assert again.status_code == 409 and "already rolled back" in again.text


async def test_a_replica_killed_mid_write_leaves_its_approval_used_and_its_quota_counted(
    replicas: Replicas, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """kill -9 while Gitea holds the write: whether it happened is unknown, so nothing is given back; the
    approval is used (never half-consumed, never run twice) and the write stays counted, exactly once."""
    key = create_key(replicas.a.keys_file, "one-write", ("tools:write",), ("--writes-per-day", "1"))
    comment = app(index=1, body="written while the replica dies")
    held = await call(replicas.a, key, "create_issue_comment", comment)
    approval_id = held["structuredContent"]["approval_id"]
    decided = admin(replicas.b, replicas.keys["approver"], "/admin/approvals/approve", {"id": approval_id})
    assert decided.status_code == 200, decided.text
    hang = SilentUpstream()  # a Gitea that takes the request and never answers
    env = {**replicas.env, "AEGIS_REPLICA_ID": "gw-c", "AEGIS_GITEA_TIMEOUT": "60"}
    c = start_gateway(
        tmp_path_factory.mktemp("gw-c"), policy=POLICY, upstream=Upstream(url=hang.url), env=env
    )
    chain_c = c.audit_log  # gw-c's own chain: audit.gw-c.jsonl
    try:
        in_flight = asyncio.ensure_future(call(c, key, "create_issue_comment", comment))
        deadline = time.monotonic() + 30
        while not any(entry["event"] == "write_intent" for entry in audit_of(chain_c)):
            assert time.monotonic() < deadline, "the write never reached Gitea"
            await asyncio.sleep(0.05)
        c.process.kill()
        c.process.wait()
        in_flight.cancel()
    finally:
        hang.close()
    listed = httpx.get(
        f"{replicas.a.base_url}/admin/approvals?all=true",
        headers={"Authorization": f"Bearer {replicas.keys['approver']}"},
        timeout=30,
    ).json()["approvals"]
    assert [approval["state"] for approval in listed if approval["id"] == approval_id] == ["used"]
    for gateway in replicas.both():  # the write that may have happened stays counted, on every replica
        retried = await call(gateway, key, "create_issue_comment", comment)
        assert retried["structuredContent"]["reasons"][-1]["rule"] == "quota.writes_per_day"
    verified = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "audit", "verify", str(chain_c)], capture_output=True, text=True
    )
    assert verified.returncode == 0 and "write intent without an outcome" in verified.stdout
    c.stop()  # killed already: this replays the decisions its chain recorded before the kill


async def test_postgresql_gone_refuses_writes_serves_reads_and_recovers(replicas: Replicas) -> None:
    """Once a replica has found the database gone (its first call waits out the pool's timeout), each
    later write is refused at once, with PostgreSQL's own reason, until the database answers again."""
    writer = replicas.keys["writer"]
    replicas.postgres.stop(mode="immediate")  # as a crash: no clean shutdown
    try:
        for gateway in replicas.both():
            readiness = httpx.get(f"{gateway.base_url}/readyz", timeout=30)
            assert readiness.status_code == 503 and readiness.json()["checks"]["state"] == "unreachable"
            for _ in range(2):
                started = time.monotonic()
                refused = await call(gateway, writer, "create_issue", app(title="while the database is away"))
                assert time.monotonic() - started < PROMPT_REFUSAL_S
                assert refused["isError"] is True
                assert refused["structuredContent"]["reasons"][-1]["rule"] == "state.unavailable"
            started = time.monotonic()
            assert httpx.get(f"{gateway.base_url}/readyz", timeout=30).status_code == 503
            assert time.monotonic() - started < PROMPT_REFUSAL_S
            read = await call(gateway, writer, "get_file_contents", app(filepath="README.md"))
            assert read["isError"] is False, read
    finally:
        replicas.postgres.start()
    for gateway in replicas.both():
        back = await call(gateway, writer, "create_issue", app(title=f"after recovery on {gateway.base_url}"))
        assert back["isError"] is False, back
        assert httpx.get(f"{gateway.base_url}/readyz", timeout=30).status_code == 200
    assert "while the database is away" not in issue_titles(replicas.upstream)  # refused: never sent


def test_each_replicas_chain_verifies_and_all_merge_into_one_review(replicas: Replicas) -> None:
    files = [str(gateway.audit_log) for gateway in replicas.both()]
    assert [Path(name).name for name in files] == ["audit.gw-a.jsonl", "audit.gw-b.jsonl"]
    aegis = [sys.executable, "-m", "gateway.cli", "audit"]
    verified = subprocess.run([*aegis, "verify", *files], capture_output=True, text=True, env=os.environ)
    assert verified.returncode == 0, verified.stderr
    assert "replica gw-a" in verified.stdout and "replica gw-b" in verified.stdout
    merged = subprocess.run([*aegis, "merge", *files], capture_output=True, text=True, env=os.environ)
    entries = [json.loads(line) for line in merged.stdout.splitlines()]
    assert {entry["replica"] for entry in entries} == {"gw-a", "gw-b"}
    assert len(entries) == sum(len(audit(gateway)) for gateway in replicas.both())
    assert [entry["ts"] for entry in entries] == sorted(entry["ts"] for entry in entries)
