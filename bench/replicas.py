"""Replicas: what state in PostgreSQL costs a write, and what a second replica adds to reads.

    python -m bench.replicas [--quick] [--out bench/results]
                             [--rounds 5] [--writes 40] [--duration 5] [--concurrency 4 16 64]

Starts its own PostgreSQL (with fsync, as SQLite's synchronous=FULL has) and Redis on loopback
(./scripts/setup --with-postgres --with-redis) and a Gitea simulator; wrk drives the reads. Both parts
measure their two sides in rounds whose order alternates (A/B, then B/A), so that the machine's drift
falls on both alike: every ratio is taken within the run.

1. Writes: two gateways with WRITE_MODE on, in front of one simulator whose token may write; one keeps
   its state in SQLite (AEGIS_STATE_DB), the other in PostgreSQL (AEGIS_STATE_URL). Each round makes
   `--writes` create_issue calls (the key's quota is reserved in the state database), then as many
   create_or_update_file calls, each of a new file (the quota, then the rollback snapshot), on each
   gateway: one at a time, the two gateways in turn, the first of each pair alternating. Reported: p50
   and p95 per tool and backend, and PostgreSQL against SQLite; then the state's own part of a file
   write (quota reservation, snapshot save) timed in this process on both databases.
2. Reads: replicas gw-a and gw-b share one PostgreSQL, one Redis (rate limits) and one keys file, each
   writing its own audit chain, in front of the minimal upstream (bench/upstream.py) answering
   get_file_contents of README.md. Two round-robin proxies (bench/round_robin.py) stand in front, one
   with gw-a alone and one with both; wrk drives each at each concurrency. Reported: the median req/s
   of one and of two replicas, their ratio, the share of the calls gw-b served, and the cores each
   part (and the rest of the machine) used meanwhile.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import dataclasses
import itertools
import json
import os
import re
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx

from bench import _cpu, _report
from bench._load import LoadResult, Target, measure, wrk_binary
from bench._processes import children, free_port, running
from bench.run import MCP_HEADERS, UNCAPPED, check_serves_fixture, gateway_environment
from gateway.demo import WRITE_TOKEN_SCOPES, spawn_simulator
from gateway.edge.keys import create_key
from gateway.state import Database, PostgresDatabase, SnapshotStore, SqliteDatabase, WriteQuotas, migrate
from gateway.vocabulary import FileSnapshot, QuotaOverride, WriteQuota
from tests.postgres_server import PostgresServer, start_postgres
from tests.redis_server import RedisServer, start_redis

HERE = Path(__file__).parent
BACKENDS = ("sqlite", "postgresql")
WRITE_TOOLS = ("create_issue", "create_or_update_file")
STATE_OPERATIONS = ("quota reservation", "snapshot save")
STATE_QUOTA = WriteQuota(writes_per_day=10**9, write_bytes_per_day=10**12, max_write_bytes=1 << 20)
SNAPSHOT = FileSnapshot(
    repo="acme/app",
    path="bench/state.txt",
    branch="main",
    previous_sha="a" * 40,
    previous_content=b"the file before the write\n",
    new_sha="b" * 40,
    commit_sha="c" * 40,
)
REPLICAS = ("gw-a", "gw-b")
SIDES = {1: "1 replica", 2: "2 replicas"}  # the read scenarios: how many replicas behind the proxy
README = "README.md"
WRITE_POLICY = """\
version: 1
defaults: {read: allow, write: deny}
tools: {allow: [create_issue, create_or_update_file]}
write:
  repositories: [acme/app]
  branches: [main]
"""
# Above what wrk sends through one replica, as the rate budgets are: the benchmark measures serving,
# not refusing (each is still checked on every call).
TOOL_CALLS = re.compile(r"^aegis_tool_calls_total\{[^}]*\} (\S+)$", re.M)


@dataclasses.dataclass(frozen=True)
class Settings:
    rounds: int
    writes: int  # sequential calls per tool, backend and round
    warmup_s: float
    duration_s: float
    concurrency: tuple[int, ...]
    state_calls: int  # in-process quota reservations and snapshot saves per database


FULL = Settings(rounds=5, writes=40, warmup_s=2, duration_s=5, concurrency=(4, 16, 64), state_calls=1000)
QUICK = Settings(rounds=1, writes=3, warmup_s=0, duration_s=1, concurrency=(4,), state_calls=20)


@dataclasses.dataclass(frozen=True)
class Upstream:
    url: str
    token: str


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.replicas", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "results", help="writes replicas.json here")
    parser.add_argument("--quick", action="store_true", help="tiny rounds (a smoke test, not a measurement)")
    parser.add_argument("--rounds", type=int)
    parser.add_argument("--writes", type=int, help="sequential calls per tool, backend and round (>= 2)")
    parser.add_argument("--duration", type=float, help="seconds measured per side, concurrency and round")
    parser.add_argument("--concurrency", type=int, nargs="+")
    args = parser.parse_args(argv)
    settings = _settings(args)
    wrk_binary()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="aegis-bench-replicas-") as tmp:
        document = run(Path(tmp), settings)
    _report.write_json(args.out / "replicas.json", document)
    print(table(document))
    print(f"\nwrote {args.out / 'replicas.json'}")
    return 0 if document["headline"]["errors"] == 0 else 1


def _settings(args: argparse.Namespace) -> Settings:
    base = QUICK if args.quick else FULL
    settings = dataclasses.replace(
        base,
        rounds=args.rounds or base.rounds,
        writes=args.writes or base.writes,
        duration_s=args.duration or base.duration_s,
        concurrency=tuple(args.concurrency or base.concurrency),
    )
    if settings.writes < 2 or settings.rounds < 1:
        raise SystemExit("--writes must be at least 2 and --rounds at least 1")
    return settings


def run(workdir: Path, settings: Settings) -> dict[str, Any]:
    load_before = os.getloadavg()
    with _postgres() as postgres, _simulator(workdir / "gitea") as upstream:
        redis = start_redis(workdir / "redis")
        try:
            writes = write_latency(workdir / "writes", upstream, postgres.new_database(), settings)
            state = asyncio.run(
                state_operations(workdir / "state.db", postgres.new_database(), settings.state_calls)
            )
            reads = read_throughput(workdir / "reads", upstream, postgres.new_database(), redis, settings)
        finally:
            redis.stop()
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": settings,
        "machine": {
            "cpus": os.cpu_count(),
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
        },
        "writes": writes,
        "state_operations": state,
        "reads": reads,
        "headline": _headline(writes, reads),
    }


@contextlib.contextmanager
def _postgres() -> Iterator[PostgresServer]:
    server = start_postgres(fsync=True)
    try:
        yield server
    finally:
        server.stop()
        server.remove()


@contextlib.contextmanager
def _simulator(state_dir: Path) -> Iterator[Upstream]:
    """The demo Gitea simulator, its token allowed to write."""
    token_file = state_dir.with_name("gitea-token")
    process, url = spawn_simulator(state_dir, token_file, "--token-scopes", ",".join(WRITE_TOKEN_SCOPES))
    try:
        yield Upstream(url, token_file.read_text().strip())
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


# 1. Writes


def write_latency(home: Path, upstream: Upstream, state_url: str, settings: Settings) -> dict[str, Any]:
    """Sequential writes through a SQLite gateway and a PostgreSQL gateway, one call each in turn, the
    first of each pair alternating (A B, B A, A B, ...)."""
    home.mkdir()
    policy = home / "policy.yaml"
    policy.write_text(WRITE_POLICY)
    keys_file = home / "keys.json"
    key = create_key(
        keys_file,
        name="bench-writer",
        scopes=("tools:read", "tools:write"),
        write_quota=QuotaOverride(writes_per_day=100_000),
    )
    samples: dict[tuple[str, str], list[float]] = {(t, b): [] for t in WRITE_TOOLS for b in BACKENDS}
    names = itertools.count()
    with contextlib.ExitStack() as servers, httpx.Client(timeout=30) as client:
        client.headers.update({**MCP_HEADERS, "Authorization": f"Bearer {key}"})
        urls = {
            backend: servers.enter_context(
                _gateway(_write_gateway_env(home / backend, backend, upstream, keys_file, policy, state_url))
            ).url
            + "/mcp"
            for backend in BACKENDS
        }
        for backend, tool in itertools.product(BACKENDS, WRITE_TOOLS):  # warm-up, not measured
            _timed_write(client, urls[backend], tool, next(names))
        for number, tool, call in itertools.product(
            range(settings.rounds), WRITE_TOOLS, range(settings.writes)
        ):
            for backend in BACKENDS if (number + call) % 2 == 0 else BACKENDS[::-1]:
                samples[tool, backend].append(_timed_write(client, urls[backend], tool, next(names)))
    return {
        tool: _compare_backends(samples[tool, "sqlite"], samples[tool, "postgresql"]) for tool in WRITE_TOOLS
    }


def _write_gateway_env(
    home: Path, backend: str, upstream: Upstream, keys_file: Path, policy: Path, state_url: str
) -> dict[str, str]:
    home.mkdir()
    env = gateway_environment(
        upstream=upstream.url, token=upstream.token, keys_file=keys_file, home=home, port=free_port()
    )
    env |= {"AEGIS_POLICY": str(policy), "WRITE_MODE": "true"}
    return env | ({"AEGIS_STATE_URL": state_url} if backend == "postgresql" else {})


def _timed_write(client: httpx.Client, url: str, tool: str, number: int) -> float:
    """One tools/call of `tool` on acme/app, each on a new issue title or file; its latency in ms."""
    arguments: dict[str, str] = {"owner": "acme", "repo": "app"}
    if tool == "create_issue":
        arguments |= {"title": f"Benchmark issue {number}", "body": "Opened by bench.replicas."}
    else:
        arguments |= {"filepath": f"bench/{number}.txt", "branch": "main", "content": f"write {number}\n"}
    call = {
        "jsonrpc": "2.0",
        "id": number,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    started = time.perf_counter()
    response = client.post(url, json=call)
    elapsed_ms = (time.perf_counter() - started) * 1000
    result = response.json().get("result") if response.status_code == 200 else None
    if result is None or result.get("isError"):  # a benchmark of refusals would be worthless
        raise RuntimeError(f"{tool} through {url} failed: {response.status_code} {response.text[:2000]}")
    return elapsed_ms


def _compare_backends(sqlite: list[float], postgresql: list[float]) -> dict[str, Any]:
    each = {"sqlite": _latency(sqlite), "postgresql": _latency(postgresql)}
    return {
        **each,
        "p50_ratio_postgresql_sqlite": round(each["postgresql"]["p50_ms"] / each["sqlite"]["p50_ms"], 3),
        "p95_ratio_postgresql_sqlite": round(each["postgresql"]["p95_ms"] / each["sqlite"]["p95_ms"], 3),
        "p50_difference_ms": round(each["postgresql"]["p50_ms"] - each["sqlite"]["p50_ms"], 3),
    }


def _latency(samples: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "calls": len(samples),
        "p50_ms": round(statistics.median(samples), 3),
        "p95_ms": round(cuts[94], 3),
        "mean_ms": round(statistics.fmean(samples), 3),
    }


async def state_operations(sqlite_file: Path, state_url: str, calls: int) -> dict[str, Any]:
    """The state's part of a file write, in this process: reserving the quota, then saving the snapshot,
    `calls` times on each database, the two in turn (the first of each pair alternating)."""
    databases: dict[str, Database] = {
        "sqlite": SqliteDatabase.open(sqlite_file),
        "postgresql": PostgresDatabase(state_url),
    }
    samples: dict[tuple[str, str], list[float]] = {(op, b): [] for op in STATE_OPERATIONS for b in BACKENDS}
    try:
        for database in databases.values():
            await database.connect()
            await migrate(database)
        for call in range(calls):
            for backend in BACKENDS if call % 2 == 0 else BACKENDS[::-1]:
                started = time.perf_counter()
                await WriteQuotas(databases[backend]).reserve("bench", STATE_QUOTA, size=16)
                reserved = time.perf_counter()
                await SnapshotStore(databases[backend]).save(SNAPSHOT, request_id=f"bench-{call}")
                samples["quota reservation", backend].append((reserved - started) * 1000)
                samples["snapshot save", backend].append((time.perf_counter() - reserved) * 1000)
    finally:
        for database in databases.values():
            await database.aclose()
    return {
        op: _compare_backends(samples[op, "sqlite"], samples[op, "postgresql"]) for op in STATE_OPERATIONS
    }


# 2. Reads


@dataclasses.dataclass(frozen=True)
class Server:
    url: str
    pid: int


@dataclasses.dataclass(frozen=True)
class ReadRun:
    """One measured load: wrk's figures, the calls each replica served, the cores each part used."""

    load: LoadResult
    served: dict[str, float]
    cores: dict[str, float]


def read_throughput(
    home: Path, simulator: Upstream, state_url: str, redis: RedisServer, settings: Settings
) -> dict[str, Any]:
    """One replica against two, each behind its own round-robin proxy, alternated by round."""
    home.mkdir()
    body = _capture_contents(simulator, README)
    expected_text = base64.b64decode(json.loads(body)["content"]).decode()
    (home / "upstream-body.json").write_bytes(body)
    call_file = home / "call.json"
    call_file.write_text(json.dumps(_read_call(README)))
    keys_file = home / "keys.json"
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {create_key(keys_file, name='bench-reader')}"}
    upstream_port = free_port()
    upstream = Upstream(f"http://127.0.0.1:{upstream_port}", simulator.token)
    with contextlib.ExitStack() as servers:
        upstream_process = servers.enter_context(
            _minimal_upstream(home, upstream_port, upstream.token, README)
        )
        replicas = {
            replica: servers.enter_context(
                _gateway(_replica_env(home, replica, upstream, keys_file, state_url, redis.url))
            )
            for replica in REPLICAS
        }
        proxies = {
            count: servers.enter_context(_proxy(home, list(replicas.values())[:count])) for count in SIDES
        }
        targets = {
            count: Target(SIDES[count], f"{proxies[count].url}/mcp", headers, call_file) for count in SIDES
        }
        for count, target in targets.items():
            for _ in range(count):  # a new connection each: every replica behind the proxy answers once
                check_serves_fixture(target, expected_text)
        processes = {
            "gateways": [server.pid for server in replicas.values()],
            "opa": [pid for server in replicas.values() for pid in children(server.pid)],
            "proxy": [server.pid for server in proxies.values()],
            "upstream": [upstream_process.pid],
            "redis": [redis.process.pid],
        }
        runs = _alternate(targets, replicas, processes, settings)
    return {
        "file": README,
        "runs": runs,
        "by_concurrency": {str(c): _compare_replicas(runs, c) for c in settings.concurrency},
        "audit_entries": {r: _lines(home / "audit" / f"audit.{r}.jsonl") for r in REPLICAS},
    }


def _alternate(
    targets: dict[int, Target],
    replicas: dict[str, Server],
    processes: dict[str, list[int]],
    settings: Settings,
) -> list[ReadRun]:
    """Every round measures one and two replicas at each concurrency, in an order alternating between
    rounds."""
    runs = []
    for number in range(settings.rounds):
        for concurrency in settings.concurrency:
            for count in (1, 2) if number % 2 == 0 else (2, 1):
                calls = {replica: _tool_calls(server.url) for replica, server in replicas.items()}
                cpu = _cpu.sample(processes)
                load = measure(
                    targets[count],
                    concurrency=concurrency,
                    warmup_s=settings.warmup_s,
                    duration_s=settings.duration_s,
                )
                cores = _cpu.cores_used(cpu, _cpu.sample(processes))
                served = {r: _tool_calls(server.url) - calls[r] for r, server in replicas.items()}
                if count == 1 and served["gw-b"]:
                    raise RuntimeError(f"gw-b served {served['gw-b']} calls of a one-replica run")
                runs.append(ReadRun(load, served, cores))
    return runs


def _compare_replicas(runs: list[ReadRun], concurrency: int) -> dict[str, Any]:
    one, two = (
        [run for run in runs if run.load.scenario == SIDES[count] and run.load.concurrency == concurrency]
        for count in SIDES
    )
    shares = [run.served["gw-b"] / sum(run.served.values()) for run in two]
    return {
        "one_replica": _medians(one),
        "two_replicas": _medians(two),
        "throughput_ratio_two_one": round(_medians(two)["rps"] / _medians(one)["rps"], 3),
        "gw_b_share_of_two_replica_calls": round(statistics.median(shares), 3),
    }


def _medians(runs: list[ReadRun]) -> dict[str, Any]:
    """Medians over the rounds: req/s, latency, the cores each part used, and req/s per core used by
    the benchmark's own processes (what the replicas make of the CPU they get)."""
    parts = runs[0].cores
    return {
        "rps": round(statistics.median(run.load.rps for run in runs), 1),
        "p50_ms": round(statistics.median(run.load.p50_ms for run in runs), 3),
        "p99_ms": round(statistics.median(run.load.p99_ms for run in runs), 3),
        "cores": {part: round(statistics.median(run.cores[part] for run in runs), 2) for part in parts},
        "rps_per_core": round(statistics.median(run.load.rps / _own_cores(run.cores) for run in runs), 1),
    }


def _own_cores(cores: dict[str, float]) -> float:
    """The cores this benchmark's serving processes and wrk used, not the rest of the machine."""
    return sum(used for part, used in cores.items() if part not in (_cpu.MACHINE, _cpu.OTHERS))


def _replica_env(
    home: Path, replica: str, upstream: Upstream, keys_file: Path, state_url: str, redis_url: str
) -> dict[str, str]:
    """A replica: shared PostgreSQL, Redis and keys file; its own audit chain, audit.<replica>.jsonl in
    the audit directory the replicas share."""
    own = home / replica
    own.mkdir()
    env = gateway_environment(
        upstream=upstream.url, token=upstream.token, keys_file=keys_file, home=own, port=free_port()
    )
    shared = {
        "AEGIS_REPLICA_ID": replica,
        "AEGIS_AUDIT_LOG": str(home / "audit" / "audit.jsonl"),
        "AEGIS_STATE_URL": state_url,
        "AEGIS_LIMITS_BACKEND": "redis",
        "AEGIS_REDIS_URL": redis_url,
    }
    return env | UNCAPPED | shared


@contextlib.contextmanager
def _gateway(env: dict[str, str]) -> Iterator[Server]:
    """`aegis serve` with `env` until the block ends (its log beside its state)."""
    url = f"http://{env['AEGIS_BIND']}"
    log = Path(env["AEGIS_STATE_DB"]).with_name("gateway.log")
    with running(["-m", "gateway.cli", "serve"], env=env, ready_url=f"{url}/readyz", log=log) as process:
        yield Server(url, process.pid)


def _minimal_upstream(
    home: Path, port: int, token: str, file: str
) -> contextlib.AbstractContextManager[subprocess.Popen[bytes]]:
    """bench/upstream.py answering the captured contents of `file` (home/upstream-body.json)."""
    path = f"/api/v1/repos/acme/app/contents/{file}"
    return running(
        ["-m", "bench.upstream", str(port), str(home / "upstream-body.json"), token, path],
        ready_url=f"http://127.0.0.1:{port}/",
        log=home / "upstream.log",
    )


@contextlib.contextmanager
def _proxy(home: Path, backends: list[Server]) -> Iterator[Server]:
    """A round-robin proxy (bench/round_robin.py) in front of `backends`, on loopback."""
    port = free_port()
    with running(
        ["-m", "bench.round_robin", str(port), *(server.url.rsplit(":")[-1] for server in backends)],
        ready_url=f"http://127.0.0.1:{port}/readyz",
        log=home / f"proxy-{len(backends)}.log",
    ) as process:
        yield Server(f"http://127.0.0.1:{port}", process.pid)


def _capture_contents(simulator: Upstream, file: str) -> bytes:
    """The simulator's real ContentsResponse of `file` on acme/app, for the minimal upstream to answer."""
    response = httpx.get(
        f"{simulator.url}/api/v1/repos/acme/app/contents/{file}",
        headers={"Authorization": f"token {simulator.token}"},
    )
    response.raise_for_status()
    return response.content


def _read_call(file: str) -> dict[str, Any]:
    arguments = {"owner": "acme", "repo": "app", "filepath": file}
    return {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "get_file_contents", "arguments": arguments},
    }


def _tool_calls(url: str) -> float:
    """The replica's tool calls so far, every tool and outcome (its Prometheus counter)."""
    text = httpx.get(f"{url}/metrics").text
    return sum(float(value) for value in TOOL_CALLS.findall(text))


def _lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


# Report


def _headline(writes: dict[str, Any], reads: dict[str, Any]) -> dict[str, Any]:
    headline: dict[str, Any] = {}
    for tool, figures in writes.items():
        headline[f"{tool} p50 PostgreSQL/SQLite"] = figures["p50_ratio_postgresql_sqlite"]
        headline[f"{tool} p50 PostgreSQL - SQLite, ms"] = figures["p50_difference_ms"]
    for concurrency, figures in reads["by_concurrency"].items():
        ratio = figures["throughput_ratio_two_one"]
        headline[f"read throughput 2/1 replicas at concurrency {concurrency}"] = ratio
    headline["errors"] = sum(run.load.errors for run in reads["runs"])
    return headline


def table(document: dict[str, Any]) -> str:
    settings: Settings = document["settings"]
    return "\n".join(
        [
            *_write_rows(document["writes"], settings),
            "",
            *_state_rows(document["state_operations"], settings),
            "",
            *_read_rows(document["reads"], settings),
            "",
            f"errors: {document['headline']['errors']}",
        ]
    )


def _write_rows(writes: dict[str, Any], settings: Settings) -> list[str]:
    title = f"writes, one at a time ({settings.writes} per tool, backend and round; {settings.rounds} rounds)"
    return _latency_rows(title, "tool", writes)


def _state_rows(state: dict[str, Any], settings: Settings) -> list[str]:
    title = f"the state's part of a file write, in process ({settings.state_calls} each)"
    return _latency_rows(title, "operation", state)


def _latency_rows(title: str, what: str, figures_by_name: dict[str, Any]) -> list[str]:
    lines = [title, f"{what:<22} {'state':<11} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}"]
    for name, figures in figures_by_name.items():
        for backend in BACKENDS:
            p50, p95, mean = (figures[backend][field] for field in ("p50_ms", "p95_ms", "mean_ms"))
            lines.append(f"{name:<22} {backend:<11} {p50:>8.3f} {p95:>8.3f} {mean:>8.3f}")
        lines.append(
            f"  PostgreSQL/SQLite: p50 {figures['p50_ratio_postgresql_sqlite']:.3f}, "
            f"p95 {figures['p95_ratio_postgresql_sqlite']:.3f}; p50 {figures['p50_difference_ms']:+.3f} ms"
        )
    return lines


def _read_rows(reads: dict[str, Any], settings: Settings) -> list[str]:
    lines = [
        f"reads, get_file_contents {reads['file']} through the round-robin proxy "
        f"(medians of {settings.rounds} rounds)",
        f"{'replicas':<9} {'conc':>5} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'req/s/core':>10}",
    ]
    for concurrency, figures in reads["by_concurrency"].items():
        for count, side in ((1, figures["one_replica"]), (2, figures["two_replicas"])):
            rps, p50, p99, per_core = side["rps"], side["p50_ms"], side["p99_ms"], side["rps_per_core"]
            lines.append(f"{count:<9} {concurrency:>5} {rps:>9.1f} {p50:>8.2f} {p99:>8.2f} {per_core:>10.1f}")
            lines.append(
                "    cores: " + ", ".join(f"{part} {used:.2f}" for part, used in side["cores"].items())
            )
        ratio, share = figures["throughput_ratio_two_one"], figures["gw_b_share_of_two_replica_calls"]
        lines.append(
            f"  2/1 replicas throughput at concurrency {concurrency}: {ratio:.3f}"
            f" (gw-b served {share:.0%} of the two-replica calls)"
        )
    return lines


if __name__ == "__main__":
    raise SystemExit(main())
