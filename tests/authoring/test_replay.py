"""Replay with the real OPA: a recorded decision is reproduced by its bundle, a tampered one is caught,
what the gateway added after OPA is left out, and a candidate policy shows what would change."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from policy_compiler import build_bundle

from gateway.authoring.replay import replay, replay_under, replayable

POLICY = "defaults: {read: allow}\nrepositories:\n  acme/app:\n    paths:\n      deny: [src/secrets/**]\n"
STRICTER = POLICY.replace("[src/secrets/**]", "[src/**]")
DENY = {"rule": "repo.acme/app.paths.deny[0]", "effect": "deny", "source": "policy.yaml:5"}
ALLOW = {"rule": "defaults.read", "effect": "allow", "source": "policy.yaml:1"}


def entry(seq: int, path: str, reasons: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "seq": seq,
        "event": "tool_call",
        "bundle_revision": "r",
        "reasons": reasons,
        "decision_input": {
            "principal": {"id": "agent", "kind": "api_key", "scopes": ["tools:read"], "roles": []},
            "tool": {"name": "get_file_contents", "capability": "read"},
            "resource": {"repo": "acme/app", "path": path, "ref": None, "size": None, "branch": None},
            "context": {"write_mode": False, "time": "2026-12-02T10:00:00.000000Z", "client_ip": None},
        },
    }


def bundle_of(tmp_path: Path, text: str) -> Path:
    policy = tmp_path / "policy.yaml"
    policy.write_text(text)
    return build_bundle(policy, tmp_path / "bundle.tar.gz").path


def test_recorded_decisions_are_reproduced_and_a_tampered_one_is_caught(tmp_path: Path, opa_bin: str) -> None:
    quota = {"rule": "quota.writes_per_day", "effect": "deny", "source": "gateway"}
    entries = [
        entry(1, "README.md", [ALLOW]),
        entry(2, "src/secrets/prod.env", [DENY]),
        entry(3, "README.md", [ALLOW, quota]),  # OPA allowed; the gateway denied after it
        entry(4, "src/secrets/prod.env", [ALLOW]),  # says allowed: not what that policy decides
    ]
    results = replay(entries, bundle_of(tmp_path, POLICY), opa_bin=opa_bin)
    assert [result.reproduced for result in results] == [True, True, True, False]
    assert results[3].replayed.allow is False and results[3].recorded.allow is True


def test_a_candidate_policy_shows_what_would_change(tmp_path: Path, opa_bin: str) -> None:
    policy = tmp_path / "stricter.yaml"
    policy.write_text(STRICTER)
    results = replay_under(
        [entry(1, "README.md", [ALLOW]), entry(2, "src/main.py", [ALLOW])], policy, opa_bin=opa_bin
    )
    assert [(result.recorded.allow, result.replayed.allow) for result in results] == [
        (True, True),
        (True, False),
    ]
    assert results[1].replayed.reasons == (("repo.acme/app.paths.deny[0]", "deny", "policy.yaml:5"),)


def test_what_opa_did_not_decide_is_not_replayed() -> None:
    unreachable = entry(1, "README.md", [{"rule": "opa.unavailable", "effect": "deny", "source": "gateway"}])
    invalid = {"seq": 2, "event": "tool_call", "bundle_revision": None, "reasons": []}
    assert replayable(unreachable) == "decided by the gateway without OPA"
    assert replayable(invalid) is not None and replayable({"event": "policy_loaded"}) == "not a tool call"
    assert replayable(entry(3, "README.md", [ALLOW])) is None
