"""The audit log under faults, through the real gateway: a full disk refuses calls before they run and
recovers by itself; a write is on record (its intent) before Gitea sees it, even when the gateway dies
mid-write; a torn last line is repaired by a command the start-up error names."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.audit import canonical_json, entry_hash
from tests.processes import (
    UNLIMITED,
    Gateway,
    Simulator,
    Upstream,
    create_key,
    start_gateway,
    start_simulator,
)
from tests.small_disk import SmallDisk

pytestmark = pytest.mark.e2e

POLICY = """\
defaults: {read: allow, write: deny}
tools:
  allow: [create_issue]
write:
  repositories: [acme/app]
"""
GITEA_SCOPES = ("read:repository", "write:repository", "read:issue", "write:issue", "read:user")
ISSUE = {"owner": "acme", "repo": "app", "title": "Found by the agent"}


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    sim = start_simulator(tmp_path_factory.mktemp("gitea-audit") / "state", token_scopes=GITEA_SCOPES)
    yield sim
    sim.stop()


def writing_gateway(workdir: Path, upstream: Simulator | Upstream, audit_log: Path) -> tuple[Gateway, str]:
    gateway = start_gateway(
        workdir,
        policy=POLICY,
        upstream=upstream,
        env={**UNLIMITED, "WRITE_MODE": "true", "AEGIS_AUDIT_LOG": str(audit_log)},
    )
    key = create_key(gateway.keys_file, "writer", ("tools:read", "tools:write"))
    return gateway, key


def rpc(gateway: Gateway, key: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    response = httpx.post(
        gateway.url, json=body, headers={"Authorization": f"Bearer {key}", "Accept": "application/json"}
    )
    answer: dict[str, Any] = response.json()
    return answer


def entries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def readyz(gateway: Gateway) -> httpx.Response:
    return httpx.get(f"{gateway.base_url}/readyz", timeout=5)


def issue_posts(upstream: Simulator) -> list[dict[str, Any]]:
    return [r for r in upstream.requests() if r["method"] == "POST" and r["path"].endswith("/issues")]


def aegis(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gateway.cli", *args], capture_output=True, text=True)


def test_no_write_reaches_gitea_unrecorded_while_the_disk_is_full(
    tmp_path: Path, upstream: Simulator, small_disk: SmallDisk
) -> None:
    audit_log = small_disk.path / "audit.jsonl"
    gateway, key = writing_gateway(tmp_path / "gw", upstream, audit_log)
    try:
        assert "result" in rpc(gateway, key, "create_issue", ISSUE)
        posts_before = len(issue_posts(upstream))
        small_disk.fill()
        answers = [rpc(gateway, key, "create_issue", ISSUE) for _ in range(20)]
        refused = [answer for answer in answers if "error" in answer]
        # The slack of the log's last page may take an entry or two; every other call is refused unrun.
        assert len(refused) >= 17, answers
        assert all(
            answer["error"]["code"] == -32603 and "not executed" in answer["error"]["message"]
            for answer in refused
        ), refused
        assert len(issue_posts(upstream)) - posts_before == len(answers) - len(refused)
        unready = readyz(gateway)
        assert unready.status_code == 503
        assert unready.json()["checks"]["audit_log"] == "unusable"

        small_disk.free()
        deadline = time.monotonic() + 10
        while readyz(gateway).status_code != 200:
            assert time.monotonic() < deadline, "the gateway did not recover once the disk had room"
            time.sleep(0.2)
        assert "result" in rpc(gateway, key, "create_issue", ISSUE)
    finally:
        gateway.stop()
    written = entries(audit_log)
    gaps = [entry for entry in written if entry["event"] == "audit_gap"]
    assert len(gaps) == 1 and gaps[0]["gap"]["unwritten"]["tool_call"] >= len(refused)
    intents = {entry["seq"] for entry in written if entry["event"] == "write_intent"}
    outcomes = {entry["intent_seq"] for entry in written if "intent_seq" in entry}
    assert intents == outcomes  # held outcomes were written on recovery
    assert len(intents) == len(issue_posts(upstream))  # 0 upstream writes without an intent entry
    assert written[-2]["event"] == "write_intent" and written[-1]["intent_seq"] == written[-2]["seq"]
    verified = aegis("audit", "verify", str(audit_log))
    assert verified.returncode == 0, verified.stderr
    assert "without an outcome" not in verified.stdout


class HangingGitea:
    """A Gitea that accepts requests and never answers: the gateway is killed while it waits."""

    def __init__(self) -> None:
        self._server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._server.getsockname()[1]}"
        self.requests: list[bytes] = []
        self._held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self._server.accept()
            except OSError:
                return
            self._held.append(connection)
            self.requests.append(connection.recv(65536))

    def close(self) -> None:
        self._server.close()
        for connection in self._held:
            connection.close()


def call_until_killed(gateway: Gateway, key: str) -> None:
    with contextlib.suppress(httpx.HTTPError):
        rpc(gateway, key, "create_issue", ISSUE)


def test_a_write_cut_short_by_a_crash_shows_as_an_intent_without_an_outcome(tmp_path: Path) -> None:
    gitea = HangingGitea()
    audit_log = tmp_path / "gw" / "audit.jsonl"
    gateway, key = writing_gateway(tmp_path / "gw", Upstream(gitea.url), audit_log)
    try:
        threading.Thread(target=call_until_killed, args=(gateway, key), daemon=True).start()
        deadline = time.monotonic() + 10
        while not gitea.requests:
            assert time.monotonic() < deadline, "the write never reached Gitea"
            time.sleep(0.05)
        os.kill(gateway.process.pid, signal.SIGKILL)
        gateway.process.wait()
    finally:
        gateway.stop()
        gitea.close()
    assert gitea.requests[0].startswith(b"POST /api/v1/repos/acme/app/issues")
    verified = aegis("audit", "verify", str(audit_log))
    assert verified.returncode == 0, verified.stderr
    intent = entries(audit_log)[-1]
    assert (intent["event"], intent["tool"], intent["repo"]) == ("write_intent", "create_issue", "acme/app")
    assert f"write intent without an outcome: seq {intent['seq']}" in verified.stdout


def test_a_torn_last_line_is_named_at_start_and_repaired_by_command(
    tmp_path: Path, upstream: Simulator
) -> None:
    audit_log = tmp_path / "gw" / "audit.jsonl"
    gateway, key = writing_gateway(tmp_path / "gw", upstream, audit_log)
    assert "result" in rpc(gateway, key, "create_issue", ISSUE)
    gateway.stop()
    whole = audit_log.read_bytes()
    audit_log.write_bytes(whole + b'{"args_sha256":"0')  # what kill -9 on a full disk leaves

    on_the_log = {"AEGIS_AUDIT_LOG": str(audit_log)}
    refused = start_gateway(
        tmp_path / "refused", policy=POLICY, upstream=upstream, env=on_the_log, wait_ready=False
    )
    assert refused.process.wait(timeout=60) != 0
    assert f"aegis audit repair {audit_log}" in refused.logs()

    repaired = aegis("audit", "repair", str(audit_log))
    assert repaired.returncode == 0, repaired.stderr
    side_files = list(audit_log.parent.glob("audit.jsonl.torn-*"))
    assert [path.read_bytes() for path in side_files] == [b'{"args_sha256":"0']
    last = entries(audit_log)[-1]
    assert last["event"] == "repaired" and last["repair"]["removed_bytes"] == len(b'{"args_sha256":"0')
    assert audit_log.read_bytes().startswith(whole)

    restarted = start_gateway(tmp_path / "restarted", policy=POLICY, upstream=upstream, env=on_the_log)
    restarted.stop()
    assert aegis("audit", "verify", str(audit_log)).returncode == 0


def test_signed_checkpoints_expose_truncation_and_forgery(tmp_path: Path, upstream: Simulator) -> None:
    signing_key, public_key = tmp_path / "signing.pem", tmp_path / "signing.pub"
    generated = aegis("audit", "keygen", str(signing_key))
    assert generated.returncode == 0, generated.stderr
    public_key.write_text(generated.stdout)
    assert aegis("audit", "public-key", str(signing_key)).stdout == generated.stdout
    audit_log = tmp_path / "gw" / "audit.jsonl"
    signed = {"AEGIS_AUDIT_SIGNING_KEY": str(signing_key), "AEGIS_AUDIT_CHECKPOINT_ENTRIES": "3"}
    gateway = start_gateway(tmp_path / "gw", policy=POLICY, upstream=upstream, env=signed)
    try:
        for _ in range(7):
            assert "result" in rpc(
                gateway, gateway.key, "get_repository_info", {"owner": "acme", "repo": "app"}
            )
    finally:
        gateway.stop()
    verified = aegis("audit", "verify", str(audit_log), "--public-key", str(public_key))
    assert verified.returncode == 0, verified.stderr
    last = entries(audit_log)[-1]
    assert last["event"] == "checkpoint"  # a clean stop signs what was not yet signed
    assert f"signed through entry {last['seq'] - 1}" in verified.stdout
    strict = ("audit", "verify", str(audit_log), "--public-key", str(public_key), "--require-covered")
    assert aegis(*strict).returncode == 0  # a clean stop leaves nothing unsigned

    whole = audit_log.read_bytes()
    audit_log.write_bytes(b"".join(whole.splitlines(keepends=True)[:-4]))  # a shorter, valid chain
    assert aegis("audit", "verify", str(audit_log)).returncode == 0  # the chain alone cannot tell
    truncated = aegis("audit", "verify", str(audit_log), "--public-key", str(public_key))
    assert truncated.returncode == 1
    assert "removed from its end" in truncated.stderr
    refused = start_gateway(
        tmp_path / "refused",
        policy=POLICY,
        upstream=upstream,
        wait_ready=False,
        env={**signed, "AEGIS_AUDIT_LOG": str(audit_log)},
    )
    assert refused.process.wait(timeout=60) != 0
    assert "removed from its end" in refused.logs()

    forged_line = {**last, "event": "tool_call", "outcome": "allowed", "seq": last["seq"] + 1}
    forged_line.pop("checkpoint")
    forged_line["prev_hash"] = last["entry_hash"]
    forged_line["entry_hash"] = entry_hash(forged_line)
    audit_log.write_bytes(whole + canonical_json(forged_line) + b"\n")  # chained on, never signed
    assert aegis("audit", "verify", str(audit_log), "--public-key", str(public_key)).returncode == 0
    uncovered = aegis(*strict)
    assert uncovered.returncode == 1
    assert (
        f"NOT COVERED: no signature covers entry {last['seq'] + 1}, after the last signed checkpoint"
        in uncovered.stderr
    )

    audit_log.write_bytes(whole)
    forger_key = tmp_path / "forger.pem"
    assert aegis("audit", "keygen", str(forger_key)).returncode == 0
    forged = start_gateway(
        tmp_path / "forger",
        policy=POLICY,
        upstream=upstream,
        env={
            "AEGIS_AUDIT_LOG": str(audit_log),
            "AEGIS_AUDIT_SIGNING_KEY": str(forger_key),
            "AEGIS_AUDIT_CHECKPOINTS": str(tmp_path / "forger.checkpoints"),
        },
    )
    rpc(forged, forged.key, "get_repository_info", {"owner": "acme", "repo": "app"})
    forged.stop()  # its checkpoint is chained on, signed by the wrong key
    caught = aegis("audit", "verify", str(audit_log), "--public-key", str(public_key))
    assert caught.returncode == 1
    assert "forged" in caught.stderr


def test_the_gateway_rotates_and_follows_sighup_moves_and_copytruncate(
    tmp_path: Path, upstream: Simulator
) -> None:
    audit_log = tmp_path / "gw" / "audit.jsonl"
    rotating = {"AEGIS_AUDIT_ROTATE_BYTES": "4000", "AEGIS_AUDIT_RETAIN_SEGMENTS": "2"}
    cut = "copytruncate leaves the entries it copied off disk: no chain to walk from the first entry"
    gateway = start_gateway(tmp_path / "gw", policy=POLICY, upstream=upstream, env=rotating, not_replayed=cut)
    info = {"owner": "acme", "repo": "app"}
    try:
        for _ in range(20):
            assert "result" in rpc(gateway, gateway.key, "get_repository_info", info)
        closed = sorted(audit_log.parent.glob("audit.*-*.jsonl"))
        assert len(closed) == 2  # retention kept the newest two
        assert any(entry["event"] == "retention" for path in [*closed, audit_log] for entry in entries(path))
        verified = aegis("audit", "verify", str(audit_log))
        assert verified.returncode == 0, verified.stderr

        moved = audit_log.with_name("moved.jsonl")
        audit_log.rename(moved)
        os.kill(gateway.process.pid, signal.SIGHUP)
        time.sleep(0.5)
        assert gateway.process.poll() is None  # SIGHUP reopens, never kills
        held = moved.read_bytes()
        assert "result" in rpc(gateway, gateway.key, "get_repository_info", info)
        assert moved.read_bytes() == held  # nothing more goes to the moved file
        opened = entries(audit_log)[0]
        assert (opened["event"], opened["segment"]["previous"]) == ("segment_start", str(moved))

        copy = audit_log.read_bytes()
        os.truncate(audit_log, 0)  # logrotate's copytruncate, which loses nothing here either
        assert "result" in rpc(gateway, gateway.key, "get_repository_info", info)
        first = entries(audit_log)[0]
        assert (
            first["event"] == "segment_start"
            and first["prev_hash"] == json.loads(copy.splitlines()[-1])["entry_hash"]
        )
    finally:
        gateway.stop()
    restarted = start_gateway(
        tmp_path / "again",
        policy=POLICY,
        upstream=upstream,
        env={**rotating, "AEGIS_AUDIT_LOG": str(audit_log)},
        not_replayed=cut,
    )
    restarted.stop()  # a log cut by copytruncate does not stop the next start
