"""What approvers do (list, approve, deny held calls), each decision audited, refused ones included; a
decision the audit log cannot hold is undone."""

from __future__ import annotations

import logging
import time
from typing import Any

from gateway.audit import AuditLog, Entry
from gateway.errors import AuditWriteError, Kind, StateUnavailable
from gateway.state import ApprovalError, ApprovalStore
from gateway.vocabulary import Principal

log = logging.getLogger(__name__)


class Approvers:
    def __init__(self, *, store: ApprovalStore, audit: AuditLog) -> None:
        self._store = store
        self._audit = audit

    async def list(self, *, include_closed: bool) -> list[dict[str, Any]]:
        try:
            approvals = await self._store.list(include_closed=include_closed)
        except StateUnavailable as exc:
            raise ApprovalError(str(exc), Kind.UNAVAILABLE) from exc
        return [approval.as_dict() for approval in approvals]

    async def decide(
        self, approval_id: str, *, approve: bool, approver: Principal, reason: str | None, request_id: str
    ) -> dict[str, Any]:
        """Approve or deny; raises ApprovalError (after auditing the refusal) when it cannot be done."""
        started = time.perf_counter()
        wanted = "approved" if approve else "denied"
        try:
            self._audit.check_usable()
        except AuditWriteError as exc:
            raise ApprovalError(f"{exc}; nothing was decided", Kind.UNAVAILABLE) from exc
        try:
            approval = await self._store.decide(
                approval_id, approve=approve, approver=approver.id, reason=reason
            )
        except StateUnavailable as exc:
            refused = ApprovalError(f"{exc}; nothing was decided", Kind.UNAVAILABLE)
            await self._record(
                {"id": approval_id, "state": wanted, "refused": str(refused)},
                outcome="error",
                approver=approver,
                request_id=request_id,
                started=started,
            )
            raise refused from exc
        except ApprovalError as refused:
            await self._record(
                {"id": approval_id, "state": wanted, "refused": str(refused)},
                outcome="denied",
                approver=approver,
                request_id=request_id,
                started=started,
            )
            raise
        decided = approval.as_dict()
        summary = {
            "id": approval.id,
            "state": approval.state,
            "requested_by": approval.key.principal,
            "args_sha256": approval.key.args_sha256,
            "bundle_revision": approval.key.revision,
            "reason": reason,
        }
        try:
            await self._record(
                summary,
                outcome="allowed",
                approver=approver,
                request_id=request_id,
                started=started,
                tool=approval.key.tool,
                repo=approval.repo,
                path=approval.path,
            )
        except AuditWriteError as exc:
            await self._undo(approval_id)
            raise ApprovalError(
                f"the audit log could not record the decision, so it was undone: {exc}", Kind.INTERNAL
            ) from exc
        return decided

    async def _undo(self, approval_id: str) -> None:
        """A decision the audit log does not hold must not stand."""
        try:
            await self._store.reopen(approval_id)
        except StateUnavailable:
            log.critical(
                "an unaudited approval decision could not be undone", extra={"approval": approval_id}
            )

    async def _record(
        self,
        approval: dict[str, Any],
        *,
        outcome: str,
        approver: Principal,
        request_id: str,
        started: float,
        tool: str | None = None,
        repo: str | None = None,
        path: str | None = None,
    ) -> None:
        await self._audit.append(
            Entry(
                event="approval_decided",
                outcome=outcome,
                request_id=request_id,
                bundle_revision=approval.get("bundle_revision"),
                principal=approver.id,
                credential_id=approver.credential_id,
                tool=tool,
                repo=repo,
                path=path,
                args_sha256=approval.get("args_sha256"),
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                detail={"approval": approval},
            )
        )
