"""The execution core: one tools/call becomes validate -> normalize -> decide -> execute -> audit.

Every call leaves exactly one audit entry, whatever its outcome. A call runs only while the log can be
written, and a write is preceded by its `write_intent` entry: when that cannot be written, nothing is
sent to Gitea. A read whose entry cannot be written fails instead of returning a result that left no
trace; a write that has run answers with its result, and its outcome is held until the log recovers.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import hashlib
import logging
import time
from collections.abc import Mapping
from typing import Any, Protocol

from gateway.audit import ARGS, AUTOMATION, DECISION_INPUT, INTENT_SEQ, AuditLog, Entry, canonical_json
from gateway.core.audit_args import audited_arguments
from gateway.core.decision_input import call_input, context_input
from gateway.core.normalize import normalize_call
from gateway.core.request_state import HeldCall, RequestStates
from gateway.core.results import OutputBounds, Presented, denied_result, error_result, present, secret_mode
from gateway.core.shown import ResultPaths, ResultRepos, ShownDecider
from gateway.core.writes import Admission, WriteGate, arguments_digest
from gateway.errors import (
    AuditEntryError,
    AuditWriteError,
    FileTooLarge,
    InvalidRequestState,
    InvalidToolCall,
    MalformedToolCall,
    ServiceUnavailable,
    UpstreamError,
)
from gateway.gitea import GiteaClient
from gateway.observability.metrics import Metrics
from gateway.opa import Decision, Reason, ResultUndecided
from gateway.sanitize import scan_size
from gateway.state import Approval
from gateway.tools import BoundTool, Tool, ToolCall, ToolRegistry
from gateway.vocabulary import CallContext, HeldForApproval, Principal, Resource

MAX_AUDITED_NAME = 128
# Gitea's answers to a request it refused before its handler ran: authentication and token scope.
TURNED_AWAY = frozenset({401, 403})
NOT_EXECUTED = "the audit log cannot be written, so the call was not executed; retry later"
RESULT_WITHHELD = "the audit log could not record this read, so its result is withheld; retry later"
OFFLOAD_SANITIZE_BYTES = 64 << 10
STATE_REFUSED = Reason(rule="mcp.request_state", effect="deny", source="gateway")
FILE_TOO_LARGE = Reason(rule="output.max_file_bytes", effect="deny", source="gateway")
log = logging.getLogger(__name__)


@dataclasses.dataclass
class _Trace:
    """What the audit entry of one call will say; filled in as the call goes."""

    tool: str
    args_sha256: str
    outcome: str = "error"
    resource: Resource = dataclasses.field(default_factory=Resource)
    decision: Decision | None = None
    presented: Presented | None = None
    approval: dict[str, Any] | None = None
    write: dict[str, Any] | None = None
    intent_seq: int | None = None  # of the write_intent entry, once the write is about to be sent
    executed: bool = False  # the tool ran against Gitea
    refused_by: Reason | None = None  # the transport's reason for refusing a call it never passed on
    targets: tuple[Tool, Mapping[str, Any]] | None = None  # the tool and its normalized arguments, once valid
    decided_on: Mapping[str, Any] | None = None  # the OPA input of `decision`, recorded for replay


class Decider(ShownDecider, Protocol):
    """Where the core gets decisions: a managed or a sidecar source; a managed one may swap OPAs between
    two calls."""

    async def decide(self, opa_input: Mapping[str, Any]) -> Decision: ...

    async def visible_tools(self, opa_input: Mapping[str, Any]) -> frozenset[str]: ...


class ToolService:
    """Implements the MCP layer's ToolHandler on top of OPA, Gitea and the audit log."""

    def __init__(
        self,
        *,
        registry: ToolRegistry,
        decisions: Decider,
        gitea: GiteaClient,
        audit: AuditLog,
        metrics: Metrics,
        write_mode: bool,
        output_bounds: OutputBounds,
        writes: WriteGate,
        request_states: RequestStates,
    ) -> None:
        self._registry = registry
        self._decisions = decisions
        self._gitea = gitea
        self._audit = audit
        self._metrics = metrics
        self._write_mode = write_mode
        self._output_bounds = output_bounds
        self._writes = writes
        self._request_states = request_states

    async def list_tools(self, context: CallContext) -> list[dict[str, Any]]:
        principal = _principal(context)
        tools = [{"name": bound.tool.name, "capability": bound.tool.capability} for bound in self._registry]
        visible = await self._decisions.visible_tools(
            {
                "version": 1,
                "principal": principal.as_input(),
                "tools": tools,
                "context": self._context(context),
            }
        )
        return [bound.describe() for bound in self._registry if bound.tool.name in visible]

    async def call_tool(
        self, context: CallContext, name: Any, arguments: Any
    ) -> dict[str, Any] | HeldForApproval:
        started = time.perf_counter()
        trace = _trace_of(name, arguments)
        bound = self._registry.get(name) if isinstance(name, str) else None
        try:
            self._audit.check_usable()
        except AuditWriteError:
            metric_tool = trace.tool if bound else "unknown"
            self._metrics.tool_calls.labels(tool=metric_tool, outcome="unaudited").inc()
            log.critical("audit log unusable; the call is refused before it runs", exc_info=True)
            raise ServiceUnavailable(NOT_EXECUTED) from None
        try:
            result = await self._execute(context, bound, arguments, trace)
        except InvalidRequestState:
            _refuse_state(trace)
            raise
        finally:
            await self._record(context, trace, started, known=bound is not None)
        return result

    async def refuse_call(self, context: CallContext, name: Any, arguments: Any, *, rule: str) -> None:
        trace = _trace_of(name, arguments)
        trace.outcome = "invalid"
        trace.refused_by = Reason(rule=rule, effect="deny", source="transport")
        known = isinstance(name, str) and self._registry.get(name) is not None
        # The request is refused whatever happens; _record counts and logs an audit failure.
        with contextlib.suppress(ServiceUnavailable):
            await self._record(context, trace, time.perf_counter(), known=known)

    async def _execute(
        self, context: CallContext, bound: BoundTool | None, arguments: Any, trace: _Trace
    ) -> dict[str, Any] | HeldForApproval:
        malformed = _malformed_call(trace.tool, arguments)
        if malformed or bound is None:
            trace.outcome = "invalid"
            raise MalformedToolCall(malformed or f"Unknown tool: {trace.tool}")
        try:
            bound.validate(arguments)
            trace.resource, normalized = normalize_call(bound, arguments)
            trace.targets = bound.tool, normalized
            resuming = self._resuming(context, bound, normalized)
        except InvalidToolCall:
            trace.outcome = "invalid"
            raise
        opa_input = trace.decided_on = self._input(context, bound, trace.resource, normalized)
        trace.decision = await self._decide(context, bound, opa_input)
        if resuming is not None and resuming.revision != trace.decision.revision:
            raise InvalidRequestState(
                f"Invalid requestState: issued under bundle revision {resuming.revision}, the policy is now"
                f" {trace.decision.revision}; call again without it"
            )
        if not trace.decision.allow:
            return _denied(trace, trace.decision, context.request_id)
        admission = None
        if bound.tool.capability != "read":
            admission = await self._writes.admit(
                _principal(context),
                bound.tool,
                trace.resource,
                normalized,
                trace.decision,
                context.request_id,
                resuming=resuming.approval_id if resuming else None,
            )
            trace.decision, trace.approval = admission.decision, admission.approval
            if admission.refusal is not None:
                trace.outcome = admission.outcome
                return self._held(admission.held, admission.refusal)
            await self._intend(context, trace, admission)
        revision = trace.decision.revision
        call = ToolCall(
            self._gitea,
            trace.resource,
            normalized,
            paths=ResultPaths(self._decisions, opa_input, revision),
            repos=ResultRepos(self._decisions, opa_input, revision),
            secrets=secret_mode(_output_decision(bound, trace.decision)),
            max_file_bytes=_size_limit(trace.decision),
        )
        try:
            trace.executed = True
            output = await bound.tool.run(call)
        except ResultUndecided as exc:  # nothing of the result may be shown when OPA cannot say what
            return _denied(trace, exc.decision, context.request_id)
        except InvalidToolCall:  # found out only against Gitea's state: an unknown label, a stale sha
            trace.outcome = "invalid"
            await self._give_back(admission, turned_away=False)
            raise
        except FileTooLarge as exc:  # refused from its metadata: nothing of it was read
            too_large = await self._too_large(context, bound, normalized, exc, trace, trace.decision)
            return _denied(trace, too_large, context.request_id, detail=str(exc))
        except UpstreamError as exc:
            log.warning("upstream error", extra={"tool": trace.tool, "kind": exc.kind, "status": exc.status})
            if exc.status is not None and 400 <= exc.status < 500:  # Gitea refused it
                await self._give_back(admission, turned_away=exc.status in TURNED_AWAY)
            return error_result(f"Gitea request failed: {exc.kind.replace('_', ' ')}", context.request_id)
        if admission is not None:
            trace.write = await self._writes.record(output, context.request_id)
        oversized = await self._size_denial(context, bound, normalized, output.content_bytes, trace)
        if oversized is not None:
            return _denied(trace, oversized, context.request_id)
        presenting = functools.partial(
            present,
            output,
            _output_decision(bound, trace.decision),
            bounds=self._output_bounds,
            request_id=context.request_id,
        )
        # Scanning takes CPU time (about 0.4 s per MiB): a large result (a file, or a page of long commit
        # messages, each scanned whole) is sanitized off the event loop.
        large = scan_size(output.structured, output.text) > OFFLOAD_SANITIZE_BYTES
        trace.presented = await asyncio.to_thread(presenting) if large else presenting()
        trace.decision = trace.presented.decision
        trace.outcome = "denied" if trace.presented.withheld else "allowed"
        self._count_output(trace.presented)
        return trace.presented.result

    def _resuming(
        self, context: CallContext, bound: BoundTool, normalized: Mapping[str, Any]
    ) -> HeldCall | None:
        """The held call a retry's requestState names, once it is shown to be this exact call."""
        if context.request_state is None:
            return None
        held = self._request_states.open(context.request_state)
        digest = arguments_digest(normalized)
        if (held.principal, held.tool, held.args_sha256) != (_principal(context).id, bound.tool.name, digest):
            raise InvalidRequestState("Invalid requestState: it was issued for another call or caller")
        return held

    def _held(self, held: Approval | None, refusal: dict[str, Any]) -> dict[str, Any] | HeldForApproval:
        """A refusal as it is, or, for a call held for approval, with the state to retry it with."""
        if held is None:
            return refusal
        state = self._request_states.seal(
            HeldCall(
                approval_id=held.id,
                principal=held.key.principal,
                tool=held.key.tool,
                args_sha256=held.key.args_sha256,
                revision=held.key.revision,
            )
        )
        return HeldForApproval(
            approval_id=held.id, expires=held.as_dict()["expires"], request_state=state, result=refusal
        )

    async def _decide(self, context: CallContext, bound: BoundTool, opa_input: Mapping[str, Any]) -> Decision:
        decision = await self._decisions.decide(opa_input)
        if decision.allow and not _principal(context).may(bound.tool.capability):
            # OPA checks scopes too; a bundle that forgot to must still not let a read key write.
            return Decision.fail_closed("scope_missing", revision=decision.revision)
        return decision

    async def _intend(self, context: CallContext, trace: _Trace, admission: Admission) -> None:
        """Write the intent entry of a write about to be sent; when it cannot be, the write never runs."""
        try:
            intent = await self._audit.append(self._entry(context, trace, 0.0).intent())
        except AuditWriteError:
            await self._writes.withdraw(admission)
            raise
        trace.intent_seq = intent["seq"]

    async def _give_back(self, admission: Admission | None, *, turned_away: bool) -> None:
        """Gitea refused the write: its quota is returned. Its approval is returned too only when Gitea
        turned the request away before any of it could run (`turned_away`: its token may not); other
        refusals can come after part of a write was saved (Gitea's issue edit saves the title before it
        refuses to close an issue with open dependencies), so their approval stays used."""
        if admission is None:
            return
        if turned_away:
            await self._writes.withdraw(admission)
        else:
            await self._writes.give_back(admission)

    def _count_output(self, presented: Presented) -> None:
        for finding in presented.sanitized.findings:
            self._metrics.secrets_found.labels(kind=finding.kind).inc()
        if presented.withheld:
            self._metrics.outputs_withheld.inc()
        if presented.sanitized.truncated:
            self._metrics.outputs_truncated.inc()
        self._metrics.result_items_withheld.inc(presented.withheld_by_policy)

    async def _size_denial(
        self,
        context: CallContext,
        bound: BoundTool,
        arguments: Mapping[str, Any],
        size: int | None,
        trace: _Trace,
    ) -> Decision | None:
        """Enforce the decision's max_file_bytes obligation once the file's size is known: a file over it is
        decided again with its size, so that the denial names the policy line of the limit. Returns the
        denial, or None when the output may be shown."""
        if trace.decision is None or "max_file_bytes" not in trace.decision.obligations:
            return None
        limit = trace.decision.obligations["max_file_bytes"]
        if not isinstance(limit, int) or isinstance(limit, bool):
            return Decision.fail_closed("malformed")
        if size is None or size <= limit:
            return None
        trace.resource = dataclasses.replace(trace.resource, size=size)
        sized = trace.decided_on = self._input(context, bound, trace.resource, arguments)
        decision = await self._decisions.decide(sized)
        if decision.allow:  # OPA contradicts its own obligation: fail closed
            return Decision.fail_closed("obligation_unmet", revision=decision.revision)
        return decision

    async def _too_large(
        self,
        context: CallContext,
        bound: BoundTool,
        arguments: Mapping[str, Any],
        refused: FileTooLarge,
        trace: _Trace,
        allowed: Decision,
    ) -> Decision:
        """The denial of a file a tool refused as too large: the policy's, decided again with the file's
        size, when the file is over the policy's limit; else the gateway's own (`FILE_TOO_LARGE`) beside
        the decision OPA made, which is the one recorded for replay."""
        oversized = await self._size_denial(context, bound, arguments, refused.size, trace)
        if oversized is not None:
            return oversized
        return dataclasses.replace(allowed, allow=False, reasons=(*allowed.reasons, FILE_TOO_LARGE))

    def _input(
        self, context: CallContext, bound: BoundTool, resource: Resource, arguments: Mapping[str, Any]
    ) -> dict[str, Any]:
        return call_input(_principal(context), bound.tool, resource, arguments, self._context(context))

    def _context(self, context: CallContext) -> dict[str, Any]:
        return context_input(context, write_mode=self._write_mode)

    async def _record(self, context: CallContext, trace: _Trace, started: float, *, known: bool) -> None:
        duration = time.perf_counter() - started
        metric_tool = trace.tool if known else "unknown"
        self._metrics.tool_calls.labels(tool=metric_tool, outcome=trace.outcome).inc()
        self._metrics.tool_call_duration.labels(tool=metric_tool).observe(duration)
        entry = self._entry(context, trace, duration).adding(
            output=trace.presented.audit_summary() if trace.presented else None,
            **({"write": trace.write} if trace.write else {}),
            **({INTENT_SEQ: trace.intent_seq} if trace.intent_seq is not None else {}),
        )
        try:
            await self._audit.append(entry)
        except AuditEntryError:
            # A bug of ours, not the call's: a write that ran is still answered (its intent is on record).
            log.critical("a tool call's audit entry has fields the verifier refuses", exc_info=True)
            if trace.intent_seq is None:
                raise
            return
        except AuditWriteError:
            self._metrics.audit_failures.inc()
            if trace.intent_seq is not None:
                # The write has run and its intent is on record: answering with an error would make a
                # retrying agent write twice. Its outcome is written once the log recovers.
                self._audit.hold(entry)
                log.critical("audit write failed; a write's outcome is held until recovery", exc_info=True)
                return
            log.critical("audit write failed; the call is answered with an error", exc_info=True)
            raise ServiceUnavailable(RESULT_WITHHELD if trace.executed else NOT_EXECUTED) from None
        log.info(
            "tool call", extra={"tool": trace.tool, "outcome": trace.outcome, "duration_ms": duration * 1000}
        )

    def _entry(self, context: CallContext, trace: _Trace, duration: float) -> Entry:
        decision = trace.decision
        principal = _principal(context)
        detail: dict[str, Any] = {"approval": trace.approval} if trace.approval else {}
        if context.automation is not None:
            detail[AUTOMATION] = context.automation.as_dict()
        if trace.targets is not None:
            tool, arguments = trace.targets
            detail[ARGS] = audited_arguments(tool, arguments, decision.hash_arguments if decision else None)
        if decision is not None and trace.decided_on is not None:
            # What OPA decided on, but the arguments: no rule reads them, and they may hold contents.
            detail[DECISION_INPUT] = {key: value for key, value in trace.decided_on.items() if key != "args"}
        return Entry(
            event="tool_call",
            outcome=trace.outcome,
            request_id=context.request_id,
            client_request_id=context.client_request_id,
            traceparent=context.traceparent,
            decision_id=decision.decision_id if decision else None,
            bundle_revision=decision.revision if decision else None,
            principal=principal.id,
            credential_id=principal.credential_id,
            tool=trace.tool,
            repo=trace.resource.repo,
            path=trace.resource.path,
            args_sha256=trace.args_sha256,
            reasons=tuple(reason.as_dict() for reason in _reasons(trace)),
            duration_ms=round(duration * 1000, 3),
            detail=detail,
        )


def _size_limit(decision: Decision) -> int | None:
    """The decision's max_file_bytes obligation, when it is a number (a malformed one fails the call later,
    in `_size_denial`)."""
    limit = decision.obligations.get("max_file_bytes")
    return limit if isinstance(limit, int) and not isinstance(limit, bool) else None


def _denied(
    trace: _Trace, decision: Decision, request_id: str, *, detail: str | None = None
) -> dict[str, Any]:
    """The answer to a call a stage denied, its decision recorded as the one the entry gives."""
    trace.decision, trace.outcome = decision, "denied"
    return denied_result(decision, request_id, detail=detail)


def _refuse_state(trace: _Trace) -> None:
    """A retry whose requestState cannot run it: invalid, and the decision (if any) says why."""
    trace.outcome, trace.refused_by = "invalid", STATE_REFUSED
    if trace.decision is not None:
        reasons = (*trace.decision.reasons, STATE_REFUSED)
        trace.decision = dataclasses.replace(trace.decision, allow=False, reasons=reasons)


def _reasons(trace: _Trace) -> tuple[Reason, ...]:
    if trace.decision is not None:
        return trace.decision.reasons
    return (trace.refused_by,) if trace.refused_by is not None else ()


def _output_decision(bound: BoundTool, decision: Decision) -> Decision:
    """A write's result only echoes what the agent sent and what Gitea made of it, and the write has
    happened: secrets in it are masked, never withheld as if it had been denied."""
    if bound.tool.capability == "read":
        return decision
    return dataclasses.replace(decision, obligations={**decision.obligations, "secrets": "mask"})


def _trace_of(name: Any, arguments: Any) -> _Trace:
    return _Trace(
        tool=name[:MAX_AUDITED_NAME] if isinstance(name, str) else "",
        args_sha256=hashlib.sha256(canonical_json(arguments)).hexdigest(),
    )


def _malformed_call(name: str, arguments: Any) -> str | None:
    if not name:
        return 'Invalid params: "name" must be a non-empty string'
    if not isinstance(arguments, dict):
        return 'Invalid params: "arguments" must be an object'
    return None


def _principal(context: CallContext) -> Principal:
    if not isinstance(context.principal, Principal):
        raise RuntimeError("tool call without an authenticated principal")
    return context.principal
