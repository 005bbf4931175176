"""The Rego with the real OPA: decisions on compiled bundles, and the Rego's own test suite."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from policy_compiler import build_bundle
from policy_compiler._resources import rego_dir

from gateway.demo import EXAMPLE_POLICY
from tests.policy_compiler.conftest import REPO_ROOT
from tests.policy_compiler.golden import load_cases
from tests.policy_compiler.opa_run import opa_eval, run_opa

MIN_REGO_COVERAGE = 95.0


def _decision_input(call: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": 1,
        "principal": {
            "id": call.get("principal", "agent"),
            "kind": "api_key",
            "scopes": ["tools:read", "tools:write"],
            "roles": [],
        },
        "tool": {"name": call["tool"], "capability": call["capability"]},
        "resource": {"repo": call["repo"], "path": call["path"], "ref": None},
        "args": {},
        "context": {
            "write_mode": call["write_mode"],
            "time": call.get("time", "2026-11-21T10:00:00Z"),
            "request_id": "r1",
        },
    }


def _listing_input(query: dict[str, Any]) -> dict[str, Any]:
    return {
        "version": 1,
        "principal": {
            "id": "ci-bot",
            "kind": "api_key",
            "scopes": ["tools:read", "tools:write"],
            "roles": [],
        },
        "tools": [{"name": name, "capability": capability} for name, capability in query["tools"].items()],
        "context": {"write_mode": query["write_mode"]},
    }


@pytest.mark.parametrize("case", load_cases("decisions.yaml"))
def test_decisions_of_compiled_bundle(
    case: dict[str, Any], opa: str, write_policy: Callable[[str], Path], tmp_path: Path
) -> None:
    policy = REPO_ROOT / case["policy"] if "policy" in case else write_policy(case["input"])
    info = build_bundle(policy, tmp_path / "bundle.tar.gz")
    bundle = info.path
    calls = [_decision_input(call["call"]) for call in case["calls"]]
    got = opa_eval(
        opa,
        "[d | some c in input.calls; d := data.aegis.authz.decision with input as c]",
        {"calls": calls},
        bundle=bundle,
    )
    for call, decision in zip(case["calls"], got, strict=True):
        default_obligations = {"secrets": "mask"} if call["want"]["allow"] else {}
        want = {
            "obligations": default_obligations,
            "audit": {"hash_arguments": []},
            **call["want"],
            "revision": info.revision,
        }
        assert decision == want, call["note"]
    for query in case.get("visible", []):
        visible = opa_eval(opa, "data.aegis.authz.visible_tools", _listing_input(query), bundle=bundle)
        assert visible == query["want"], query


def test_opa_reads_the_manifest_and_namespaces(opa: str, tmp_path: Path) -> None:
    info = build_bundle(EXAMPLE_POLICY, tmp_path / "bundle.tar.gz")
    inspected = run_opa(opa, "inspect", "--format", "json", str(info.path), cwd=tmp_path)
    assert inspected.returncode == 0, inspected.stderr
    report = json.loads(inspected.stdout)
    assert report["manifest"]["revision"] == info.revision
    assert report["manifest"]["roots"] == ["aegis", "system/log"]
    assert report["namespaces"]["data.aegis.policy"] == ["aegis/policy/data.json"]
    assert "rego/authz.rego" in report["namespaces"]["data.aegis.authz"]


def test_rego_without_policy_data_denies(opa: str) -> None:
    call = {"tool": "get_issue", "capability": "read", "repo": "acme/app", "path": None, "write_mode": False}
    decision = opa_eval(opa, "data.aegis.authz.decision", _decision_input(call), data=rego_dir())
    assert decision == {
        "allow": False,
        "reasons": [{"rule": "policy.missing", "effect": "deny", "source": "builtin"}],
        "obligations": {},
        "revision": None,
    }
    listing = _listing_input({"write_mode": True, "tools": {"get_issue": "read"}})
    assert opa_eval(opa, "data.aegis.authz.visible_tools", listing, data=rego_dir()) == []


def test_rego_unit_tests_pass_with_coverage(opa: str) -> None:
    rego = rego_dir().relative_to(REPO_ROOT).as_posix()
    completed = run_opa(
        opa, "test", rego, "opa-tests", "--fail-on-empty", "--coverage", "--format", "json", cwd=REPO_ROOT
    )
    assert completed.returncode == 0, completed.stdout[-2000:] + completed.stderr
    report = json.loads(completed.stdout)
    rego_files = {name: data for name, data in report["files"].items() if name.startswith(f"{rego}/")}
    assert rego_files, "no file of the bundle's Rego in the coverage report"
    covered = sum(data.get("covered_lines", 0) for data in rego_files.values())
    not_covered = sum(data.get("not_covered_lines", 0) for data in rego_files.values())
    coverage = 100.0 * covered / (covered + not_covered)
    assert coverage >= MIN_REGO_COVERAGE, {name: data.get("not_covered") for name, data in rego_files.items()}


def test_rego_passes_strict_check(opa: str) -> None:
    completed = run_opa(opa, "check", "--strict", str(rego_dir()), "opa-tests", cwd=REPO_ROOT)
    assert completed.returncode == 0, completed.stdout + completed.stderr


def test_rego_is_formatted(opa: str) -> None:
    completed = run_opa(opa, "fmt", "--list", str(rego_dir()), "opa-tests", cwd=REPO_ROOT)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == ""
