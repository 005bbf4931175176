"""`aegis policy explain | test | diff`, through the CLI, against the real OPA."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli import main

POLICY = """\
version: 1
defaults:
  read: allow
  write: deny
repositories:
  acme/app:
    paths:
      deny: ["src/secrets/**"]
"""


def opa_input(path: str | None, tool: str = "get_file_contents") -> dict[str, object]:
    return {
        "version": 1,
        "principal": {"id": "ci-bot", "kind": "api_key", "scopes": ["tools:read"], "roles": []},
        "tool": {"name": tool, "capability": "read"},
        "resource": {"repo": "acme/app", "path": path, "ref": None},
        "args": {},
        "context": {
            "write_mode": False,
            "time": "2026-11-21T10:00:00Z",
            "client_ip": None,
            "request_id": "t",
        },
    }


@pytest.fixture
def policy(tmp_path: Path, opa_bin: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AEGIS_OPA_BIN", opa_bin)
    path = tmp_path / "policy.yaml"
    path.write_text(POLICY)
    return path


def test_explain_names_the_rule_and_quotes_its_yaml_line(
    policy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = tmp_path / "input.json"
    request.write_text(json.dumps(opa_input("src/secrets/prod.env")))
    assert main(["policy", "explain", str(policy), "--input", str(request)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("decision: DENY")
    assert "deny  repo.acme/app.paths.deny[0]  [policy.yaml:8]" in out
    assert '8| deny: ["src/secrets/**"]' in out


def test_explain_an_allowed_call(policy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    request = tmp_path / "input.json"
    request.write_text(json.dumps(opa_input("README.md")))
    assert main(["policy", "explain", str(policy), "--input", str(request)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("decision: ALLOW")
    assert "allow defaults.read  [policy.yaml:3]" in out


APPROVAL_POLICY = """\
version: 1
defaults: {write: allow}
write:
  repositories: [acme/app]
  require_approval: [create_pull_request]
repositories:
  "acme/*":
    require_approval:
      - create_issue_comment
      - create_pull_request
"""


def test_explain_quotes_the_lines_that_hold_a_write_for_approval(
    policy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    policy.write_text(APPROVAL_POLICY)
    call = opa_input(None) | {
        "principal": {"id": "ci-bot", "kind": "api_key", "scopes": ["tools:write"], "roles": []},
        "tool": {"name": "create_pull_request", "capability": "write"},
        "context": {"write_mode": True, "time": "2026-11-21T10:00:00Z", "client_ip": None, "request_id": "t"},
    }
    request = tmp_path / "input.json"
    request.write_text(json.dumps(call))
    assert main(["policy", "explain", str(policy), "--input", str(request)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("decision: ALLOW")
    tail = out[out.index("held for a human approval") :].splitlines()
    assert tail[1:] == [
        "  approval write.require_approval[0]  [policy.yaml:5]",
        "        5| require_approval: [create_pull_request]",
        "  approval repo.acme/*.require_approval[1]  [policy.yaml:10]",
        "        10| - create_pull_request",
    ]
    assert '"require_approval": [{"rule": "write.require_approval[0]"' in out


def test_explain_rejects_an_input_that_is_not_json(
    policy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = tmp_path / "input.json"
    request.write_text("{not json")
    assert main(["policy", "explain", str(policy), "--input", str(request)]) == 1
    assert "not a readable JSON input document" in capsys.readouterr().err


AUTHOR_TEST = """\
package mypolicy_test

import data.aegis.authz

test_readme_is_readable if {
	authz.decision.allow with input as %s
}

test_secrets_are_not if {
	not authz.decision.allow with input as %s
}
"""


def test_policy_test_runs_the_authors_tests(policy: Path, tmp_path: Path) -> None:
    tests = tmp_path / "mypolicy_test.rego"
    tests.write_text(
        AUTHOR_TEST % (json.dumps(opa_input("README.md")), json.dumps(opa_input("src/secrets/x")))
    )
    assert main(["policy", "test", str(policy), str(tests)]) == 0
    failing = tmp_path / "failing_test.rego"
    failing.write_text(
        AUTHOR_TEST.replace("not authz", "authz")
        % (json.dumps(opa_input("README.md")), json.dumps(opa_input("src/secrets/x")))
    )
    assert main(["policy", "test", str(policy), str(failing)]) == 1


def test_diff_lists_exactly_the_decisions_that_change(
    policy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    same = tmp_path / "same.yaml"
    same.write_text(POLICY.replace("version: 1\n", "version: 1\n# a comment only\n"))
    assert main(["policy", "diff", str(policy), str(same)]) == 0
    stricter = tmp_path / "stricter.yaml"
    stricter.write_text(POLICY + "tools:\n  deny: [list_issues]\n")
    assert main(["policy", "diff", str(policy), str(stricter)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines
    assert all(
        " list_issues " in line and "allow -> deny" in line and "tools.deny[0]" in line for line in lines
    )


def test_policy_test_without_tests_of_the_authors_checks_that_the_policy_loads(policy: Path) -> None:
    assert main(["policy", "test", str(policy)]) == 0


def test_a_missing_opa_is_named_with_the_setting_that_fixes_it(
    policy: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AEGIS_OPA_BIN", str(tmp_path / "no-opa-here"))
    request = tmp_path / "input.json"
    request.write_text(json.dumps(opa_input("README.md")))
    assert main(["policy", "explain", str(policy), "--input", str(request)]) == 1
    assert "set AEGIS_OPA_BIN to an OPA binary" in capsys.readouterr().err


def test_without_aegis_opa_bin_the_checkout_opa_is_found(
    opa_bin: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from gateway import config

    built = tmp_path / ".tools" / "bin" / "opa"
    monkeypatch.setattr(config, "CHECKOUT_OPA", built)
    monkeypatch.setenv("PATH", str(tmp_path))  # no opa on PATH
    assert config.default_opa_bin({}) == "opa"  # nothing built: the error will say what to set
    built.parent.mkdir(parents=True)
    built.write_bytes(b"")
    assert config.default_opa_bin({}) == str(built)
    assert config.default_opa_bin({"AEGIS_OPA_BIN": opa_bin}) == opa_bin
