"""Micro-benchmarks: OPA decision latency (client-side vs as OPA reports it) and audit append throughput."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

from policy_compiler import build_bundle

from gateway.audit import AuditLog
from gateway.http import HttpSession
from gateway.opa import ManagedOpa

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
AUDIT_FIELDS = {
    "event": "tool_call",
    "request_id": "0" * 32,
    "decision_id": "0" * 32,
    "bundle_revision": "0" * 64,
    "principal": "bench",
    "tool": "get_file_contents",
    "repo": "acme/app",
    "path": "src/fixture_2k.txt",
    "args_sha256": "0" * 64,
    "outcome": "allowed",
    "reasons": [{"rule": "defaults.read", "effect": "allow", "source": "policy.yaml:3"}],
    "duration_ms": 1.234,
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


async def opa_decision_latency(
    *, opa_bin: str, policy: Path, workdir: Path, rounds: int, decision_input: dict[str, Any] = DECISION_INPUT
) -> dict[str, float]:
    """Sequential decisions over the managed OPA's unix socket with `?metrics=true`, sent with the gateway's
    own HTTP session: the round trip the gateway sees next to OPA's own server-side handler time."""
    bundle = build_bundle(policy, workdir / "bundle.tar.gz")
    opa = ManagedOpa(opa_bin=opa_bin, bundle=bundle.path, workdir=workdir)
    await opa.start()
    client_ms: list[float] = []
    server_ms: list[float] = []
    try:
        http = HttpSession(base_url=opa.base_url, timeout_s=5, unix_socket=opa.socket_path)
        payload = json.dumps({"input": decision_input}).encode()
        for index in range(rounds + rounds // 10):
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
                client_ms.append(elapsed)
                server_ms.append(body["metrics"]["timer_server_handler_ns"] / 1e6)
        await http.aclose()
    finally:
        await opa.stop()
    return {
        "rounds": rounds,
        "client_p50_ms": round(percentile(client_ms, 50), 3),
        "client_p99_ms": round(percentile(client_ms, 99), 3),
        "opa_p50_ms": round(percentile(server_ms, 50), 3),
        "opa_p99_ms": round(percentile(server_ms, 99), 3),
        "client_mean_ms": round(statistics.fmean(client_ms), 3),
    }


async def audit_append_throughput(
    path: Path, *, entries: int, fsync: bool, concurrency: int
) -> dict[str, float]:
    """Entries per second appended by `concurrency` concurrent writers (flushed, and fsynced if set)."""
    log = AuditLog.open(path, fsync=fsync)
    per_writer = entries // concurrency

    async def writer() -> None:
        for _ in range(per_writer):
            await log.append(AUDIT_FIELDS)

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
    """Decision latency for the same call under policies of growing size: lookups must be indexed."""
    results: dict[str, Any] = {}
    for size in sizes:
        policy = workdir / f"policy-{size}.yaml"
        policy.write_text(scaled_policy(size), encoding="utf-8")
        results[str(size)] = await opa_decision_latency(
            opa_bin=opa_bin, policy=policy, workdir=_subdir(workdir, f"opa-{size}"), rounds=rounds
        )
    small, large = results[str(sizes[0])], results[str(sizes[-1])]
    results["median_ratio_client"] = round(large["client_p50_ms"] / small["client_p50_ms"], 2)
    results["median_ratio_opa"] = round(large["opa_p50_ms"] / small["opa_p50_ms"], 2)
    return results


def _subdir(parent: Path, name: str) -> Path:
    path = parent / name
    path.mkdir(parents=True, exist_ok=True)
    return path
