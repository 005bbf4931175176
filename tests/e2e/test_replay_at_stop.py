"""The replay every test gateway's log gets when it stops (tests/replay.py) fails the test when a recorded
decision is not reproduced, or when the policy that made it is not in the archive."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from policy_compiler import build_bundle

from tests.fuzz.client import CheckedClient
from tests.processes import Simulator, start_gateway
from tests.replay import RUN, replay_log
from tests.security.rpc import call_tool

pytestmark = pytest.mark.e2e
POLICY = "defaults: {read: allow}\n"
DENYING = "defaults: {read: deny}\n"


def test_a_decision_the_archived_policy_does_not_reproduce_fails_the_stop(
    simulator: Simulator, tmp_path: Path
) -> None:
    gateway = start_gateway(tmp_path / "gw", policy=POLICY, upstream=simulator)
    try:
        client = CheckedClient(gateway)
        assert (
            call_tool(client, "get_repository_info", {"owner": "acme", "repo": "app"})["result"]["isError"]
            is False
        )
        client.close()
    finally:
        gateway.process.terminate()
        gateway.process.wait(timeout=15)
    (tmp_path / "denying.yaml").write_text(DENYING, encoding="utf-8")
    denying = build_bundle(tmp_path / "denying.yaml", tmp_path / "denying.tar.gz").path.read_bytes()
    state = sqlite3.connect(tmp_path / "gw" / "state.db")
    with state:  # the revision that allowed the call now names a bundle that denies it
        state.execute("UPDATE policy_revisions SET bundle = ?", (denying,))
    replays = len(RUN)

    with pytest.raises(AssertionError, match=r"DIFFERS: recorded allow.* replayed deny"):
        gateway.stop()

    with state:
        state.execute("DELETE FROM policy_revisions")
    state.close()
    with pytest.raises(AssertionError, match="not in the archive, 1 decision"):
        replay_log(
            gateway.audit_log, env=gateway.env, cwd=gateway.workdir, aegis=gateway.aegis, not_replayed=None
        )
    assert len(RUN) == replays  # a replay that failed is not counted as done
