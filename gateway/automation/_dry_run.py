"""`aegis jobs run NAME --event FILE`: what each step of a job would be, and what the policy would decide,
without running anything.

Each step's arguments are rendered from the event, validated and normalized as the core would, and the
OPA input the core would send is decided by the policy's own bundle through the pinned `opa` binary, all
steps in one evaluation. Nothing reaches Gitea, so a step whose `for_each`, condition or arguments need an
earlier step's result is shown as such, not guessed; its decision is still shown when its arguments need
no result.
"""

from __future__ import annotations

import dataclasses
import datetime
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from policy_compiler import build_bundle

from gateway.authoring.explain import describe_decision
from gateway.automation._facts import has_shape_of, schedule_facts, webhook_facts
from gateway.automation._model import Job, Step, WebhookTrigger
from gateway.automation._runner import principal_of, run_scope, scheduled_run, webhook_run
from gateway.automation._template import TemplateError, references, render
from gateway.core.decision_input import call_input, context_input
from gateway.core.normalize import normalize_call
from gateway.errors import InvalidToolCall
from gateway.opa._eval import evaluate_decisions
from gateway.tools import ToolRegistry
from gateway.vocabulary import AutomationRun, CallContext

DRY_RUN_DELIVERY = DRY_RUN_ID = "dry-run"


@dataclasses.dataclass
class _Planned:
    step: Step
    notes: list[str]
    arguments: Any = None
    opa_input: dict[str, Any] | None = None


def dry_run(
    job: Job,
    *,
    event: Mapping[str, Any] | None,
    event_type: str | None,
    policy: Path,
    registry: ToolRegistry,
    write_mode: bool,
    opa_bin: str,
    repository: Mapping[str, Any] | None = None,
) -> str:
    """The report of a dry run of `job` against the webhook payload `event` of `event_type` (None for a
    scheduled job; `repository`, as list_repositories shows one, for a job that runs per repository)."""
    now = datetime.datetime.now(datetime.UTC)
    at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    if event is not None and event_type is not None:
        facts = webhook_facts(event_type, event, delivery=DRY_RUN_DELIVERY)
        run = webhook_run(job, facts, run_id=DRY_RUN_ID)
        matched = isinstance(job.trigger, WebhookTrigger) and job.trigger.matches(facts)
        verdict = "matches" if matched else "does NOT match"
        if not has_shape_of(event_type, event):
            verdict = (
                f"does NOT match: the payload is not that of an {event_type!r} event, so no job would run"
            )
        header = f"job {job.name} ({job.source}), {event_type} event: the trigger {verdict}"
    else:
        facts = schedule_facts(at, repository)
        run = scheduled_run(job, facts, run_id=DRY_RUN_ID)
        header = f"job {job.name} ({job.source}), schedule slot {at}"
        if repository is not None:
            header += f", repository {facts.get('repository')}"
    scope = run_scope(job, run, facts, event, now)
    planned = [_plan(job, step, scope, run, registry, write_mode, now) for step in job.steps]
    inputs = [plan.opa_input for plan in planned if plan.opa_input is not None]
    with tempfile.TemporaryDirectory(prefix="aegis-dry-run-") as tmp:
        bundle = build_bundle(policy, Path(tmp) / "bundle.tar.gz")
        decisions = iter(evaluate_decisions(opa_bin, bundle.path, inputs) if inputs else [])
    out = [header, f"WRITE_MODE {'on' if write_mode else 'off'}; nothing is executed"]
    for number, plan in enumerate(planned, 1):
        out.append(f"step {number}: {plan.step.name}  tool {plan.step.tool}  ({plan.step.source})")
        out.extend(f"  {note}" for note in plan.notes)
        if plan.opa_input is not None:
            out.extend(f"  {line}" for line in describe_decision(next(decisions), policy, bundle.revision))
    return "\n".join(out)


def _plan(
    job: Job,
    step: Step,
    scope: Mapping[str, Any],
    run: AutomationRun,
    registry: ToolRegistry,
    write_mode: bool,
    now: datetime.datetime,
) -> _Planned:
    plan = _Planned(step, [])
    needs = sorted({path[1] for path in _step_references(step) if path[0] == "steps" and len(path) > 1})
    if needs:
        plan.notes.append(f"uses the result of step(s) {', '.join(needs)}, which a dry run does not run")
    if step.for_each is not None:
        try:
            items = render(step.for_each, scope)
        except TemplateError:
            plan.notes.append("for_each: not known before the run")
            return plan
        if not isinstance(items, list) or not items:
            plan.notes.append("for_each: no elements, so the step would not run")
            return plan
        plan.notes.append(f"for_each: {len(items)} element(s); the first is shown")
        scope = {**scope, "item": items[0]}
    if not needs:
        held = all(test.holds(scope, now) for test in step.when)
        if step.when:
            plan.notes.append(f"when: {'holds' if held else 'does not hold: the step would be skipped'}")
    try:
        plan.arguments = render(step.args, scope)
    except TemplateError as exc:
        plan.notes.append(f"arguments: {exc}")
        return plan
    plan.notes.append(f"arguments: {plan.arguments}")
    bound = registry.get(step.tool)
    if bound is None:
        plan.notes.append(f"unknown tool {step.tool!r}")
        return plan
    try:
        bound.validate(plan.arguments)
        resource, normalized = normalize_call(bound, plan.arguments)
    except InvalidToolCall as exc:
        plan.notes.append(f"invalid arguments: {exc}")
        return plan
    context = CallContext(
        principal=principal_of(job),
        request_id=DRY_RUN_ID,
        client_ip=None,
        automation=dataclasses.replace(run, step=step.name),
    )
    plan.opa_input = call_input(
        principal_of(job), bound.tool, resource, normalized, context_input(context, write_mode=write_mode)
    )
    return plan


def _step_references(step: Step) -> list[tuple[str, ...]]:
    values: list[Any] = [
        step.args,
        *(test.value for test in step.when),
        *(test.operand for test in step.when),
    ]
    if step.for_each is not None:
        values.append(step.for_each)
    return [path for value in values for path in references(value)]
