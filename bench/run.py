"""Run every benchmark on loopback and print a table plus a JSON file (and a PNG) of one run.

    python -m bench.run [--quick] [--out bench/results]

Scenarios, all serving the same 2 KB file read: A the upstream called directly, B an unsecured MCP server
built with the official SDK, C Aegis with its managed OPA, audit (fsync) and metrics. The servers are
measured in alternated rounds, each (with its OPA) on one core and wrk with the upstream on the others
where the machine has two or more (`--no-pin` lets them share all). Headline figures are ratios and
differences taken round by round within this one run: their median and their spread over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import dataclasses
import json
import os
import re
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import httpx

from bench import _report
from bench._load import LoadResult, Target, wrk_binary
from bench._micro import (
    PATH_RULE_SIZES,
    audit_append_throughput,
    opa_decision_latency,
    path_rule_scaling,
    policy_scaling,
)
from bench._processes import children, free_port, peak_rss_kib, running
from bench._rounds import Results, alternated, core_plan, median_load, per_round
from gateway.demo import spawn_simulator
from gateway.edge.keys import create_key

HERE = Path(__file__).parent
POLICY = HERE / "policy.yaml"
FILE = "src/fixture_2k.txt"
CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "get_file_contents", "arguments": {"owner": "acme", "repo": "app", "filepath": FILE}},
}
# The in-flight and per-address connection caps, set above what wrk sends (as the rate budgets are).
UNCAPPED = {"AEGIS_MAX_IN_FLIGHT": "4096", "AEGIS_MAX_CONNECTIONS_PER_ADDRESS": "4096"}
MCP_HEADERS = {
    "Content-Type": "application/json",
    "Accept": "application/json, text/event-stream",
    "MCP-Protocol-Version": "2025-11-25",
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "results")
    parser.add_argument("--quick", action="store_true", help="short runs (a smoke test, not a measurement)")
    parser.add_argument("--no-pin", action="store_true", help="let servers and wrk share every core")
    args = parser.parse_args(argv)
    settings = (
        {
            "concurrency": [1, 4],
            "load_rounds": 2,
            "warmup_s": 0,
            "duration_s": 1,
            "rounds": 200,
            "entries": 400,
            "rules": [10, 200],
        }
        if args.quick
        else {
            "concurrency": [1, 16],
            "load_rounds": 5,
            "warmup_s": 2,
            "duration_s": 8,
            "rounds": 3000,
            "entries": 5000,
            "rules": [10, 10_000],
        }
    )
    settings["pin"] = not args.no_pin
    args.out.mkdir(parents=True, exist_ok=True)
    wrk_binary()
    with tempfile.TemporaryDirectory(prefix="aegis-bench-") as tmp:
        document = run(Path(tmp), settings)
    _report.write_json(args.out / "results.json", document)
    _report.plot(args.out / "latency.png", document["loads"])
    print(_report.table(document["loads"], document["headline"]))
    print(f"\nwrote {args.out / 'results.json'} and {args.out / 'latency.png'}")
    return 0


def run(workdir: Path, settings: dict[str, Any]) -> dict[str, Any]:
    token, contents = capture_upstream_body(workdir)
    expected_text = base64.b64decode(json.loads(contents)["content"]).decode()
    body_file = workdir / "upstream-body.json"
    body_file.write_bytes(contents)
    call_file = workdir / "call.json"
    call_file.write_text(json.dumps(CALL))
    keys_file = workdir / "keys.json"
    key = create_key(keys_file, name="bench")
    ports = {name: free_port() for name in "ABC"}
    upstream = f"http://127.0.0.1:{ports['A']}"
    opa_bin = os.environ.get("AEGIS_OPA_BIN", "opa")
    cores = core_plan(pin=settings["pin"])
    gateway_env = UNCAPPED | gateway_environment(
        upstream=upstream, token=token, keys_file=keys_file, home=workdir, port=ports["C"]
    )
    targets = {
        "A": Target(
            "A",
            f"{upstream}/api/v1/repos/acme/app/contents/{FILE}",
            {"Authorization": f"token {token}"},
            None,
        ),
        "B": Target("B", f"http://127.0.0.1:{ports['B']}/mcp", MCP_HEADERS, call_file),
        "C": Target(
            "C",
            f"http://127.0.0.1:{ports['C']}/mcp",
            {**MCP_HEADERS, "Authorization": f"Bearer {key}"},
            call_file,
        ),
    }
    with (
        running(
            ["-m", "bench.upstream", str(ports["A"]), str(body_file), token],
            ready_url=f"{upstream}/",
            log=workdir / "upstream.log",
            cores=cores.load if cores else None,
        ) as direct,
        running(
            ["-m", "bench.sdk_server", str(ports["B"]), upstream, token],
            ready_url=f"http://127.0.0.1:{ports['B']}/",
            log=workdir / "sdk.log",
            cores=cores.servers if cores else None,
        ) as sdk,
        running(
            ["-m", "gateway.cli", "serve"],
            env=gateway_env,
            ready_url=f"http://127.0.0.1:{ports['C']}/readyz",
            log=workdir / "gateway.log",
            cores=cores.servers if cores else None,
        ) as gateway,
    ):
        _check_targets(targets, expected_text)
        serving = {"A": direct.pid, "B": sdk.pid, "C": gateway.pid}
        measured = {name: dataclasses.replace(t, processes=(serving[name],)) for name, t in targets.items()}
        results = alternated(
            measured,
            concurrency=settings["concurrency"],
            rounds=settings["load_rounds"],
            warmup_s=settings["warmup_s"],
            duration_s=settings["duration_s"],
            cores=cores,
            # The direct upstream answers for the added latency, at the lowest concurrency only.
            wanted=lambda name, c: name != "A" or c == settings["concurrency"][0],
        )
        rss = {
            "gateway_peak_rss_mib": round(peak_rss_kib(gateway.pid) / 1024, 1),
            "opa_peak_rss_mib": round(sum(peak_rss_kib(c) for c in children(gateway.pid)) / 1024, 1),
        }
        gateway_opa_ms = _gateway_opa_mean_ms(f"http://127.0.0.1:{ports['C']}/metrics")
    opa = asyncio.run(
        opa_decision_latency(
            opa_bin=opa_bin, policy=POLICY, workdir=_fresh(workdir / "opa"), rounds=settings["rounds"]
        )
    )
    audit = [
        asyncio.run(
            audit_append_throughput(
                workdir / f"audit-{fsync}-{conc}.jsonl",
                entries=settings["entries"],
                fsync=fsync,
                concurrency=conc,
            )
        )
        for fsync in (True, False)
        for conc in (1, 16)
    ]
    scaling = asyncio.run(
        policy_scaling(
            opa_bin=opa_bin,
            workdir=_fresh(workdir / "scaling"),
            sizes=tuple(settings["rules"]),
            rounds=settings["rounds"],
        )
    )
    path_scaling = asyncio.run(
        path_rule_scaling(
            opa_bin=opa_bin,
            workdir=_fresh(workdir / "path-scaling"),
            sizes=PATH_RULE_SIZES,
            rounds=settings["rounds"],
        )
    )
    headline = _headline(results, settings["concurrency"])
    headline[f"decision p50 with {settings['rules'][-1]} vs {settings['rules'][0]} repository rules"] = (
        scaling["median_ratio_client"]
    )
    headline[f"decision p50 with {PATH_RULE_SIZES[-1]} vs {PATH_RULE_SIZES[0]} path rules"] = path_scaling[
        "median_ratio_client"
    ]
    return {
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": settings,
        "machine": {"cpus": os.cpu_count()},
        "pinning": dataclasses.asdict(cores) if cores else None,
        "loads": [median_load(rounds) for rounds in results.values()],
        "rounds": [load for rounds in results.values() for load in rounds],
        "headline": headline,
        "policy_scaling": scaling,
        "path_rule_scaling": path_scaling,
        "opa_decision": {**opa, "gateway_mean_under_load_ms": gateway_opa_ms},
        "audit_append": audit,
        "memory": rss,
    }


def gateway_environment(
    *, upstream: str, token: str, keys_file: Path, home: Path, port: int
) -> dict[str, str]:
    """The environment of a benchmarked gateway: its upstream, the benchmark policy, files under `home`."""
    return {
        "AEGIS_GITEA_URL": upstream,
        "AEGIS_GITEA_TOKEN": token,
        "AEGIS_POLICY": str(POLICY),
        "AEGIS_KEYS_FILE": str(keys_file),
        "AEGIS_AUDIT_LOG": str(home / "audit.jsonl"),
        "AEGIS_STATE_DB": str(home / "state.db"),
        "AEGIS_BIND": f"127.0.0.1:{port}",
        "AEGIS_OPA_BIN": os.environ.get("AEGIS_OPA_BIN", "opa"),
        # Budgets are still checked on every call (their cost is measured) but set above what wrk sends.
        "AEGIS_IP_RATE": "1000000",
        "AEGIS_IP_BURST": "1000000",
        "AEGIS_KEY_RATE": "1000000",
        "AEGIS_KEY_BURST": "1000000",
    }


def check_serves_fixture(target: Target, expected_text: str) -> None:
    """An MCP scenario must really serve the file: a benchmark of error paths would be worthless."""
    body = target.body_file.read_bytes() if target.body_file else b""
    result = httpx.post(target.url, content=body, headers=target.headers).json()["result"]
    # Aegis wraps the file between untrusted-data markers (docs/hardening.md); the file must be inside.
    if result.get("isError") or expected_text not in result["content"][0]["text"]:
        raise RuntimeError(f"scenario {target.scenario} does not serve the fixture: {result}")


def _headline(results: Results, concurrencies: list[int]) -> dict[str, Any]:
    """Ratios and differences of the same round, as a median and its spread (min, max) over the rounds."""
    headline: dict[str, Any] = {}
    for c in concurrencies:
        headline[f"C/B throughput at concurrency {c}"] = per_round(
            results["C", c], results["B", c], lambda ours, sdk: ours.rps / sdk.rps
        )
        headline[f"C/B CPU per call at concurrency {c}"] = per_round(
            results["C", c], results["B", c], lambda ours, sdk: _cpu(ours) / _cpu(sdk)
        )
    first = concurrencies[0]
    headline[f"C adds over A at concurrency {first}, p50 ms"] = per_round(
        results["C", first], results["A", first], lambda ours, direct: ours.p50_ms - direct.p50_ms
    )
    headline[f"C adds over A at concurrency {first}, p99 ms"] = per_round(
        results["C", first], results["A", first], lambda ours, direct: ours.p99_ms - direct.p99_ms
    )
    headline["errors"] = sum(load.errors for loads in results.values() for load in loads)
    return headline


def _cpu(load: LoadResult) -> float:
    if not load.cpu_ms_per_call:
        raise RuntimeError(f"no CPU time measured for scenario {load.scenario}")
    return load.cpu_ms_per_call


def capture_upstream_body(workdir: Path) -> tuple[str, bytes]:
    """The simulator's real ContentsResponse for the 2 KB fixture, and the token it was read with."""
    process, url = spawn_simulator(workdir / "gitea", workdir / "gitea-token")
    try:
        token = (workdir / "gitea-token").read_text().strip()
        response = httpx.get(
            f"{url}/api/v1/repos/acme/app/contents/{FILE}", headers={"Authorization": f"token {token}"}
        )
        response.raise_for_status()
        return token, response.content
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def _check_targets(targets: dict[str, Target], expected_text: str) -> None:
    """Each scenario must really serve the file: a benchmark of error paths would be worthless."""
    direct = httpx.get(targets["A"].url, headers=targets["A"].headers)
    if base64.b64decode(direct.json()["content"]).decode() != expected_text:
        raise RuntimeError("scenario A does not serve the fixture")
    for name in "BC":
        check_serves_fixture(targets[name], expected_text)


def _gateway_opa_mean_ms(metrics_url: str) -> float:
    text = httpx.get(metrics_url).text
    total = float(re.search(r"^aegis_opa_decision_duration_seconds_sum (\S+)$", text, re.M)[1])  # type: ignore[index]
    count = float(re.search(r"^aegis_opa_decision_duration_seconds_count (\S+)$", text, re.M)[1])  # type: ignore[index]
    return round(total / count * 1000, 3)


def _fresh(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


if __name__ == "__main__":
    raise SystemExit(main())
