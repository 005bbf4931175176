"""The jobs file: a valid one loads into jobs; every problem is reported at file:line:column."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.automation import JobsError, ScheduleTrigger, WebhookTrigger, load_jobs

TOOLS = {"add_labels", "list_issues", "create_issue_comment", "get_issue"}
VALID = """\
version: 1
jobs:
  label-docs:
    description: label issues that mention docs
    trigger:
      webhook:
        events: [issues]
        actions: [opened]
        repositories: ["acme/*"]
        paths: ["docs/**"]
    steps:
      - name: label
        tool: add_labels
        args:
          owner: "{{ trigger.owner }}"
          repo: "{{ trigger.repo }}"
          index: "{{ trigger.number }}"
          labels: [documentation]
  stale:
    trigger:
      schedule: {cron: "0 3 * * *", missed: catch_up, jitter: 30s}
    timeout: 5m
    max_items: 20
    steps:
      - name: issues
        tool: list_issues
        args: {owner: acme, repo: app, state: open}
      - name: comment
        tool: create_issue_comment
        for_each: "{{ steps.issues.result.issues }}"
        when:
          - {value: "{{ item.updated_at }}", older_than: 30d}
        args: {owner: acme, repo: app, index: "{{ item.number }}", body: "Stale?"}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "jobs.yaml"
    path.write_text(text)
    return path


def problems(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(JobsError) as raised:
        load_jobs(write(tmp_path, text), known_tools=TOOLS)
    return [str(issue) for issue in raised.value.issues]


def test_a_valid_file_loads_in_order(tmp_path: Path) -> None:
    label, stale = load_jobs(write(tmp_path, VALID), known_tools=TOOLS)
    assert label.principal == "automation:label-docs" and label.source == "jobs.yaml:3"
    assert isinstance(label.trigger, WebhookTrigger) and label.trigger.paths == ("docs/**",)
    assert label.timeout_s == 60 and label.max_items == 100
    assert isinstance(stale.trigger, ScheduleTrigger)
    assert (stale.trigger.cron, stale.trigger.missed, stale.trigger.jitter_s) == ("0 3 * * *", "catch_up", 30)
    assert (stale.timeout_s, stale.max_items) == (300, 20)
    assert stale.steps[1].for_each == "{{ steps.issues.result.issues }}"
    assert stale.steps[1].when[0].operator == "older_than" and stale.steps[1].source == "jobs.yaml:28"


def test_schema_problems_are_located(tmp_path: Path) -> None:
    text = VALID.replace("events: [issues]", "events: [issue]").replace("missed: catch_up", "missed: later")
    assert problems(tmp_path, text) == [
        "jobs.yaml:7:18: expected 'issues' or 'issue_comment' or 'pull_request' or 'push' at"
        " 'jobs.label-docs.trigger.webhook.events.0', got 'issue'",
        "jobs.yaml:21:45: expected 'skip' or 'catch_up' at 'jobs.stale.trigger.schedule.missed', got 'later'",
    ]


def test_a_wrong_version_and_unknown_keys_are_named(tmp_path: Path) -> None:
    found = problems(
        tmp_path, VALID.replace("version: 1", "version: 2").replace("    timeout: 5m", "    timout: 5m")
    )
    assert found[0] == "jobs.yaml:1:10: unsupported jobs version 2; the only version is 1"
    assert found[1].startswith("jobs.yaml:22:5: unknown key 'timout' at 'jobs.stale'")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            ("tool: add_labels", "tool: merge_pull_request"),
            "jobs.yaml:13:15: unknown tool 'merge_pull_request'",
        ),
        (("name: comment", "name: issues"), "jobs.yaml:28:15: step name 'issues' is used twice in this job"),
        (
            ('cron: "0 3 * * *"', 'cron: "0 3 30 2 *"'),
            "jobs.yaml:21:24: invalid cron schedule: day-of-month: 30 never falls",
        ),
        (('"docs/**"', '"docs/[a"'), "jobs.yaml:10:17: invalid glob 'docs/[a'"),
        (("{{ trigger.number }}", "{{ trigger.number + 1 }}"), "is not a field reference"),
        (("{{ trigger.owner }}", "{{ steps.label.result }}"), "'label' is not an earlier step of this job"),
        (
            ("{{ trigger.repo }}", "{{ item.repo }}"),
            "'item' exists only in the arguments and when of a step with for_each",
        ),
        (
            ("owner: acme, repo: app, state", "owner: '{{ event.x }}', repo: app, state"),
            "a scheduled job has no event",
        ),
        (
            ("timeout: 5m", "timeout: 2h"),
            "jobs.yaml:22:14: a job's timeout must be more than 0 and at most 3600s",
        ),
    ],
)
def test_semantic_problems_are_located(tmp_path: Path, change: tuple[str, str], expected: str) -> None:
    found = problems(tmp_path, VALID.replace(*change))
    assert any(expected in problem for problem in found), found


def test_yaml_that_could_surprise_is_refused(tmp_path: Path) -> None:
    text = VALID.replace(
        "jobs:\n", "jobs:\n  x: &a {trigger: {webhook: {events: [push]}}, steps: []}\n  y: *a\n", 1
    )
    assert any("alias" in problem for problem in problems(tmp_path, text))


def test_an_unreadable_or_oversized_file_is_one_problem(tmp_path: Path) -> None:
    assert problems(tmp_path, "x" * ((1 << 20) + 1)) == [
        "jobs.yaml:1:1: the jobs file is larger than 1048576 bytes"
    ]
    with pytest.raises(JobsError, match="cannot read the jobs file"):
        load_jobs(tmp_path / "absent.yaml", known_tools=TOOLS)
