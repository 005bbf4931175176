"""What stands between an allowed write and Gitea: the key's quotas and, when the decision obliges it,
a human approval. Afterwards, what the write made and replaced is recorded.

Order: the size and quota checks come first (nobody is asked to approve a write that could not run),
then the approval; a write held or denied gives its reserved quota back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
from collections.abc import Mapping
from typing import Any

from gateway.audit import canonical_json
from gateway.core.results import denied_result, pending_result
from gateway.errors import InvalidRequestState, StateUnavailable
from gateway.opa import Decision, Reason
from gateway.state import (
    Approval,
    ApprovalKey,
    ApprovalStore,
    QuotaExceeded,
    Reservation,
    SnapshotStore,
    WriteQuotas,
)
from gateway.tools import Tool, ToolOutput
from gateway.vocabulary import Principal, Resource, WriteQuota

APPROVAL_OBLIGATION = "require_approval"
STATE_UNAVAILABLE = Reason(rule="state.unavailable", effect="deny", source="gateway")
log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Admission:
    """The verdict on one write. `refusal` is the result to return instead of running it (with the
    `outcome` and `decision` to audit); otherwise the write runs under `reservation`."""

    decision: Decision
    outcome: str = "allowed"
    refusal: dict[str, Any] | None = None
    approval: dict[str, Any] | None = None
    reservation: Reservation | None = None
    held: Approval | None = None  # the pending approval a held call waits for


class WriteGate:
    def __init__(
        self,
        *,
        approvals: ApprovalStore,
        quotas: WriteQuotas,
        snapshots: SnapshotStore,
        default_quota: WriteQuota,
    ) -> None:
        self._approvals = approvals
        self._quotas = quotas
        self._snapshots = snapshots
        self._default_quota = default_quota

    async def admit(
        self,
        principal: Principal,
        tool: Tool,
        resource: Resource,
        arguments: Mapping[str, Any],
        decision: Decision,
        request_id: str,
        resuming: str | None = None,
    ) -> Admission:
        """Reserve the write against the key's quotas, then pass the approval gate when the decision
        requires one (`resuming`: the approval a retried held call names). A state database that cannot
        answer denies the write."""
        try:
            reservation = await self._quotas.reserve(
                principal.id, principal.write_quota.over(self._default_quota), size=resource.size or 0
            )
        except QuotaExceeded as exceeded:
            reason = Reason(rule=f"quota.{exceeded.limit}", effect="deny", source="gateway")
            return _refused(decision, reason, request_id, detail=str(exceeded))
        except StateUnavailable:
            log.error("state database failed; the write is denied", exc_info=True)
            return _refused(decision, STATE_UNAVAILABLE, request_id)
        if APPROVAL_OBLIGATION not in decision.obligations:
            return Admission(decision, reservation=reservation)
        key = ApprovalKey(
            tool=tool.name,
            args_sha256=hashlib.sha256(canonical_json(dict(arguments))).hexdigest(),
            principal=principal.id,
            revision=decision.revision or "",
        )
        try:
            approval, outcome = await self._approvals.gate(
                key,
                repo=resource.repo,
                path=resource.path,
                arguments=arguments,
                request_id=request_id,
                resuming=resuming,
            )
        except InvalidRequestState:
            await self.give_back(Admission(decision, reservation=reservation))
            raise
        except StateUnavailable:
            log.error("state database failed; the write is denied", exc_info=True)
            await self.give_back(Admission(decision, reservation=reservation))
            return _refused(decision, STATE_UNAVAILABLE, request_id)
        if outcome == "run":
            return Admission(decision, approval=approval.summary(), reservation=reservation)
        await self.give_back(Admission(decision, reservation=reservation))
        if outcome == "pending":
            pending = pending_result(approval.as_dict(), request_id)
            return Admission(decision, "pending", pending, approval.summary(), held=approval)
        reason = Reason(rule="approval.denied", effect="deny", source=f"approver:{approval.decided_by}")
        detail = f"approval {approval.id} was denied" + (f": {approval.reason}" if approval.reason else "")
        return _refused(decision, reason, request_id, detail=detail, approval=approval.summary())

    async def give_back(self, admission: Admission) -> None:
        """The write did not happen (Gitea refused it): its quota is returned."""
        if admission.reservation is None:
            return
        try:
            await self._quotas.refund(admission.reservation)
        except StateUnavailable:  # the write is refused anyway; a quota not given back errs on the safe side
            log.error("state database failed; a refused write's quota was not given back", exc_info=True)

    async def withdraw(self, admission: Admission) -> None:
        """The write did not happen (it was never sent, or Gitea refused it): its quota is returned, and
        the approval it would have used stays approved for the retry."""
        await self.give_back(admission)
        if admission.approval is None:
            return
        try:
            await self._approvals.unuse(admission.approval["id"])
        except StateUnavailable:
            log.error("state database failed; an unsent write's approval stays used", exc_info=True)

    async def record(self, output: ToolOutput, request_id: str) -> dict[str, Any]:
        """The audit entry's `write` member: what Gitea made, and the snapshot kept for rollback. The write
        has happened, so a snapshot that cannot be saved is recorded as missing, never as a failed call."""
        written: dict[str, Any] = {"upstream": output.upstream or {}, "snapshot": None}
        if output.snapshot is None:
            return written
        try:
            written["snapshot"] = await self._snapshots.save(output.snapshot, request_id=request_id)
        except StateUnavailable as exc:
            log.critical(
                "the snapshot of a file write was not saved; it cannot be rolled back", exc_info=True
            )
            written["snapshot_error"] = f"not saved: {type(exc).__name__}"
        return written


def _refused(
    decision: Decision,
    reason: Reason,
    request_id: str,
    *,
    detail: str | None = None,
    approval: dict[str, Any] | None = None,
) -> Admission:
    """A write denied after OPA allowed it: the decision gains the reason, and the result says why."""
    denied = dataclasses.replace(decision, allow=False, reasons=(*decision.reasons, reason))
    return Admission(denied, "denied", denied_result(denied, request_id, detail=detail), approval)
