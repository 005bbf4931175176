"""Review at scale: `aegis audit query` over a chain of a million entries.

    python -m bench.audit_review [--entries 1000000] [--out bench/results]

Writes a chain of `--entries` tool calls by the chain's own rules (canonical JSON, SHA-256 links): 40
principals, 8 repositories, paths under src/, docs/ and tests/, a tenth of them denied, spread over 30
days. Then times, in this process: building the index beside it (once, verifying every link), a
refresh with nothing new, and the reviewer's questions (each the median of 5 runs): who read files under
acme/app src/ on one day, and under which revision and rule; every call denied by one rule; everything
one principal did. The index is a SQLite file; the chain stays the source of truth. Last, the decision
explorer's list page (the handler the gateway serves at /admin/explorer, driven in process through a
signed-in session) for the first question, and unfiltered (its charts then count every entry). And the
first question as a reviewer asks it: the `aegis audit query` command, start-up included (the median
of 5 runs of a new process).
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette

from gateway.audit import GENESIS_HASH, AuditLog, ChainIndex, Filters, canonical_json, entry_hash
from gateway.edge.events import SecurityEvents
from gateway.edge.keys import KeyStore, create_key
from gateway.edge.limits import MemoryBackend
from gateway.edge.throttle import AuthFailureThrottle
from gateway.explorer import Explorer
from gateway.observability.metrics import Metrics
from gateway.state import PolicyArchive, SqliteDatabase, migrate

REVISIONS = ("3f1c2a9b" + "0" * 56, "7d2e4f10" + "1" * 56)
REPOS = tuple(f"acme/{name}" for name in ("app", "site", "infra", "docs", "api", "web", "ml", "ops"))
DIRS = ("src", "docs", "tests")
DAY_S = 86_400.0
START = time.mktime((2026, 11, 3, 0, 0, 0, 0, 0, 0)) - time.timezone


def write_chain(path: Path, entries: int) -> None:
    """A chain of `entries` tool calls, each linked to the one before it as the writer links them."""
    previous = GENESIS_HASH
    step = 30 * DAY_S / entries
    with path.open("wb") as out:
        for seq in range(1, entries + 1):
            moment = START + seq * step
            denied = seq % 10 == 0
            directory = DIRS[seq % 3]
            entry: dict[str, Any] = {
                "seq": seq,
                "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(moment))
                + f".{int(moment % 1 * 1000):03d}Z",
                "event": "tool_call",
                "request_id": f"{seq:032x}",
                "decision_id": f"d{seq}",
                "bundle_revision": REVISIONS[(seq - 1) * 2 // entries],
                "principal": f"agent-{seq % 40}",
                "tool": "get_file_contents",
                "repo": REPOS[seq % 8],
                "path": f"{directory}/module_{seq % 500}.py",
                "args_sha256": "0" * 64,
                "outcome": "denied" if denied else "allowed",
                "reasons": [
                    {
                        "rule": f"repo.acme/app.paths.{'deny' if denied else 'allow'}[0]",
                        "effect": "deny" if denied else "allow",
                        "source": f"policy.yaml:{9 if denied else 7}",
                    }
                ],
                "duration_ms": 1.5,
                "prev_hash": previous,
            }
            entry["entry_hash"] = previous = entry_hash(entry)
            out.write(canonical_json(entry) + b"\n")


def timed(run: Callable[[], object], repeats: int = 5) -> tuple[float, object]:
    durations, result = [], None
    for _ in range(repeats):
        started = time.perf_counter()
        result = run()
        durations.append(time.perf_counter() - started)
    return statistics.median(durations), result


def query_command(log: Path, day: str, next_day: str) -> int:
    """`aegis audit query` for the first question, in a new process as a reviewer runs it; the number of
    entries it printed."""
    command = [sys.executable, "-m", "gateway.cli", "audit", "query", str(log), "--repo", "acme/app"]
    command += ["--path", "src/**", "--outcome", "allowed", "--since", day, "--until", next_day]
    done = subprocess.run([*command, "--format", "json"], check=True, capture_output=True, text=True)
    return len(done.stdout.splitlines())


async def explorer_pages(log: Path, scratch: Path, pages: dict[str, dict[str, str]]) -> dict[str, float]:
    """The median seconds of the explorer's list page for each query string, signed in as an admin."""
    keys_file = scratch / "keys.json"
    key = create_key(keys_file, name="reviewer", scopes=("admin",))
    db = SqliteDatabase.open(scratch / "state.db")
    await migrate(db)
    events_log = AuditLog.open(scratch / "events.jsonl", fsync=False)
    explorer = Explorer(
        audit_log=log,
        archive=PolicyArchive(db),
        keys=KeyStore(keys_file),
        throttle=AuthFailureThrottle(backend=MemoryBackend(), limit=10, window_s=60),
        events=SecurityEvents(audit=events_log, metrics=Metrics.create()),
        body_timeout_s=10,
    )
    transport = httpx.ASGITransport(app=Starlette(routes=explorer.routes()))
    medians = {}
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        signed_in = await client.post(
            "/admin/explorer/login", data={"key": key}, headers={"Origin": "http://127.0.0.1"}
        )
        if signed_in.status_code != 303:
            raise RuntimeError(f"signing in to the explorer failed: {signed_in.text[:200]}")
        for name, params in pages.items():
            durations = []
            for _ in range(5):
                started = time.perf_counter()
                page = await client.get("/admin/explorer", params=params)
                durations.append(time.perf_counter() - started)
                if page.status_code != 200 or 'id="entries"' not in page.text:
                    raise RuntimeError(f"the explorer answered {page.status_code}: {page.text[:200]}")
            medians[name] = round(statistics.median(durations), 4)
    events_log.close()
    await db.aclose()
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("bench/results"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        log = Path(scratch) / "audit.jsonl"
        started = time.perf_counter()
        write_chain(log, args.entries)
        written_s = time.perf_counter() - started
        with ChainIndex.open(log) as index:
            started = time.perf_counter()
            indexed = index.refresh()
            index_s = time.perf_counter() - started
            refresh_s, _ = timed(index.refresh)
            day = time.strftime("%Y-%m-%d", time.gmtime(START + 10 * DAY_S))
            next_day = time.strftime("%Y-%m-%d", time.gmtime(START + 11 * DAY_S))
            questions = {
                "who read acme/app src/** on one day (allowed)": Filters(
                    repo="acme/app", path="src/**", outcome="allowed", since=day, until=next_day
                ),
                "every call denied by repo.acme/app.paths.deny[0]": Filters(
                    rule="repo.acme/app.paths.deny[0]"
                ),
                "everything agent-7 did": Filters(principal="agent-7"),
            }
            answers = {}
            for question, filters in questions.items():
                seconds, rows = timed(functools.partial(index.query, filters))
                assert isinstance(rows, list)
                answers[question] = {"seconds": round(seconds, 4), "entries": len(rows)}
        command_s, printed = timed(functools.partial(query_command, log, day, next_day))
        first = answers["who read acme/app src/** on one day (allowed)"]["entries"]
        if printed != first:
            raise RuntimeError(f"aegis audit query printed {printed} entries, the index gave {first}")
        day_params = {
            "repo": "acme/app",
            "path": "src/**",
            "outcome": "allowed",
            "since": day,
            "until": next_day,
        }
        explorer = asyncio.run(
            explorer_pages(
                log,
                Path(scratch),
                {
                    "explorer: who read acme/app src/** on one day": day_params,
                    "explorer: everything, unfiltered": {},
                },
            )
        )
        report = {
            "entries": args.entries,
            "log_bytes": log.stat().st_size,
            "index_bytes": (log.with_name(log.name + ".index.sqlite")).stat().st_size,
            "chain_written_s": round(written_s, 1),
            "index_built_s": round(index_s, 1),
            "indexed": indexed,
            "refresh_without_news_s": round(refresh_s, 4),
            "queries": answers,
            "aegis_audit_query_command_s": round(command_s, 3),
            "explorer_pages_s": explorer,
        }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "audit_review.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
