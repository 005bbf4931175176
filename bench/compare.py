"""What a change costs: the gateway of another git revision and the gateway of this working tree, in front
of one upstream, driven in alternated rounds within one run (on a noisy machine, only such a comparison
says anything about a few percent).

    python -m bench.compare [--base REV] [--rounds 5] [--duration 5] [--concurrency 1 16]

The base revision is checked out into a temporary git worktree and run from there (its own code, this
environment's dependencies). Both serve the 2 KB file read of bench.run's scenario C; each round measures
each gateway at each concurrency, in an order that alternates between rounds. Printed: the median
throughput and p50 latency of each, and the ratio and difference of this tree to the base.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from bench._load import Target, wrk_binary
from bench._processes import free_port, running
from bench._rounds import Results, alternated, core_plan, median_load
from bench.run import (
    CALL,
    MCP_HEADERS,
    UNCAPPED,
    capture_upstream_body,
    check_serves_fixture,
    gateway_environment,
)
from gateway.edge.keys import create_key

ROOT = Path(__file__).resolve().parents[1]
TREES = ("base", "this")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.compare", description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="HEAD", help="the git revision to compare with (default HEAD)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds measured per gateway and round")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--no-pin", action="store_true", help="let the gateways and wrk share every core")
    args = parser.parse_args(argv)
    wrk_binary()
    with tempfile.TemporaryDirectory(prefix="aegis-compare-") as tmp, _worktree(args.base, Path(tmp)) as base:
        trees = {"base": base, "this": ROOT}
        results = _run(Path(tmp), trees, args.rounds, args.duration, args.concurrency, pin=not args.no_pin)
    print(_table(results, args.base, args.concurrency))
    return 0 if all(load.errors == 0 for loads in results.values() for load in loads) else 1


@contextlib.contextmanager
def _worktree(revision: str, tmp: Path) -> Iterator[Path]:
    path = tmp / "base-tree"
    subprocess.run(
        ["git", "-C", str(ROOT), "worktree", "add", "--quiet", "--detach", str(path), revision], check=True
    )
    try:
        yield path
    finally:
        subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(path)], check=False)


def _run(
    workdir: Path,
    trees: dict[str, Path],
    rounds: int,
    duration_s: float,
    concurrency: list[int],
    *,
    pin: bool,
) -> Results:
    token, contents = capture_upstream_body(workdir)
    expected_text = base64.b64decode(json.loads(contents)["content"]).decode()
    (workdir / "upstream-body.json").write_bytes(contents)
    call_file = workdir / "call.json"
    call_file.write_text(json.dumps(CALL))
    keys_file = workdir / "keys.json"
    key = create_key(keys_file, name="bench")
    upstream_port = free_port()
    upstream = f"http://127.0.0.1:{upstream_port}"
    ports = {name: free_port() for name in TREES}
    headers = {**MCP_HEADERS, "Authorization": f"Bearer {key}"}
    targets: dict[str, Target] = {}
    cores = core_plan(pin=pin)
    with contextlib.ExitStack() as servers:
        servers.enter_context(
            running(
                ["-m", "bench.upstream", str(upstream_port), str(workdir / "upstream-body.json"), token],
                ready_url=f"{upstream}/",
                log=workdir / "upstream.log",
                cores=cores.load if cores else None,
            )
        )
        for name in TREES:
            home = workdir / f"{name}-gateway"
            home.mkdir()
            tree = trees[name]
            env = UNCAPPED | gateway_environment(
                upstream=upstream, token=token, keys_file=keys_file, home=home, port=ports[name]
            )
            env["PYTHONPATH"] = f"{tree}:{tree / 'policy-compiler'}:{tree / 'gitea-simulator'}"
            gateway = servers.enter_context(
                running(
                    ["-m", "gateway.cli", "serve"],
                    env=env,
                    ready_url=f"http://127.0.0.1:{ports[name]}/readyz",
                    log=home / "gateway.log",
                    cores=cores.servers if cores else None,
                )
            )
            url = f"http://127.0.0.1:{ports[name]}/mcp"
            targets[name] = Target(name, url, headers, call_file, processes=(gateway.pid,))
            check_serves_fixture(targets[name], expected_text)
        return alternated(
            targets, concurrency=concurrency, rounds=rounds, warmup_s=1, duration_s=duration_s, cores=cores
        )


def _table(results: Results, base: str, concurrency: list[int]) -> str:
    rounds = len(results["this", concurrency[0]])
    header = f"{'gateway':<12} {'conc':>5} {'req/s':>9} {'p50 ms':>8} {'CPU ms/call':>11}"
    lines = [f"{header}  (medians of {rounds} rounds)"]
    for c in concurrency:
        medians = {name: median_load(results[name, c]) for name in TREES}
        for name, load in medians.items():
            label = f"base {base}" if name == "base" else "this tree"
            row = f"{label[:12]:<12} {c:>5} {load.rps:>9.1f} {load.p50_ms:>8.2f}"
            lines.append(f"{row} {load.cpu_ms_per_call:>11}")
        this, base_load = medians["this"], medians["base"]
        lines.append(
            f"this/base throughput at concurrency {c}: {this.rps / base_load.rps:.3f}; "
            f"p50 this - base: {this.p50_ms - base_load.p50_ms:+.3f} ms"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
