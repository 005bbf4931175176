"""Every decision a test gateway recorded, decided again under its archived policy: `aegis audit replay`
must reproduce each one. `Gateway.stop` (tests/processes.py) replays the log of every gateway it stops,
unless the test opted out saying why; the counts are appended, one JSON line per gateway, to the file
AEGIS_TEST_REPLAY_COUNTS names (the run's own file unless it is set: tests/conftest.py), from which the
run's summary is made, whichever process stopped the gateway."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from gateway.audit import walk_segments
from gateway.authoring.replay import replayable

if TYPE_CHECKING:
    from tests.processes import Gateway

COUNTS_FILE = "AEGIS_TEST_REPLAY_COUNTS"
REPLAY_TIMEOUT_S = 300
SUMMARY = re.compile(
    r"(\d+) decision\(s\) replayed under their archived policies: (\d+) reproduced, (\d+) differ"
)


@dataclasses.dataclass(frozen=True)
class Replay:
    """One gateway's log replayed (or not, and why)."""

    test: str  # the test during which the gateway stopped: "tests/e2e/test_x.py::test_y"
    log: str
    decisions: int  # replayed, each reproduced (a stop fails otherwise)
    seconds: float = 0.0  # what the replay added to the run
    not_replayed: str | None = None

    @property
    def module(self) -> str:
        return self.test.split("::")[0]


RUN: list[Replay] = []  # this process's replays (the run's summary reads the counts file)


def replay_log(
    audit_log: Path, *, env: Mapping[str, str], cwd: Path, aegis: Sequence[str], not_replayed: str | None
) -> Replay:
    """Replay the whole log as the gateway that wrote it would read its archive (its own environment and
    working directory), assert that every decision is reproduced, and record the counts. A log with no
    decision OPA made (nothing replayable) costs no subprocess."""
    if not_replayed is not None or not audit_log.exists():
        return _record(
            Replay(_current_test(), str(audit_log), 0, not_replayed=not_replayed or "no audit log")
        )
    started = time.monotonic()
    decisions = _replay(audit_log, env=env, cwd=cwd, aegis=aegis)
    return _record(Replay(_current_test(), str(audit_log), decisions, time.monotonic() - started))


def assert_every_decision_replays(gateway: Gateway, *, at_least: int) -> int:
    """Replay the gateway's whole log now, while it runs (not counted in the run's totals: the replay at
    its stop is); for a module that wants a floor on what its log covers. Returns the decisions reproduced."""
    reproduced = _replay(gateway.audit_log, env=gateway.env, cwd=gateway.workdir, aegis=gateway.aegis)
    assert reproduced >= at_least, f"{gateway.audit_log}: only {reproduced} decision(s) replayed"
    return reproduced


def _replay(audit_log: Path, *, env: Mapping[str, str], cwd: Path, aegis: Sequence[str]) -> int:
    """How many decisions `aegis audit replay` reproduced, once it has reproduced every replayable one."""
    expected = sum(1 for entry in walk_segments(audit_log) if replayable(entry) is None)
    if expected == 0:
        return 0
    done = subprocess.run(
        [*aegis, "audit", "replay", str(audit_log)],
        capture_output=True,
        text=True,
        env=dict(env),
        cwd=cwd,
        timeout=REPLAY_TIMEOUT_S,
    )
    output = f"{audit_log}:\n{done.stdout}{done.stderr}"
    assert done.returncode == 0, output
    match = SUMMARY.search(done.stdout)
    assert match is not None, output
    replayed, reproduced, differ = (int(group) for group in match.groups())
    assert differ == 0 and reproduced == replayed == expected, output
    return reproduced


def _record(replay: Replay) -> Replay:
    RUN.append(replay)
    counts_file = os.environ.get(COUNTS_FILE)
    if counts_file:
        with open(counts_file, "a", encoding="utf-8") as out:
            out.write(json.dumps(dataclasses.asdict(replay)) + "\n")
    return replay


def _current_test() -> str:
    """The test pytest is running (its setup, call or teardown): PYTEST_CURRENT_TEST without the phase."""
    return os.environ.get("PYTEST_CURRENT_TEST", "unknown").rsplit(" ", 1)[0]


def recorded(counts_file: str, start: int = 0) -> list[Replay]:
    """The replays a counts file holds from byte `start` on."""
    with open(counts_file, "rb") as counts:
        counts.seek(start)
        return [Replay(**json.loads(line)) for line in counts.read().decode("utf-8").splitlines()]


def summary(replays: Sequence[Replay]) -> list[str]:
    """Per module: the gateways whose logs were replayed, decisions replayed and reproduced, and the time
    the replays took; then the total, and the gateways left out with why."""
    modules: dict[str, list[Replay]] = {}
    for replay in replays:
        modules.setdefault(replay.module, []).append(replay)
    lines = [f"{module}: {_counts(group)}" for module, group in sorted(modules.items())]
    lines.append(f"total: {_counts(replays)}")
    lines += [f"not replayed: {r.test}: {r.not_replayed}" for r in replays if r.not_replayed is not None]
    return lines


def _counts(replays: Sequence[Replay]) -> str:
    return (
        f"{len(replays)} gateway(s), {sum(r.decisions for r in replays)} decision(s) replayed and reproduced,"
        f" in {sum(r.seconds for r in replays):.1f} s"
    )


if __name__ == "__main__":  # python -m tests.replay COUNTS_FILE: the totals of a run (or of several)
    import sys

    print("\n".join(summary(recorded(sys.argv[1]))))
