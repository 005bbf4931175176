"""Human approvals of held calls.

An approval is bound to one exact call: the tool, the SHA-256 of its normalized arguments, the
principal and the bundle revision that asked for it. It expires, and it lets the call run once.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any, Literal

from gateway.errors import InvalidRequestState, Kind, Refused
from gateway.state._database import Database, Row, Transaction

ApprovalState = Literal["pending", "approved", "denied", "used", "expired"]
GateOutcome = Literal["run", "pending", "denied"]
_LIST_LIMIT = 500


class ApprovalError(Refused):
    """An approver's request that cannot be carried out."""


@dataclasses.dataclass(frozen=True)
class ApprovalKey:
    tool: str
    args_sha256: str
    principal: str
    revision: str


@dataclasses.dataclass(frozen=True)
class Approval:
    id: str
    key: ApprovalKey
    repo: str | None
    path: str | None
    arguments: dict[str, Any]
    request_id: str
    state: ApprovalState
    created: float
    expires: float
    decided_by: str | None = None
    decided_at: float | None = None
    reason: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """What an approver sees: the whole call, so that they know what they approve."""
        return {
            "id": self.id,
            "state": self.state,
            "tool": self.key.tool,
            "repo": self.repo,
            "path": self.path,
            "arguments": self.arguments,
            "args_sha256": self.key.args_sha256,
            "principal": self.key.principal,
            "bundle_revision": self.key.revision,
            "request_id": self.request_id,
            "created": _iso(self.created),
            "expires": _iso(self.expires),
            "decided_by": self.decided_by,
            "decided_at": None if self.decided_at is None else _iso(self.decided_at),
            "reason": self.reason,
        }

    def summary(self) -> dict[str, Any]:
        """For the audit entry of the call."""
        return {"id": self.id, "state": self.state, "decided_by": self.decided_by}


class ApprovalStore:
    """Example:
    store = ApprovalStore(db, ttl_s=3600)
    approval, outcome = await store.gate(key, repo="acme/app", path=None, arguments=args, request_id=rid)
    await store.decide(approval.id, approve=True, approver="alice")
    """

    def __init__(self, db: Database, *, ttl_s: float, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._ttl_s = ttl_s
        self._clock = clock

    async def gate(
        self,
        key: ApprovalKey,
        *,
        repo: str | None,
        path: str | None,
        arguments: Mapping[str, Any],
        request_id: str,
        resuming: str | None = None,
    ) -> tuple[Approval, GateOutcome]:
        """What to do with a call that needs approval: run it (consuming its approval), report it denied,
        or report it pending (asking for an approval when none is open for this exact call). A call
        `resuming` a held one names its approval: only that one, asked for this exact call, can run it,
        and once it is used, expired or unknown the call is refused (InvalidRequestState)."""
        async with self._db.transaction() as tx:
            # Replicas gating the same call take turns: one consumes the approval, or asks for one.
            await tx.lock(f"approval:{key.tool}:{key.args_sha256}:{key.principal}:{key.revision}")
            now = self._clock()  # after the wait for the lock: an approval expired meanwhile runs nothing
            if resuming is not None:
                row = await tx.fetchone(
                    "SELECT * FROM approvals"
                    " WHERE id = ? AND tool = ? AND args_sha256 = ? AND principal = ? AND revision = ?",
                    (resuming, key.tool, key.args_sha256, key.principal, key.revision),
                )
                if row is None:
                    raise InvalidRequestState(
                        "Invalid requestState: it names an approval of another call or bundle revision"
                    )
                _check_resumable(_approval(row, now))
            else:
                row = await tx.fetchone(
                    "SELECT * FROM approvals"
                    " WHERE tool = ? AND args_sha256 = ? AND principal = ? AND revision = ?"
                    " AND state IN ('pending', 'approved', 'denied') AND expires > ?"
                    " ORDER BY created DESC LIMIT 1",
                    (key.tool, key.args_sha256, key.principal, key.revision, now),
                )
            if row is not None and row["state"] == "approved":
                used = await tx.execute(
                    "UPDATE approvals SET state = 'used', used_at = ? WHERE id = ? AND state = 'approved'",
                    (now, row["id"]),
                )
                if used == 1:  # a conditional update: only one run can ever consume it
                    return _approval(row, now), "run"
                if resuming is not None:
                    _check_resumable(dataclasses.replace(_approval(row, now), state="used"))
                row = None
            if row is not None:
                approval = _approval(row, now)
                return approval, "denied" if approval.state == "denied" else "pending"
            return await self._ask(tx, key, repo=repo, path=path, arguments=arguments, request_id=request_id)

    async def _ask(
        self,
        tx: Transaction,
        key: ApprovalKey,
        *,
        repo: str | None,
        path: str | None,
        arguments: Mapping[str, Any],
        request_id: str,
    ) -> tuple[Approval, GateOutcome]:
        now = self._clock()
        approval = Approval(
            id=f"apr_{secrets.token_hex(8)}",
            key=key,
            repo=repo,
            path=path,
            arguments=dict(arguments),
            request_id=request_id,
            state="pending",
            created=now,
            expires=now + self._ttl_s,
        )
        await tx.execute(
            "INSERT INTO approvals (id, tool, args_sha256, principal, revision, repo, path, arguments,"
            " request_id, state, created, expires) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
            (
                approval.id,
                key.tool,
                key.args_sha256,
                key.principal,
                key.revision,
                repo,
                path,
                json.dumps(approval.arguments, sort_keys=True, ensure_ascii=False),
                request_id,
                now,
                approval.expires,
            ),
        )
        return approval, "pending"

    async def decide(
        self, approval_id: str, *, approve: bool, approver: str, reason: str | None = None
    ) -> Approval:
        """Approve or deny a pending approval. The principal that asked cannot decide its own call."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone("SELECT * FROM approvals WHERE id = ?", (approval_id,))
            now = self._clock()
            if row is None:
                raise ApprovalError(f"no approval {approval_id!r}", Kind.NOT_FOUND)
            current = _approval(row, now)
            if current.state != "pending":
                raise ApprovalError(f"approval {approval_id} is {current.state}, not pending", Kind.CONFLICT)
            if current.key.principal == approver:
                raise ApprovalError(
                    f"{approver} asked for this call and cannot approve or deny it", Kind.FORBIDDEN
                )
            state: ApprovalState = "approved" if approve else "denied"
            decided = await tx.execute(
                "UPDATE approvals SET state = ?, decided_by = ?, decided_at = ?, reason = ?"
                " WHERE id = ? AND state = 'pending'",
                (state, approver, now, reason, approval_id),
            )
            if decided != 1:  # another approver, on another replica, was first
                raise ApprovalError(f"approval {approval_id} was decided meanwhile", Kind.CONFLICT)
        return dataclasses.replace(current, state=state, decided_by=approver, decided_at=now, reason=reason)

    async def reopen(self, approval_id: str) -> None:
        """Undo a decision that could not be recorded elsewhere (the audit log): pending again."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE approvals SET state = 'pending', decided_by = NULL, decided_at = NULL, reason = NULL"
                " WHERE id = ? AND state IN ('approved', 'denied')",
                (approval_id,),
            )

    async def unuse(self, approval_id: str) -> None:
        """Give back an approval whose call never ran: approved again, for the retry of that call."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE approvals SET state = 'approved', used_at = NULL WHERE id = ? AND state = 'used'",
                (approval_id,),
            )

    async def list(self, *, include_closed: bool = False) -> list[Approval]:
        """Pending approvals, oldest first; with `include_closed`, the most recent of every state."""
        now = self._clock()
        if include_closed:
            query = "SELECT * FROM approvals ORDER BY created DESC LIMIT ?"
            params: tuple[Any, ...] = (_LIST_LIMIT,)
        else:
            query = "SELECT * FROM approvals WHERE state = 'pending' AND expires > ? ORDER BY created LIMIT ?"
            params = (now, _LIST_LIMIT)
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(query, params)
        return [_approval(row, now) for row in rows]


def _check_resumable(approval: Approval) -> None:
    if approval.state in ("used", "expired"):
        raise InvalidRequestState(
            f"Invalid requestState: approval {approval.id} is {approval.state};"
            " call again without requestState to ask for a new one"
        )


def _approval(row: Row, now: float) -> Approval:
    state: ApprovalState = row["state"]
    if state in ("pending", "approved") and row["expires"] <= now:
        state = "expired"
    return Approval(
        id=row["id"],
        key=ApprovalKey(
            tool=row["tool"],
            args_sha256=row["args_sha256"],
            principal=row["principal"],
            revision=row["revision"],
        ),
        repo=row["repo"],
        path=row["path"],
        arguments=json.loads(row["arguments"]),
        request_id=row["request_id"],
        state=state,
        created=row["created"],
        expires=row["expires"],
        decided_by=row["decided_by"],
        decided_at=row["decided_at"],
        reason=row["reason"],
    )


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
