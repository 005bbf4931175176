"""Hot reload: a changed policy file is compiled and swapped in without failing in-flight calls; an invalid
one is refused and the old policy stays; every audit entry names the bundle revision that decided it."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import AEGIS, UNLIMITED, Gateway, Simulator, start_gateway

pytestmark = pytest.mark.e2e
ALLOW_ALL = "defaults: {read: allow}\n"
DENY_README = "defaults: {read: allow}\nrepositories:\n  acme/app:\n    paths: {deny: [README.md]}\n"
READ_README = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {
        "name": "get_file_contents",
        "arguments": {"owner": "acme", "repo": "app", "filepath": "README.md"},
    },
}


def call(gateway: Gateway) -> dict[str, Any]:
    response = httpx.post(gateway.url, json=READ_README, headers=gateway.auth, timeout=10)
    body: dict[str, Any] = response.json()
    return body


def revision(gateway: Gateway) -> str:
    value: str = httpx.get(f"{gateway.base_url}/readyz").json()["bundle_revision"]
    return value


def wait_for_new_revision(gateway: Gateway, old: str) -> str:
    for _ in range(200):
        current = revision(gateway)
        if current != old:
            return current
        time.sleep(0.05)
    raise AssertionError("the new policy was not picked up")


def last_audit_entry(gateway: Gateway) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(gateway.audit_log.read_text().splitlines()[-1])
    return entry


def test_reload_swaps_policy_without_failing_calls_and_refuses_a_bad_one(
    simulator: Simulator, tmp_path: Path, opa_bin: str
) -> None:
    gateway = start_gateway(
        tmp_path,
        policy=ALLOW_ALL,
        upstream=simulator,
        env={"AEGIS_POLICY_RELOAD_INTERVAL": "0.2", **UNLIMITED},
    )
    policy_file = tmp_path / "policy.yaml"
    outcomes: list[str] = []
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            body = call(gateway)
            result = body.get("result", {})
            if "error" in body:
                outcomes.append(f"jsonrpc-error {body['error']['code']}")
            elif result.get("isError") is False:
                outcomes.append("allowed")
            elif result.get("structuredContent", {}).get("denied") and not any(
                reason["rule"].startswith("opa.") for reason in result["structuredContent"]["reasons"]
            ):
                outcomes.append("denied")
            else:
                outcomes.append(f"failed {result}")

    try:
        first = revision(gateway)
        assert call(gateway)["result"]["isError"] is False
        assert last_audit_entry(gateway)["bundle_revision"] == first
        workers = [threading.Thread(target=hammer) for _ in range(6)]
        for worker in workers:
            worker.start()
        time.sleep(0.3)
        policy_file.write_text(DENY_README)
        second = wait_for_new_revision(gateway, first)
        time.sleep(0.5)
        stop.set()
        for worker in workers:
            worker.join()
        assert outcomes and set(outcomes) <= {"allowed", "denied"}, [o for o in outcomes if o[0] not in "ad"][
            :3
        ]
        assert "denied" in outcomes and "allowed" in outcomes

        denied = call(gateway)["result"]
        assert denied["structuredContent"]["reasons"][0]["rule"] == "repo.acme/app.paths.deny[0]"
        assert last_audit_entry(gateway)["bundle_revision"] == second

        policy_file.write_text("defaults: {read: maybe}\n")  # invalid: refused, the old policy stays
        time.sleep(1.0)
        assert revision(gateway) == second
        assert call(gateway)["result"]["structuredContent"]["denied"] is True
        metrics = httpx.get(f"{gateway.base_url}/metrics").text
        assert 'aegis_policy_reloads_total{result="refused"} 1.0' in metrics
        assert 'aegis_policy_reloads_total{result="applied"} 1.0' in metrics
        assert "policy reload refused" in gateway.logs()
    finally:
        stop.set()
        gateway.stop()


def policy_entries(gateway: Gateway) -> list[dict[str, Any]]:
    entries = [json.loads(line) for line in gateway.audit_log.read_text().splitlines()]
    return [entry for entry in entries if entry["event"] == "policy_loaded"]


def aegis_policy(gateway: Gateway, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AEGIS_STATE_DB": str(gateway.audit_log.parent / "state.db")}
    return subprocess.run([*AEGIS, "policy", *args], capture_output=True, text=True, env=env, timeout=60)


def test_every_policy_served_is_archived_and_audited_before_it_decides(
    simulator: Simulator, tmp_path: Path, opa_bin: str
) -> None:
    """Whatever a decision names, a reviewer can read: the exact YAML of each revision served, from the
    archive, and a `policy_loaded` entry before the first decision under it."""
    gateway = start_gateway(
        tmp_path, policy=ALLOW_ALL, upstream=simulator, env={"AEGIS_POLICY_RELOAD_INTERVAL": "0.2"}
    )
    try:
        first = revision(gateway)
        (loaded,) = policy_entries(gateway)
        assert (loaded["bundle_revision"], loaded["policy"]["previous_revision"]) == (first, None)
        assert loaded["policy"]["loaded_by"] == "gateway start"
        assert loaded["policy"]["file"].endswith("policy.yaml")
        (tmp_path / "policy.yaml").write_text(DENY_README)
        second = wait_for_new_revision(gateway, first)
        assert call(gateway)["result"]["structuredContent"]["denied"] is True
        entries = [json.loads(line) for line in gateway.audit_log.read_text().splitlines()]
        switch = next(
            i
            for i, e in enumerate(entries)
            if e["event"] == "policy_loaded" and e["bundle_revision"] == second
        )
        decided = next(
            i for i, e in enumerate(entries) if e["event"] == "tool_call" and e["bundle_revision"] == second
        )
        assert switch < decided
        assert entries[switch]["policy"]["previous_revision"] == first
        assert entries[switch]["policy"]["loaded_by"] == "gateway reload"

        shown = aegis_policy(gateway, "show", second[:12])
        assert shown.returncode == 0, shown.stderr
        assert shown.stdout.splitlines()[0].startswith(f"# revision {second}, loaded from ")
        assert shown.stdout.split("\n", 1)[1] == DENY_README  # exactly the YAML that served
        assert aegis_policy(gateway, "show", first).stdout.split("\n", 1)[1] == ALLOW_ALL
        listed = aegis_policy(gateway, "revisions")
        assert [line.split()[0] for line in listed.stdout.splitlines()] == [second, first]
        bundle = tmp_path / "archived.tar.gz"
        assert aegis_policy(gateway, "show", first, "--bundle", str(bundle)).returncode == 0
        with tarfile.open(bundle) as archive:
            member = archive.extractfile(".manifest")
            assert member is not None and json.loads(member.read())["revision"] == first
        unknown = aegis_policy(gateway, "show", "0123456789abcdef")
        assert unknown.returncode == 1 and "no archived policy" in unknown.stderr
    finally:
        gateway.stop()
