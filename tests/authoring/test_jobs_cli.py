"""`aegis jobs check | list | run`, through the CLI; the dry run decides with the real OPA."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
JOBS = EXAMPLES / "automation.yaml"
POLICY = EXAMPLES / "automation-policy.yaml"
ISSUE_OPENED = {
    "action": "opened",
    "number": 4,
    "issue": {"number": 4, "title": "Typo", "body": "docs/install.md has a typo", "labels": []},
    "repository": {"full_name": "acme/app", "name": "app", "owner": {"login": "acme"}},
    "sender": {"login": "alice"},
}


def dry_run(job: str, event: Path, policy: Path = POLICY) -> list[str]:
    """The arguments of `aegis jobs run` for `job` of the examples, against `event`."""
    return ["jobs", "run", job, "--jobs", str(JOBS), "--policy", str(policy), "--event", str(event)]


@pytest.fixture
def event(tmp_path: Path, opa_bin: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AEGIS_OPA_BIN", opa_bin)
    monkeypatch.delenv("WRITE_MODE", raising=False)
    path = tmp_path / "issue.json"
    path.write_text(json.dumps(ISSUE_OPENED))
    return path


def test_the_example_jobs_check_and_list(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "check", "--jobs", str(JOBS)]) == 0
    assert capsys.readouterr().out.strip() == f"{JOBS}: OK, 4 job(s)"
    assert main(["jobs", "list", "--jobs", str(JOBS)]) == 0
    listed = capsys.readouterr().out
    assert "label-by-paths  as automation:label-by-paths  on webhook issues [opened]" in listed
    assert "nightly-secret-scan  as automation:nightly-secret-scan  on schedule '30 2 * * *'" in listed
    assert "reported:list_issues -> scan:find_secrets -> report:create_issue" in listed


def test_check_names_each_problem_at_file_line_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "jobs.yaml"
    broken.write_text(JOBS.read_text().replace("tool: add_labels", "tool: add_label", 1))
    assert main(["jobs", "check", "--jobs", str(broken)]) == 1
    assert capsys.readouterr().err.strip() == "jobs.yaml:18:15: unknown tool 'add_label'"


def test_a_dry_run_shows_each_step_and_its_decision_without_running_it(
    event: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = dry_run("label-by-paths", event)
    assert main(args) == 0
    off = capsys.readouterr().out
    assert off.startswith("job label-by-paths (automation.yaml:12), issues event: the trigger matches")
    assert "WRITE_MODE off; nothing is executed" in off
    first, second = off.split("step 2: ")
    assert "when: holds" in first and "'labels': ['documentation']" in first and "'index': 4" in first
    assert "decision: DENY" in first and "context.write_mode" in first
    assert "when: does not hold: the step would be skipped" in second
    assert main([*args, "--write-mode", "on"]) == 0
    on = capsys.readouterr().out.split("step 2: ")[0]
    assert "decision: ALLOW" in on
    assert "allow roles.labeller.capabilities[0]  [policy.yaml:19]" in on
    assert "19| capabilities: [automation]" in on  # the line quoted, whatever the policy file is called


def test_a_dry_run_of_a_job_without_its_grant_is_denied_by_the_automation_default(
    event: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ungranted = tmp_path / "policy.yaml"
    ungranted.write_text(
        POLICY.read_text().replace('  "automation:label-by-paths": {roles: [labeller]}\n', "")
    )
    args = dry_run("label-by-paths", event, ungranted)
    assert main([*args, "--write-mode", "on"]) == 0
    out = capsys.readouterr().out
    assert "decision: DENY" in out and "deny  defaults.automation" in out


def test_a_dry_run_says_what_it_cannot_know(event: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["jobs", "run", "protected-paths-review", "--jobs", str(JOBS), "--policy", str(POLICY)]
    pull = {
        "action": "opened",
        "number": 2,
        "pull_request": {
            "number": 2,
            "base": {"ref": "main", "sha": "a" * 40},
            "head": {"ref": "feature", "sha": "b" * 40},
            "labels": [],
        },
        "repository": ISSUE_OPENED["repository"],
    }
    event.write_text(json.dumps(pull))
    assert main([*args, "--event", str(event)]) == 0
    out = capsys.readouterr().out
    assert f"'base': '{'a' * 40}'" in out and f"'head': '{'b' * 40}'" in out  # the commits, not branches
    assert "uses the result of step(s) changes, which a dry run does not run" in out


def test_run_refuses_what_it_cannot_dry_run(event: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["jobs", "run", "nope", "--jobs", str(JOBS)]) == 1
    assert "no job named 'nope'" in capsys.readouterr().err
    assert main(["jobs", "run", "label-by-paths", "--jobs", str(JOBS)]) == 1
    assert "pass --event PAYLOAD.json" in capsys.readouterr().err


def test_a_dry_run_of_a_job_per_repository_names_the_repository(
    event: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["jobs", "run", "stale-issue-triage", "--jobs", str(JOBS), "--policy", str(POLICY)]
    assert main([*args, "--repository", "acme/app", "--write-mode", "on"]) == 0
    out = capsys.readouterr().out
    assert ", repository acme/app" in out.splitlines()[0]
    assert "'owner': 'acme', 'repo': 'app', 'state': 'open'" in out and "decision: ALLOW" in out
    assert "uses the result of step(s) open, which a dry run does not run" in out


def test_a_dry_run_says_when_the_payload_is_not_the_event_s(
    event: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    comment = {**ISSUE_OPENED, "action": "created", "comment": {"body": "docs/x.md"}}
    event.write_text(json.dumps(comment))
    args = dry_run("label-by-paths", event)
    assert main(args) == 0  # an issue_comment payload, sent as the job's first event (issues)
    assert "the payload is not that of an 'issues' event, so no job would run" in capsys.readouterr().out
