"""The job runner's logic in process: steps in order, templates from the event and earlier results, for_each
and when, the stop at the first step not carried out, and the run's audit entry. The calls go to a
recording caller here; tests/e2e/test_automation.py proves the same through the real core and OPA."""

from __future__ import annotations

import asyncio
import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from gateway.audit import AuditLog
from gateway.automation import Delivery, JobRunner, load_jobs
from gateway.errors import InvalidToolCall
from gateway.observability.metrics import Metrics
from gateway.vocabulary import CallContext, HeldForApproval

JOBS = """\
version: 1
jobs:
  triage:
    trigger: {webhook: {events: [issues], actions: [opened], paths: ["src/**"]}}
    steps:
      - name: issues
        tool: list_issues
        args: {owner: "{{ trigger.owner }}", repo: "{{ trigger.repo }}", state: open}
      - name: comment
        tool: create_issue_comment
        for_each: "{{ steps.issues.result.issues }}"
        when: [{value: "{{ item.title }}", matches: "bug*"}]
        args:
          owner: "{{ trigger.owner }}"
          repo: "{{ trigger.repo }}"
          index: "{{ item.number }}"
          body: "Seen with #{{ event.issue.number }} by {{ trigger.sender }}"
      - name: label
        tool: add_labels
        args:
          owner: "{{ trigger.owner }}"
          repo: "{{ trigger.repo }}"
          index: "{{ trigger.number }}"
          labels: [triaged]
"""
EVENT: dict[str, Any] = {
    "action": "opened",
    "issue": {"number": 9, "title": "t", "body": "in src/app.py", "labels": []},
    "repository": {"full_name": "acme/app"},
    "sender": {"login": "alice"},
}
ISSUES = {
    "issues": [
        {"number": 1, "title": "bug one"},
        {"number": 2, "title": "feature"},
        {"number": 3, "title": "bug two"},
    ]
}


def ok(structured: Any) -> dict[str, Any]:
    return {"content": [], "structuredContent": structured, "isError": False}


class Caller:
    """Answers each tool by a script; records every call's context and arguments."""

    def __init__(self, answers: dict[str, Any]) -> None:
        self.answers = answers
        self.calls: list[tuple[CallContext, str, dict[str, Any]]] = []

    async def call_tool(self, context: CallContext, name: Any, arguments: Any) -> Any:
        self.calls.append((context, name, arguments))
        answer = self.answers.get(name, ok({}))
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def runner_of(tmp_path: Path) -> Any:
    (tmp_path / "jobs.yaml").write_text(JOBS)
    jobs = load_jobs(
        tmp_path / "jobs.yaml", known_tools={"list_issues", "create_issue_comment", "add_labels"}
    )
    logs: list[AuditLog] = []

    def make(caller: Caller) -> JobRunner:
        audit = AuditLog.open(tmp_path / "audit.jsonl", fsync=False)
        logs.append(audit)
        return JobRunner(jobs, tools=caller, audit=audit, metrics=Metrics.create())

    yield make
    for log in logs:
        log.close()


def runs(tmp_path: Path) -> list[dict[str, Any]]:
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    return [entry for entry in map(json.loads, lines) if entry["event"] == "automation_run"]


async def test_steps_run_in_order_from_the_event_and_earlier_results(runner_of: Any, tmp_path: Path) -> None:
    caller = Caller({"list_issues": ok(ISSUES)})
    [report] = await runner_of(caller).on_delivery(Delivery("d-1", "issues", EVENT, 0.0))
    assert report.outcome == "completed"
    assert [(name, args.get("index")) for _, name, args in caller.calls] == [
        ("list_issues", None),
        ("create_issue_comment", 1),
        ("create_issue_comment", 3),
        ("add_labels", 9),
    ]
    assert caller.calls[1][2]["body"] == "Seen with #9 by alice"
    contexts = [context for context, _, _ in caller.calls]
    assert {context.principal.id for context in contexts} == {"automation:triage"}
    assert {context.principal.kind for context in contexts} == {"automation"}
    assert len({context.request_id for context in contexts}) == 4
    assert [context.automation.step for context in contexts if context.automation] == [
        "issues", "comment", "comment", "label",
    ]  # fmt: skip
    assert {(c.automation.delivery, c.automation.event) for c in contexts if c.automation} == {
        ("d-1", "issues")
    }
    [entry] = runs(tmp_path)
    assert (entry["outcome"], entry["principal"], entry["request_id"]) == (
        "completed",
        "automation:triage",
        report.run.run_id,
    )
    run = entry["automation"]
    assert (run["job"], run["trigger"], run["delivery"], run["event"]) == (
        "triage",
        "webhook",
        "d-1",
        "issues",
    )
    assert [step["step"] for step in run["steps"]] == ["issues", "comment", "label"]
    assert run["steps"][1]["skipped"] == 1 and len(run["steps"][1]["calls"]) == 2
    assert [call["request_id"] for call in run["steps"][1]["calls"]] == [
        contexts[1].request_id,
        contexts[2].request_id,
    ]


async def test_a_delivery_the_trigger_does_not_match_runs_nothing(runner_of: Any, tmp_path: Path) -> None:
    caller = Caller({})
    runner = runner_of(caller)
    assert await runner.on_delivery(Delivery("d", "issues", {**EVENT, "action": "edited"}, 0.0)) == []
    assert await runner.on_delivery(Delivery("d", "push", EVENT, 0.0)) == []
    no_paths = {**EVENT, "issue": {**EVENT["issue"], "body": "docs/readme.md"}}
    assert await runner.on_delivery(Delivery("d", "issues", no_paths, 0.0)) == []
    commented = {**EVENT, "comment": {"body": "in src/x.py"}}  # an issue comment posing as an issue
    assert await runner.on_delivery(Delivery("d", "issues", commented, 0.0)) == []
    assert caller.calls == [] and not (tmp_path / "audit.jsonl").read_text()


@pytest.mark.parametrize(
    ("answer", "step_outcome", "run_outcome"),
    [
        ({"isError": True, "structuredContent": {"denied": True, "reasons": []}}, "denied", "denied"),
        ({"isError": True, "structuredContent": {"pending_approval": True}}, "held", "held"),
        (
            HeldForApproval(
                approval_id="a", expires="e", request_state="s", result={"structuredContent": {}}
            ),
            "held",
            "held",
        ),
        ({"isError": True, "structuredContent": {"error": "Gitea request failed"}}, "error", "failed"),
        (InvalidToolCall("index: must be an integer"), "invalid", "failed"),
        (RuntimeError("a bug"), "error", "failed"),
    ],
)
async def test_the_run_stops_at_the_first_step_not_carried_out(
    runner_of: Any, tmp_path: Path, answer: Any, step_outcome: str, run_outcome: str
) -> None:
    caller = Caller({"list_issues": ok(ISSUES), "create_issue_comment": answer})
    [report] = await runner_of(caller).on_delivery(Delivery("d", "issues", EVENT, 0.0))
    assert [name for _, name, _ in caller.calls] == ["list_issues", "create_issue_comment"]
    assert (report.outcome, report.steps[-1].outcome) == (run_outcome, step_outcome)
    assert runs(tmp_path)[0]["outcome"] == run_outcome


async def test_a_reference_that_names_nothing_fails_the_step_before_any_call(
    runner_of: Any, tmp_path: Path
) -> None:
    caller = Caller({"list_issues": ok({"issues": [{"title": "bug without a number"}]})})
    [report] = await runner_of(caller).on_delivery(Delivery("d", "issues", EVENT, 0.0))
    assert [name for _, name, _ in caller.calls] == ["list_issues"]
    assert report.outcome == "failed" and "has no 'number'" in (report.steps[1].error or "")


async def test_elements_past_max_items_are_not_run_and_the_run_says_so(
    runner_of: Any, tmp_path: Path
) -> None:
    many = {"issues": [{"number": n, "title": "bug"} for n in range(150)]}
    caller = Caller({"list_issues": ok(many)})
    [report] = await runner_of(caller).on_delivery(Delivery("d", "issues", EVENT, 0.0))
    assert sum(name == "create_issue_comment" for _, name, _ in caller.calls) == 100
    assert report.steps[1].not_run == 50 and runs(tmp_path)[0]["automation"]["steps"][1]["not_run"] == 50


SCHEDULED = """\
version: 1
jobs:
  nightly:
    trigger: {schedule: {cron: "0 2 * * *", repositories: ["acme/*"]}}
    steps:
      - name: issues
        tool: list_issues
        args: {owner: "{{ trigger.owner }}", repo: "{{ trigger.repo }}", state: open}
"""


async def test_a_job_per_repository_runs_once_for_each_repository_it_may_list(tmp_path: Path) -> None:
    (tmp_path / "jobs.yaml").write_text(SCHEDULED)
    jobs = load_jobs(tmp_path / "jobs.yaml", known_tools={"list_issues", "list_repositories"})
    first = [{"full_name": f"acme/r{n}", "default_branch": "main"} for n in range(50)]
    pages = iter([ok({"repositories": first}), ok({"repositories": [{"full_name": "Other/X"}]})])

    class Lister(Caller):
        async def call_tool(self, context: CallContext, name: Any, arguments: Any) -> Any:
            answer = await super().call_tool(context, name, arguments)
            return next(pages) if name == "list_repositories" else answer

    caller = Lister({})
    audit = AuditLog.open(tmp_path / "audit.jsonl", fsync=False)
    try:
        runner = JobRunner(jobs, tools=caller, audit=audit, metrics=Metrics.create())
        slot = datetime.datetime(2026, 12, 3, 2, 0, tzinfo=datetime.UTC)
        listing, *reports = await runner.on_slot("nightly", slot)
    finally:
        audit.close()
    assert [args for _, name, args in caller.calls if name == "list_repositories"] == [
        {"limit": 50, "page": 1},
        {"limit": 50, "page": 2},
    ]
    assert listing.outcome == "completed" and len(reports) == 50
    listed = [args["repo"] for _, name, args in caller.calls if name == "list_issues"]
    assert sorted(listed) == sorted(f"r{n}" for n in range(50))  # each once, in a random order
    assert {report.run.slot for report in reports} == {"2026-12-03T02:00:00Z"}
    assert len({report.run.run_id for report in [listing, *reports]}) == 51
    assert len(runs(tmp_path)) == 51


GUARDED = """\
version: 1
jobs:
  greet:
    trigger: {webhook: {events: [issues]}}
    steps:
      - name: comment
        tool: create_issue_comment
        when:
          - {value: "{{ event.issue.title }} {{ event.issue.body }}", not_contains: "[skip-bot]"}
          - {value: "{{ trigger.sender }}", not_equals: "{{ event.issue.assignee.login }}"}
        args: {owner: acme, repo: app, index: "{{ trigger.number }}", body: hi}
"""


def runner_for(tmp_path: Path, text: str, caller: Caller) -> tuple[JobRunner, AuditLog]:
    (tmp_path / "jobs.yaml").write_text(text)
    jobs = load_jobs(
        tmp_path / "jobs.yaml", known_tools={"create_issue_comment", "add_labels", "list_repositories"}
    )
    audit = AuditLog.open(tmp_path / "audit.jsonl", fsync=False)
    return JobRunner(jobs, tools=caller, audit=audit, metrics=Metrics.create()), audit


async def test_a_guard_over_two_references_sees_both(tmp_path: Path) -> None:
    caller = Caller({})
    runner, audit = runner_for(tmp_path, GUARDED, caller)
    try:
        skip = {**EVENT, "issue": {**EVENT["issue"], "body": "please [skip-bot]"}}
        [skipped] = await runner.on_delivery(Delivery("d-1", "issues", skip, 0.0))
        [ran] = await runner.on_delivery(Delivery("d-2", "issues", EVENT, 0.0))
    finally:
        audit.close()
    assert skipped.steps[0].outcome == "skipped" and ran.steps[0].outcome == "allowed"
    assert len(caller.calls) == 1


async def test_an_operand_naming_nothing_is_null_and_the_run_is_recorded(tmp_path: Path) -> None:
    """Gitea sends `assignee: null` for an unassigned issue: a reference through it names nothing."""
    caller = Caller({})
    runner, audit = runner_for(tmp_path, GUARDED, caller)
    try:
        unassigned = {**EVENT, "issue": {**EVENT["issue"], "assignee": None}}
        [report] = await runner.on_delivery(Delivery("d-1", "issues", unassigned, 0.0))
    finally:
        audit.close()
    assert report.outcome == "completed" and len(caller.calls) == 1
    assert [entry["outcome"] for entry in runs(tmp_path)] == ["completed"]


PER_REPOSITORY = """\
version: 1
jobs:
  nightly:
    trigger: {schedule: {cron: "0 2 * * *", repositories: ["*/*"]}}
    timeout: 1s
    steps:
      - name: one
        tool: add_labels
        args: {owner: "{{ trigger.owner }}", repo: "{{ trigger.repo }}", index: 1, labels: [x]}
      - name: two
        tool: add_labels
        args: {owner: "{{ trigger.owner }}", repo: "{{ trigger.repo }}", index: 2, labels: [x]}
"""
REPOSITORIES = ok(
    {"repositories": [{"full_name": f"acme/r{n}", "default_branch": "main"} for n in range(20)]}
)
SLOT = datetime.datetime(2026, 1, 1, 2, 0, tzinfo=datetime.UTC)


class Slow(Caller):
    async def call_tool(self, context: CallContext, name: Any, arguments: Any) -> Any:
        await asyncio.sleep(0.05)
        return await super().call_tool(context, name, arguments)


def started_repositories(caller: Caller) -> set[str | None]:
    return {
        context.automation.repository
        for context, name, _ in caller.calls
        if name == "add_labels" and context.automation
    }


async def test_a_slot_s_repositories_share_the_job_s_timeout_and_each_started_run_is_recorded(
    tmp_path: Path,
) -> None:
    caller = Slow({"list_repositories": REPOSITORIES})
    runner, audit = runner_for(tmp_path, PER_REPOSITORY, caller)
    try:
        listing, *reports = await runner.on_slot("nightly", SLOT)
    finally:
        audit.close()
    assert 5 <= len(reports) < 20  # 0.1 s each, within the 1 s the whole slot has
    assert listing.outcome == "timeout" and listing.steps[0].not_run == 20 - len(reports)
    recorded = [entry["automation"] for entry in runs(tmp_path)]
    assert started_repositories(caller) == {run["repository"] for run in recorded if run["repository"]}
    assert recorded[-1]["steps"][0]["not_run"] == 20 - len(reports)  # the listing's entry, written last


async def test_a_cancelled_slot_still_records_the_runs_it_cut_short(tmp_path: Path) -> None:
    """The scheduler's hard timeout, or the gateway stopping, cancels a run in the middle of a step."""
    caller = Slow({"list_repositories": REPOSITORIES})
    runner, audit = runner_for(tmp_path, PER_REPOSITORY.replace("timeout: 1s", "timeout: 60s"), caller)
    try:
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.32):
                await runner.on_slot("nightly", SLOT)
        await asyncio.sleep(0.1)  # the shielded appends finish
    finally:
        audit.close()
    recorded = [(entry["outcome"], entry["automation"]["repository"]) for entry in runs(tmp_path)]
    assert {repository for _, repository in recorded if repository} == started_repositories(caller)
    assert recorded[-1] == ("cancelled", None)  # the listing's entry
    assert sum(outcome == "cancelled" for outcome, _ in recorded) == 2  # the repository's run and the listing
