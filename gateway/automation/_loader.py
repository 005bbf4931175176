"""Reads the jobs file (schema gateway/automation/jobs.schema.json) into `Job`s, or fails with every
problem found, each at file:line:column, as the policy compiler reports a policy's.

Beyond the schema: step names are unique within their job, each step names a tool the gateway has, every
template is made of field references only, a reference reaches only what its step can know (`event` in a
webhook job, `item` in a step with `for_each`, `steps.<name>` of an earlier step), globs and the cron
schedule parse.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
from collections.abc import Collection
from pathlib import Path
from typing import Any

import jsonschema
from policy_compiler import (
    Document,
    JsonPath,
    PolicyIssue,
    glob_to_regex,
    located_schema_issues,
    read_yaml_file,
)

from gateway.automation._conditions import Condition
from gateway.automation._cron import CronSchedule
from gateway.automation._durations import parse_duration
from gateway.automation._model import Job, ScheduleTrigger, Step, WebhookTrigger
from gateway.automation._template import reference_issues, references
from gateway.errors import ConfigError

MAX_JOBS_BYTES = 1 << 20
DEFAULT_TIMEOUT = "60s"
MAX_TIMEOUT_S = 3600.0
DEFAULT_MAX_ITEMS = 100
_GLOB_FILTERS = ("repositories", "branches", "paths")


class JobsError(ConfigError):
    """The jobs file is invalid; `issues` lists every problem, sorted by position."""

    def __init__(self, issues: Collection[PolicyIssue]) -> None:
        self.issues = sorted(set(issues))
        super().__init__("\n".join(str(issue) for issue in self.issues))


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    text = importlib.resources.files("gateway.automation").joinpath("jobs.schema.json").read_text("utf-8")
    return jsonschema.Draft202012Validator(json.loads(text))


def load_jobs(path: Path, *, known_tools: Collection[str]) -> tuple[Job, ...]:
    """The jobs of the file at `path`, in file order; raises JobsError."""
    file = path.name
    _, document, issues = read_yaml_file(path, file, kind="jobs", max_bytes=MAX_JOBS_BYTES)
    if document is None or issues:
        raise JobsError(issues)
    issues = located_schema_issues(document, file, _validator(), kind="jobs")
    if issues:
        raise JobsError(issues)
    reader = _Reader(document, file, known_tools)
    jobs = tuple(reader.job(name, body) for name, body in document.value["jobs"].items())  # type: ignore[index]
    if reader.issues:
        raise JobsError(reader.issues)
    return jobs


class _Reader:
    def __init__(self, document: Document, file: str, known_tools: Collection[str]) -> None:
        self._document = document
        self._file = file
        self._known_tools = known_tools
        self.issues: list[PolicyIssue] = []

    def job(self, name: str, body: dict[str, Any]) -> Job:
        at: JsonPath = ("jobs", name)
        trigger = self._trigger(at, body["trigger"])
        timeout_s = parse_duration(body.get("timeout", DEFAULT_TIMEOUT))
        if not 0 < timeout_s <= MAX_TIMEOUT_S:
            self._issue(
                (*at, "timeout"), f"a job's timeout must be more than 0 and at most {MAX_TIMEOUT_S:.0f}s"
            )
        steps: list[Step] = []
        for index, step in enumerate(body["steps"]):
            steps.append(
                self._step((*at, "steps", index), step, steps, webhook=isinstance(trigger, WebhookTrigger))
            )
        return Job(
            name=name,
            trigger=trigger,
            steps=tuple(steps),
            timeout_s=timeout_s,
            max_items=body.get("max_items", DEFAULT_MAX_ITEMS),
            description=body.get("description", ""),
            source=self._source(at, key=True),
        )

    def _trigger(self, at: JsonPath, on: dict[str, Any]) -> WebhookTrigger | ScheduleTrigger:
        if "schedule" in on:
            schedule = on["schedule"]
            try:
                CronSchedule.parse(schedule["cron"])
            except ValueError as exc:
                self._issue((*at, "trigger", "schedule", "cron"), f"invalid cron schedule: {exc}")
            self._check_globs((*at, "trigger", "schedule", "repositories"), schedule.get("repositories", ()))
            return ScheduleTrigger(
                cron=schedule["cron"],
                missed=schedule.get("missed", "skip"),
                jitter_s=parse_duration(schedule.get("jitter", "0s")),
                repositories=tuple(schedule.get("repositories", ())),
            )
        hook = on["webhook"]
        for name in _GLOB_FILTERS:
            self._check_globs((*at, "trigger", "webhook", name), hook.get(name, ()))
        return WebhookTrigger(
            events=tuple(hook["events"]),
            **{name: tuple(hook[name]) for name in ("actions", *_GLOB_FILTERS, "labels") if name in hook},
        )

    def _check_globs(self, at: JsonPath, globs: list[str]) -> None:
        for index, glob in enumerate(globs):
            try:
                glob_to_regex(glob)
            except ValueError as exc:
                self._issue((*at, index), f"invalid glob {glob!r}: {exc}")

    def _step(self, at: JsonPath, body: dict[str, Any], earlier: list[Step], *, webhook: bool) -> Step:
        name = body["name"]
        if any(step.name == name for step in earlier):
            self._issue((*at, "name"), f"step name {name!r} is used twice in this job")
        if body["tool"] not in self._known_tools:
            self._issue((*at, "tool"), f"unknown tool {body['tool']!r}")
        tests = tuple(self._test(test) for test in body.get("when", ()))
        for_each = body.get("for_each")
        scope = _Scope(webhook=webhook, earlier={step.name for step in earlier}, item=False)
        if for_each is not None:
            self._check_template((*at, "for_each"), for_each, scope)
        scope = scope.with_item(for_each is not None)
        for index, test in enumerate(body.get("when", ())):
            self._check_template((*at, "when", index), test, scope)
        self._check_template((*at, "args"), body["args"], scope)
        return Step(
            name=name,
            tool=body["tool"],
            args=body["args"],
            for_each=for_each,
            when=tests,
            source=self._source(at, key=False),
        )

    def _test(self, body: dict[str, Any]) -> Condition:
        [(operator, operand)] = [(key, value) for key, value in body.items() if key != "value"]
        return Condition(value=body["value"], operator=operator, operand=operand)

    def _check_template(self, at: JsonPath, value: Any, scope: _Scope) -> None:
        for problem in reference_issues(value):
            self._issue(at, problem)
        for path in references(value):
            out_of_scope = scope.problem(path)
            if out_of_scope:
                self._issue(at, out_of_scope)

    def _issue(self, at: JsonPath, message: str) -> None:
        line, column = self._document.value_at(at)
        self.issues.append(PolicyIssue(self._file, line, column, message))

    def _source(self, at: JsonPath, *, key: bool) -> str:
        line, _ = self._document.key_at(at) if key else self._document.value_at(at)
        return f"{self._file}:{line}"


class _Scope:
    """What a template may name at its place in a job."""

    def __init__(self, *, webhook: bool, earlier: set[str], item: bool) -> None:
        self._webhook = webhook
        self._earlier = earlier
        self._item = item

    def with_item(self, item: bool) -> _Scope:
        return _Scope(webhook=self._webhook, earlier=self._earlier, item=item)

    def problem(self, path: tuple[str, ...]) -> str | None:
        reference = ".".join(path)
        root = path[0]
        if root == "event" and not self._webhook:
            return f"{{{{ {reference} }}}}: a scheduled job has no event"
        if root == "item" and not self._item:
            return (
                f"{{{{ {reference} }}}}: 'item' exists only in the arguments and when of a step with for_each"
            )
        if root == "steps" and (len(path) < 2 or path[1] not in self._earlier):
            named = path[1] if len(path) > 1 else ""
            return f"{{{{ {reference} }}}}: {named!r} is not an earlier step of this job"
        return None
