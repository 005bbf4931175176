"""Every decision a test gateway recorded, decided again under its archived policy: `aegis audit replay`
must reproduce each one. Called at the end of the end-to-end modules whose logs hold many kinds of
decisions."""

from __future__ import annotations

import os
import re
import subprocess

from tests.processes import AEGIS, Gateway

SUMMARY = re.compile(
    r"(\d+) decision\(s\) replayed under their archived policies: (\d+) reproduced, (\d+) differ"
)


def assert_every_decision_replays(gateway: Gateway, *, at_least: int) -> int:
    """Replay the gateway's whole log; returns how many decisions were reproduced."""
    env = {**os.environ, "AEGIS_STATE_DB": str(gateway.audit_log.parent / "state.db")}
    done = subprocess.run(
        [*AEGIS, "audit", "replay", str(gateway.audit_log)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    match = SUMMARY.search(done.stdout)
    assert match is not None, done.stdout
    replayed, reproduced, differ = (int(group) for group in match.groups())
    assert differ == 0 and reproduced == replayed >= at_least, done.stdout
    return reproduced
