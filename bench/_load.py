"""Drive a server with wrk (a separate process): warm-up, then a measured run; parse its JSON summary and
take the CPU time the server's processes used during the measured run."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
from pathlib import Path

from bench._cpu import tree_cpu_s
from bench._processes import pinned

SCRIPT = Path(__file__).parent / "wrk" / "post.lua"
RESULT_PREFIX = "BENCH_RESULT "


@dataclasses.dataclass(frozen=True)
class LoadResult:
    scenario: str
    concurrency: int
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    mean_ms: float
    errors: int
    cpu_ms_per_call: float | None = None  # the server's processes and their children, per request
    round: int = 0


@dataclasses.dataclass(frozen=True)
class Target:
    scenario: str
    url: str
    headers: dict[str, str]
    body_file: Path | None
    processes: tuple[int, ...] = ()  # the pids whose CPU (with their children's) serves this target


def wrk_binary() -> str:
    binary = shutil.which("wrk")
    if binary is None:
        raise RuntimeError("wrk not found: run ./scripts/setup --with-bench (installs Debian's wrk)")
    return binary


def measure(
    target: Target,
    *,
    concurrency: int,
    warmup_s: float,
    duration_s: float,
    cores: set[int] | None = None,
    round_index: int = 0,
) -> LoadResult:
    """Warm up (unless `warmup_s` is 0), then measure; wrk runs on `cores` when given."""
    if warmup_s > 0:
        _run_wrk(target, concurrency, warmup_s, cores)
    cpu_before = tree_cpu_s(target.processes)
    summary = _run_wrk(target, concurrency, duration_s, cores)
    cpu_s = tree_cpu_s(target.processes) - cpu_before
    seconds = summary["duration_us"] / 1e6
    requests = int(summary["requests"])
    return LoadResult(
        scenario=target.scenario,
        concurrency=concurrency,
        requests=int(summary["requests"]),
        seconds=round(seconds, 3),
        rps=round(summary["requests"] / seconds, 1),
        p50_ms=summary["p50_us"] / 1000,
        p90_ms=summary["p90_us"] / 1000,
        p99_ms=summary["p99_us"] / 1000,
        mean_ms=round(summary["mean_us"] / 1000, 3),
        errors=int(summary["errors"] + summary["non_2xx"]),
        cpu_ms_per_call=round(cpu_s * 1000 / requests, 3) if target.processes and requests else None,
        round=round_index,
    )


def _run_wrk(target: Target, concurrency: int, seconds: float, cores: set[int] | None) -> dict[str, float]:
    threads = min(concurrency, 2)
    argv = [
        wrk_binary(),
        "-t",
        str(threads),
        "-c",
        str(concurrency),
        "-d",
        f"{max(seconds, 1):.0f}s",
        "--timeout",
        "10s",
        "-s",
        str(SCRIPT),
    ]
    for name, value in target.headers.items():
        argv += ["-H", f"{name}: {value}"]
    env = {**os.environ, **({"BENCH_BODY_FILE": str(target.body_file)} if target.body_file else {})}
    done = subprocess.run(
        [*argv, target.url],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        timeout=600,
        **pinned(cores),
    )
    for line in done.stdout.splitlines():
        if line.startswith(RESULT_PREFIX):
            result: dict[str, float] = json.loads(line[len(RESULT_PREFIX) :])
            return result
    raise RuntimeError(f"wrk printed no summary:\n{done.stdout}\n{done.stderr}")
