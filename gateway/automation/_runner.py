"""Runs jobs: each step is a tool call through the core, as the principal `automation:<job>`.

Nothing a job does bypasses what an agent's call passes: the core validates the arguments, asks OPA
(which for an automation principal also needs the `automation` grant), gates writes by WRITE_MODE, the
whitelist, quotas and approvals, sanitizes the result and writes the call's audit entry, which names the
run (job, trigger, delivery or slot, step). A run stops at its first step that is not carried out
(denied, held for approval, invalid, failed), since later steps may rely on it, and leaves one
`automation_run` entry with the outcome of each step. Steps see earlier results only as the core
returned them: sanitized, secrets masked.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime
import logging
import random
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from gateway.audit import AUTOMATION, AuditLog, Entry
from gateway.automation._events import Delivery
from gateway.automation._facts import has_shape_of, schedule_facts, webhook_facts
from gateway.automation._model import Job, ScheduleTrigger, Step, WebhookTrigger
from gateway.automation._template import TemplateError, render
from gateway.errors import AuditEntryError, AuditWriteError, InvalidToolCall, ServiceUnavailable
from gateway.observability.metrics import Metrics
from gateway.observability.request_id import current_request_id
from gateway.vocabulary import AutomationRun, CallContext, HeldForApproval, Principal

AUTOMATION_SCOPES = ("tools:read", "tools:write", "tools:automation")
# A run's outcome from the first step that was not carried out.
RUN_OUTCOME = {"denied": "denied", "held": "held", "timeout": "timeout"}
LISTING_STEP = "repositories"  # the implicit step of a job that runs per repository
LISTING_PAGE, MAX_LISTING_PAGES = 50, 20
log = logging.getLogger(__name__)


class ToolCaller(Protocol):
    async def call_tool(
        self, context: CallContext, name: Any, arguments: Any
    ) -> dict[str, Any] | HeldForApproval: ...


@dataclasses.dataclass
class StepRecord:
    """What one step did: each call's request id and outcome, the elements its condition skipped, and
    the elements past `max_items` it never ran."""

    step: str
    outcome: str = "skipped"
    calls: list[dict[str, str]] = dataclasses.field(default_factory=list)
    skipped: int = 0
    not_run: int = 0
    error: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in dataclasses.asdict(self).items() if value not in (None, 0, [])}


@dataclasses.dataclass(frozen=True)
class RunReport:
    run: AutomationRun
    outcome: str
    steps: tuple[StepRecord, ...]


def principal_of(job: Job) -> Principal:
    """The job's principal: all tool scopes, since its grants are the policy's (`automation:<job>` under
    `principals`, `defaults.automation`), not a credential's."""
    return Principal(id=job.principal, kind="automation", scopes=AUTOMATION_SCOPES)


class JobRunner:
    def __init__(self, jobs: Sequence[Job], *, tools: ToolCaller, audit: AuditLog, metrics: Metrics) -> None:
        self._jobs = {job.name: job for job in jobs}
        self._tools = tools
        self._audit = audit
        self._metrics = metrics

    async def handle(self, delivery: Delivery) -> None:
        """The receiver's handler (`DeliveryHandler`)."""
        await self.on_delivery(delivery)

    @property
    def scheduled(self) -> list[Job]:
        return [job for job in self._jobs.values() if isinstance(job.trigger, ScheduleTrigger)]

    async def on_delivery(self, delivery: Delivery) -> list[RunReport]:
        """Run, one after the other, every webhook job whose trigger the delivery matches. The event
        header is not signed: a payload without the shape of its event runs nothing."""
        event, payload, delivery_id = delivery.event, delivery.payload, delivery.id
        if not has_shape_of(event, payload):
            log.warning("a webhook payload without the shape of its event", extra={"gitea_event": event})
            self._metrics.automation_runs.labels(job="", outcome="mismatched_event").inc()
            return []
        facts = webhook_facts(event, payload, delivery=delivery_id)
        reports = []
        for job in self._jobs.values():
            if isinstance(job.trigger, WebhookTrigger) and job.trigger.matches(facts):
                run = webhook_run(job, facts, run_id=uuid.uuid4().hex)
                reports.append(await self.run(job, run, facts=facts, event=payload))
        return reports

    async def on_slot(self, job_name: str, slot: datetime.datetime) -> list[RunReport]:
        """Run a scheduled job for its slot: once, or once per repository it covers, all within the
        job's timeout. The repositories go in a random order, so that a slot its timeout cuts short
        does not leave out the same ones every time."""
        job = self._jobs[job_name]
        trigger = job.trigger
        at = slot.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        deadline = time.monotonic() + job.timeout_s
        if not isinstance(trigger, ScheduleTrigger) or not trigger.repositories:
            facts = schedule_facts(at)
            return [await self.run(job, _scheduled(job, facts), facts=facts, event=None)]
        listing = _scheduled(job, schedule_facts(at))
        started, record = time.monotonic(), StepRecord(step=LISTING_STEP)
        reports: list[RunReport] = []
        cancelled = False
        try:
            repositories = await self._list_repositories(job, listing, record, deadline)
            covered = [repo for repo in repositories if trigger.covers(str(repo.get("full_name")).lower())]
            random.shuffle(covered)
            for position, repository in enumerate(covered):
                if time.monotonic() > deadline:
                    record.not_run = len(covered) - position  # counted in the listing's own entry
                    break
                facts = schedule_facts(at, repository)
                run = _scheduled(job, facts)
                reports.append(await self.run(job, run, facts=facts, event=None, deadline=deadline))
        except asyncio.CancelledError:
            cancelled = True
            raise
        finally:
            if cancelled:
                outcome = "cancelled"
            elif record.not_run:
                outcome = "timeout"
            else:
                outcome = "completed" if record.outcome == "allowed" else _run_outcome(record.outcome)
            summary = RunReport(run=listing, outcome=outcome, steps=(record,))
            await asyncio.shield(self._record(job, summary, time.monotonic() - started))
        return [summary, *reports]

    async def _list_repositories(
        self, job: Job, run: AutomationRun, record: StepRecord, deadline: float
    ) -> list[Mapping[str, Any]]:
        """The repositories the job's own `list_repositories` calls show (the policy filters them as it
        would an agent's), page by page, up to MAX_LISTING_PAGES; none unless every page was allowed."""
        found: list[Mapping[str, Any]] = []
        for page in range(1, MAX_LISTING_PAGES + 1):
            if time.monotonic() > deadline:
                record.outcome, record.error = "timeout", "the job's timeout passed"
                return []
            step = Step(
                name=LISTING_STEP,
                tool="list_repositories",
                args={"limit": LISTING_PAGE, "page": page},
                source=job.source,
            )
            record.outcome, result = await self._call(
                job, dataclasses.replace(run, step=LISTING_STEP), step, {}, record
            )
            shown = result.get("repositories") if isinstance(result, Mapping) else None
            if record.outcome != "allowed" or not isinstance(shown, list):
                return []
            found.extend(item for item in shown if isinstance(item, Mapping))
            if len(shown) < LISTING_PAGE:
                break
        return found

    async def run(
        self,
        job: Job,
        run: AutomationRun,
        *,
        facts: Mapping[str, Any],
        event: Mapping[str, Any] | None,
        deadline: float | None = None,
    ) -> RunReport:
        """Run the job's steps; no step starts after `deadline` (time.monotonic(); the job's timeout
        from now by default). The run's entry is written whatever happens, a cancel included."""
        started = time.monotonic()
        deadline = started + job.timeout_s if deadline is None else deadline
        now = datetime.datetime.now(datetime.UTC)
        scope = run_scope(job, run, facts, event, now)
        records: list[StepRecord] = []
        outcome = "failed"
        try:
            outcome = await self._steps(job, run, scope, now, records, deadline)
        except asyncio.CancelledError:  # the scheduler's hard timeout, or the gateway stopping
            outcome = "cancelled"
            raise
        except Exception:  # a bug of ours: the run stops, and says so
            log.exception("automation run failed", extra={"job": job.name, "run_id": run.run_id})
        finally:
            report = RunReport(run=run, outcome=outcome, steps=tuple(records))
            await asyncio.shield(self._record(job, report, time.monotonic() - started))
        return report

    async def _steps(
        self,
        job: Job,
        run: AutomationRun,
        scope: dict[str, Any],
        now: datetime.datetime,
        records: list[StepRecord],
        deadline: float,
    ) -> str:
        """Run the steps in order until one is not carried out; the run's outcome."""
        for step in job.steps:
            if time.monotonic() > deadline:
                return "timeout"
            record = StepRecord(step=step.name)
            records.append(record)
            await self._step(
                job, dataclasses.replace(run, step=step.name), step, scope, now, record, deadline
            )
            self._metrics.automation_steps.labels(job=job.name, outcome=record.outcome).inc()
            if record.outcome not in ("allowed", "skipped"):
                return _run_outcome(record.outcome)
        return "completed"

    async def _step(
        self,
        job: Job,
        run: AutomationRun,
        step: Step,
        scope: dict[str, Any],
        now: datetime.datetime,
        record: StepRecord,
        deadline: float,
    ) -> None:
        """Run `step` once, or once per element of its `for_each`, filling in `record` and the step's
        results for later steps (`steps.<name>.result`: a list for a step with for_each)."""
        try:
            items = _elements(step, scope)
        except TemplateError as exc:
            record.outcome, record.error = "invalid", str(exc)
            return
        results: list[Any] = []
        record.not_run = max(0, len(items) - job.max_items)
        for item in items[: job.max_items]:
            if time.monotonic() > deadline:
                record.outcome, record.error = "timeout", "the job's timeout passed"
                break
            local = {**scope, "item": item} if step.for_each is not None else scope
            if not all(test.holds(local, now) for test in step.when):
                record.skipped += 1
                continue
            outcome, result = await self._call(job, run, step, local, record)
            results.append(result)
            record.outcome = outcome
            if outcome != "allowed":
                break
        scope["steps"][step.name] = {
            "result": results if step.for_each is not None else (results[0] if results else None),
            "outcome": record.outcome,
        }

    async def _call(
        self, job: Job, run: AutomationRun, step: Step, scope: Mapping[str, Any], record: StepRecord
    ) -> tuple[str, Any]:
        try:
            arguments = render(step.args, scope)
        except TemplateError as exc:
            record.error = str(exc)
            return "invalid", None
        request_id = uuid.uuid4().hex
        context = CallContext(
            principal=principal_of(job), request_id=request_id, client_ip=None, automation=run
        )
        token = current_request_id.set(request_id)
        try:
            answer = await self._tools.call_tool(context, step.tool, arguments)
        except InvalidToolCall as exc:
            outcome, result, record.error = "invalid", None, str(exc)
        except ServiceUnavailable as exc:
            outcome, result, record.error = "unavailable", None, str(exc)
        except Exception:  # a bug of ours: the run stops, and says so
            log.exception("automation step failed", extra={"job": job.name, "step": step.name})
            outcome, result, record.error = "error", None, "internal error"
        else:
            outcome, result = _outcome(answer)
        finally:
            current_request_id.reset(token)
        record.calls.append({"request_id": request_id, "outcome": outcome})
        return outcome, result

    async def _record(self, job: Job, report: RunReport, duration: float) -> None:
        self._metrics.automation_runs.labels(job=job.name, outcome=report.outcome).inc()
        detail = {**report.run.as_dict(), "steps": [record.as_dict() for record in report.steps]}
        detail.pop("step")
        entry = Entry(
            event="automation_run",
            outcome=report.outcome,
            request_id=report.run.run_id,
            principal=job.principal,
            duration_ms=round(duration * 1000, 3),
            detail={AUTOMATION: detail},
        )
        try:
            await self._audit.append(entry)
        except (AuditWriteError, AuditEntryError):
            # Each step's call has its own entry (or was refused for want of one); the run's summary is
            # lost, and that is counted and logged, never silent.
            self._metrics.audit_failures.inc()
            log.critical("an automation run's audit entry could not be written", exc_info=True)
        log.info(
            "automation run",
            extra={
                "job": job.name,
                "outcome": report.outcome,
                "run_id": report.run.run_id,
                "duration_ms": duration * 1000,
            },
        )


def _run_outcome(step_outcome: str) -> str:
    """A run's outcome from that of its first step not carried out: invalid, error, unavailable fail it."""
    return RUN_OUTCOME.get(step_outcome, "failed")


def webhook_run(job: Job, facts: Mapping[str, Any], *, run_id: str) -> AutomationRun:
    """The run of `job` a delivery's trigger facts start."""
    return AutomationRun(
        job=job.name,
        trigger="webhook",
        event=facts["event"],
        delivery=facts["delivery"],
        repository=facts["repository"],
        run_id=run_id,
    )


def scheduled_run(job: Job, facts: Mapping[str, Any], *, run_id: str) -> AutomationRun:
    """The run of `job` a slot's trigger facts start (for one repository, or none)."""
    return AutomationRun(
        job=job.name,
        trigger="schedule",
        slot=facts["slot"],
        repository=facts.get("repository"),
        run_id=run_id,
    )


def run_scope(
    job: Job,
    run: AutomationRun,
    facts: Mapping[str, Any],
    event: Mapping[str, Any] | None,
    now: datetime.datetime,
) -> dict[str, Any]:
    """What a run's templates may name: the trigger, the event (a webhook's), the job, the run, and the
    results of its steps as they come."""
    scope: dict[str, Any] = {
        "trigger": dict(facts),
        "steps": {},
        "job": {"name": job.name},
        "run": {"id": run.run_id, "time": now.strftime("%Y-%m-%dT%H:%M:%SZ")},
    }
    if event is not None:
        scope["event"] = event
    return scope


def _scheduled(job: Job, facts: Mapping[str, Any]) -> AutomationRun:
    return scheduled_run(job, facts, run_id=uuid.uuid4().hex)


def _elements(step: Step, scope: Mapping[str, Any]) -> list[Any]:
    if step.for_each is None:
        return [None]
    items = render(step.for_each, scope)
    if not isinstance(items, list):
        raise TemplateError(f"for_each {step.for_each!r} is {type(items).__name__}, not a list")
    return items


def _outcome(answer: dict[str, Any] | HeldForApproval) -> tuple[str, Any]:
    """A step's outcome from the core's answer, and what later steps see of it (structuredContent)."""
    if isinstance(answer, HeldForApproval):
        return "held", answer.result.get("structuredContent")
    structured = answer.get("structuredContent")
    if not answer.get("isError"):
        return "allowed", structured
    facts = structured if isinstance(structured, Mapping) else {}
    if facts.get("pending_approval"):
        return "held", structured
    if facts.get("denied"):
        return "denied", structured
    return "error", structured
