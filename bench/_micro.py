"""Micro-benchmarks: OPA decision latency (client-side vs as OPA reports it), its scaling with repository and
path rules, and audit append throughput."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from policy_compiler import build_bundle

from gateway.audit import AuditLog, Entry
from gateway.opa import ManagedOpa
from gateway.outbound import HttpSession

DECISION_INPUT = {
    "version": 1,
    "principal": {"id": "bench", "kind": "api_key", "scopes": ["tools:read"], "roles": []},
    "tool": {"name": "get_file_contents", "capability": "read"},
    "resource": {"repo": "acme/app", "path": "src/fixture_2k.txt", "ref": None},
    "args": {"owner": "acme", "repo": "app", "filepath": "src/fixture_2k.txt"},
    "context": {
        "write_mode": False,
        "time": "2026-11-21T10:00:00Z",
        "client_ip": "127.0.0.1",
        "request_id": "b",
    },
}
PATH_RULE_SIZES = (10, 1000)  # path globs on the benchmark call's repository, compared by path_rule_scaling
AUDIT_ENTRY = Entry(
    event="tool_call",
    outcome="allowed",
    request_id="0" * 32,
    decision_id="0" * 32,
    bundle_revision="0" * 64,
    principal="bench",
    tool="get_file_contents",
    repo="acme/app",
    path="src/fixture_2k.txt",
    args_sha256="0" * 64,
    reasons=({"rule": "defaults.read", "effect": "allow", "source": "policy.yaml:3"},),
    duration_ms=1.234,
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def opa_decision_latency(
    *, opa_bin: str, policy: Path, workdir: Path, rounds: int, decision_input: dict[str, Any] = DECISION_INPUT
) -> dict[str, float]:
    """Sequential decisions over the managed OPA's unix socket with `?metrics=true`, sent with the gateway's
    own HTTP session: the round trip the gateway sees next to OPA's own server-side handler time."""
    results = await interleaved_decision_latency(
        opa_bin=opa_bin,
        policies={"policy": policy},
        workdir=workdir,
        rounds=rounds,
        decision_input=decision_input,
    )
    return results["policy"]


async def interleaved_decision_latency(
    *,
    opa_bin: str,
    policies: Mapping[str, Path],
    workdir: Path,
    rounds: int,
    decision_input: dict[str, Any] = DECISION_INPUT,
) -> dict[str, dict[str, float]]:
    """One managed OPA per policy, queried in turn within each round, so that the machine's drift during
    the run falls on every policy alike."""
    opas: dict[str, ManagedOpa] = {}
    sessions: dict[str, HttpSession] = {}
    client_ms: dict[str, list[float]] = {name: [] for name in policies}
    server_ms: dict[str, list[float]] = {name: [] for name in policies}
    payload = json.dumps({"input": decision_input}).encode()
    try:
        for name, policy in policies.items():
            home = workdir / name
            home.mkdir(parents=True, exist_ok=True)
            bundle = build_bundle(policy, home / "bundle.tar.gz")
            opas[name] = ManagedOpa(opa_bin=opa_bin, bundle=bundle.path, workdir=home)
            await opas[name].start()
            sessions[name] = HttpSession(
                base_url=opas[name].base_url, timeout_s=5, unix_socket=opas[name].socket_path
            )
        for index in range(rounds + rounds // 10):
            for name, http in sessions.items():
                started = time.perf_counter()
                response = await http.request(
                    "POST",
                    "/v1/data/aegis/authz/decision",
                    params={"metrics": "true"},
                    body=payload,
                    content_type="application/json",
                )
                elapsed = (time.perf_counter() - started) * 1000
                body = json.loads(response.body)
                if body["result"]["allow"] is not True:
                    raise RuntimeError(f"benchmark decision is not an allow: {body}")
                if index >= rounds // 10:  # the first tenth warms up
                    client_ms[name].append(elapsed)
                    server_ms[name].append(body["metrics"]["timer_server_handler_ns"] / 1e6)
    finally:
        for http in sessions.values():
            await http.aclose()
        for opa in opas.values():
            await opa.stop()
    return {
        name: {
            "rounds": rounds,
            "client_p50_ms": round(percentile(client_ms[name], 50), 3),
            "client_p99_ms": round(percentile(client_ms[name], 99), 3),
            "opa_p50_ms": round(percentile(server_ms[name], 50), 3),
            "opa_p99_ms": round(percentile(server_ms[name], 99), 3),
            "client_mean_ms": round(statistics.fmean(client_ms[name]), 3),
        }
        for name in policies
    }


async def audit_append_throughput(
    path: Path, *, entries: int, fsync: bool, concurrency: int
) -> dict[str, float]:
    """Entries per second appended by `concurrency` concurrent writers (flushed, and fsynced if set)."""
    log = AuditLog.open(path, fsync=fsync)
    per_writer = entries // concurrency

    async def writer() -> None:
        for _ in range(per_writer):
            await log.append(AUDIT_ENTRY)

    started = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    log.close()
    written = per_writer * concurrency
    return {
        "entries": written,
        "fsync": fsync,
        "concurrency": concurrency,
        "entries_per_s": round(written / elapsed, 1),
        "mean_ms": round(elapsed / written * 1000, 4),
    }


def scaled_policy(repositories: int) -> str:
    """A policy with `repositories` rules: 60% exact keys and 40% globs, 20 keys per owner, each with tool
    and path rules; the benchmark call's repository (acme/app) matches one exact key and one glob."""
    lines = ["version: 1", "defaults: {read: allow, write: deny}", "repositories:"]
    for index in range(repositories - 2):
        owner = f"org{index // 20}"
        key = f"{owner}/repo{index}" if index % 5 < 3 else f"{owner}/repo{index}-*"
        lines.append(f"  {key}: {{tools: {{deny: [list_issues]}}, paths: {{deny: ['secrets/**']}}}}")
    lines.append("  acme/app: {tools: {deny: [list_issues]}, paths: {deny: ['src/secrets/**']}}")
    lines.append("  acme/*: {paths: {deny: ['**/*.pem']}}")
    return "\n".join(lines) + "\n"


async def policy_scaling(
    *, opa_bin: str, workdir: Path, sizes: tuple[int, ...], rounds: int
) -> dict[str, Any]:
    """Decision latency for the same call under policies of growing size, measured interleaved: lookups must
    be indexed, so the ratio of medians stays near 1."""
    return await _scaling(scaled_policy, opa_bin=opa_bin, workdir=workdir, sizes=sizes, rounds=rounds)


def path_rule_policy(rules: int) -> str:
    """A policy whose one repository key (acme/app) holds `rules` path globs, half allow and half deny:
    literal directories, wildcard first segments (`*/`, `**/`, `?`) and file-name patterns mixed. The
    benchmark call's path (src/fixture_2k.txt) matches the last two allow globs, one under a literal
    directory and one `**/` glob, and no deny glob."""
    allow_shapes = ("docs{}/**", "*/generated{}/**", "lib{}/*.py", "**/*.part{}")
    deny_shapes = ("src/secret{}/**", "**/*.key{}", "build{}/**", "b?n{}/*")
    allow = [allow_shapes[i % 4].format(i) for i in range(rules // 2 - 2)] + ["src/*.txt", "**/fixture_*.txt"]
    deny = [deny_shapes[i % 4].format(i) for i in range(rules - rules // 2)]
    return (
        "version: 1\ndefaults: {read: allow, write: deny}\nrepositories:\n"
        f"  acme/app: {{paths: {{allow: {json.dumps(allow)}, deny: {json.dumps(deny)}}}}}\n"
    )


async def path_rule_scaling(
    *, opa_bin: str, workdir: Path, sizes: tuple[int, ...], rounds: int
) -> dict[str, Any]:
    """Decision latency for the same call under growing numbers of path rules on its repository, measured
    interleaved: the path globs are indexed, so the ratio of medians stays near 1."""
    return await _scaling(path_rule_policy, opa_bin=opa_bin, workdir=workdir, sizes=sizes, rounds=rounds)


async def _scaling(
    policy_of: Callable[[int], str], *, opa_bin: str, workdir: Path, sizes: tuple[int, ...], rounds: int
) -> dict[str, Any]:
    """Decisions of the benchmark call under `policy_of(size)` for each size, interleaved, with the ratio of
    the largest size's medians to the smallest's."""
    policies = {}
    for size in sizes:
        policies[str(size)] = workdir / f"policy-{size}.yaml"
        policies[str(size)].write_text(policy_of(size), encoding="utf-8")
    results: dict[str, Any] = await interleaved_decision_latency(
        opa_bin=opa_bin, policies=policies, workdir=workdir, rounds=rounds
    )
    small, large = results[str(sizes[0])], results[str(sizes[-1])]
    results["median_ratio_client"] = round(large["client_p50_ms"] / small["client_p50_ms"], 2)
    results["median_ratio_opa"] = round(large["opa_p50_ms"] / small["opa_p50_ms"], 2)
    return results
