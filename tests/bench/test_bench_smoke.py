"""The benchmark starts, drives all three scenarios, and writes its JSON and PNG (quick mode: a smoke test,
not a measurement; real figures come from ./scripts/bench, see docs/performance.md)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.processes import REPO_ROOT, opa_binary


def run_module(*argv: str) -> subprocess.CompletedProcess[str]:
    """`python -m ARGV...` in the repository, with the pinned OPA."""
    return subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=REPO_ROOT,
        env={**os.environ, "AEGIS_OPA_BIN": opa_binary()},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_quick_benchmark_writes_json_and_plot(tmp_path: Path, opa_bin: str) -> None:
    out = tmp_path / "results"
    done = run_module("bench.run", "--quick", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads((out / "results.json").read_text())
    runs = {(load["scenario"], load["concurrency"]) for load in document["loads"]}
    assert runs == {("A", 1), ("B", 1), ("C", 1), ("B", 4), ("C", 4)}  # the upstream direct at c=1 only
    assert all(load["requests"] > 0 and load["p50_ms"] > 0 for load in document["loads"])
    rounds = [(load["scenario"], load["concurrency"], load["round"]) for load in document["rounds"]]
    assert sorted(rounds) == sorted((s, c, r) for s, c in runs for r in (0, 1))
    # CPU per call is taken from /proc for every server, the gateway's OPA included.
    assert all(load["cpu_ms_per_call"] > 0 for load in document["rounds"])
    if len(os.sched_getaffinity(0)) > 1:
        assert document["pinning"]["servers"] and document["pinning"]["load"]
    headline = document["headline"]
    assert headline["errors"] == 0
    for figure in ("C/B throughput at concurrency 4", "C/B CPU per call at concurrency 4"):
        spread = headline[figure]
        assert 0 < spread["min"] <= spread["median"] <= spread["max"]
    assert "C adds over A at concurrency 1, p50 ms" in headline
    assert (
        document["opa_decision"]["opa_p50_ms"] > 0
        and document["opa_decision"]["gateway_mean_under_load_ms"] > 0
    )
    assert {(a["fsync"], a["concurrency"]) for a in document["audit_append"]} == {
        (True, 1),
        (True, 16),
        (False, 1),
        (False, 16),
    }
    assert document["memory"]["gateway_peak_rss_mib"] > 10
    scaling = document["policy_scaling"]
    assert scaling["10"]["client_p50_ms"] > 0 and scaling["200"]["client_p50_ms"] > 0
    assert "decision p50 with 200 vs 10 repository rules" in document["headline"]
    paths = document["path_rule_scaling"]
    assert paths["10"]["opa_p50_ms"] > 0 and paths["1000"]["opa_p50_ms"] > 0
    assert "decision p50 with 1000 vs 10 path rules" in document["headline"]
    assert (out / "latency.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "C/B throughput" in done.stdout


pytestmark = pytest.mark.bench


def test_compare_drives_the_base_and_this_gateway_and_prints_their_ratio(opa_bin: str) -> None:
    done = run_module(
        "bench.compare", "--base", "HEAD", "--rounds", "1", "--duration", "1", "--concurrency", "4"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    # req/s, p50 ms and the CPU per call of the gateway and its OPA, from /proc
    assert re.search(r"^base HEAD +4 +\d+\.\d +\d+\.\d\d +\d+\.\d+$", done.stdout, re.M), done.stdout
    assert re.search(
        r"^this/base throughput at concurrency 4: \d+\.\d{3}; p50 this - base: ", done.stdout, re.M
    )


def test_audit_start_benchmark_starts_a_gateway_on_each_log(tmp_path: Path, opa_bin: str) -> None:
    out = tmp_path / "audit_start.json"
    done = run_module("bench.audit_start", "--entries", "50", "2500", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    rows = json.loads(out.read_text())
    assert [row["entries"] for row in rows] == [50, 2500]
    assert all(row["ready_s_checkpoints"] > 0 and row["ready_s_full_verify"] > 0 for row in rows)


def test_audit_review_benchmark_times_the_queries_and_the_explorer_page(tmp_path: Path) -> None:
    done = run_module("bench.audit_review", "--entries", "3000", "--out", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "audit_review.json").read_text())
    assert report["indexed"] == 3000
    assert report["queries"]["who read acme/app src/** on one day (allowed)"]["entries"] > 0
    assert report["aegis_audit_query_command_s"] > 0
    assert set(report["explorer_pages_s"]) == {
        "explorer: who read acme/app src/** on one day",
        "explorer: everything, unfiltered",
    }


def test_slow_clients_fault_run_serves_the_normal_client(opa_bin: str) -> None:
    done = run_module("bench.slow_clients", "--slow-bodies", "3", "--slow-heads", "3", "--calls", "3")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["normal_calls_served"] == 3
    assert report["slow_bodies_still_open"] == 3 and report["slow_heads_still_open"] == 3


def test_sanitize_benchmark_finds_every_planted_secret(tmp_path: Path) -> None:
    out = tmp_path / "sanitize.json"
    done = run_module("bench.sanitize", "--repeat", "1", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    rows = json.loads(out.read_text())
    assert rows["fixture 2 KB"]["findings"] == 0
    assert rows["1 MiB, 50 secrets"]["findings"] - rows["source code 1 MiB"]["findings"] == 50
    assert all(row["cpu_ms_per_call"] > 0 for row in rows.values())


def test_replicas_benchmark_compares_state_backends_and_replica_counts(tmp_path: Path, opa_bin: str) -> None:
    out = tmp_path / "results"
    done = run_module("bench.replicas", "--quick", "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    document = json.loads((out / "replicas.json").read_text())
    for tool in ("create_issue", "create_or_update_file"):
        writes = document["writes"][tool]
        assert writes["sqlite"]["calls"] == writes["postgresql"]["calls"] == 3
        assert writes["p50_ratio_postgresql_sqlite"] > 0
    for operation in ("quota reservation", "snapshot save"):
        state = document["state_operations"][operation]
        assert state["sqlite"]["calls"] == state["postgresql"]["calls"] == 20
    reads = document["reads"]["by_concurrency"]["4"]
    assert reads["one_replica"]["rps"] > 0 and reads["two_replicas"]["rps"] > 0
    assert 0 < reads["gw_b_share_of_two_replica_calls"] < 1  # the proxy spread the calls
    assert reads["two_replicas"]["cores"]["gateways"] > 0
    assert all(entries > 0 for entries in document["reads"]["audit_entries"].values())  # one chain each
    assert document["headline"]["errors"] == 0
    assert re.search(r"^  2/1 replicas throughput at concurrency 4: \d+\.\d{3} ", done.stdout, re.M)
