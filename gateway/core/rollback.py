"""`aegis rollback SEQ|SNAPSHOT`: restore what the file write of audit entry SEQ (of this replica's chain)
replaced, with a new commit. Any replica can roll back any replica's write by its snapshot id (the
`write.snapshot` of its audit entry): snapshots live in the state database the replicas share.

Never a force push: the restore is one more commit on the same branch, made only while the file is
still exactly what that write left (its blob sha), so a later change is never overwritten. A file the
write created is deleted by a commit. Every attempt, carried out or refused, is audited.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
import time
from typing import Any

from gateway.audit import INTENT_SEQ, AuditLog, Entry, canonical_json, find_entry
from gateway.errors import AuditChainError, AuditWriteError, Kind, Refused, StateUnavailable, UpstreamError
from gateway.gitea import GiteaClient, commit_file, current_file, git_blob_sha
from gateway.state import SnapshotError, SnapshotStore, StoredSnapshot
from gateway.vocabulary import Principal, Resource

log = logging.getLogger(__name__)


class RollbackRefused(Refused):
    """The rollback was not carried out."""


SNAPSHOT_ID = re.compile(r"snap_[0-9a-f]{16}")


@dataclasses.dataclass
class _Attempt:
    seq: int | None  # the audit entry of the write in this replica's chain, or
    snapshot_id: str | None  # the write's snapshot, whichever replica made it
    principal: Principal
    request_id: str
    started: float = dataclasses.field(default_factory=time.perf_counter)
    target: dict[str, Any] | None = None
    snapshot: StoredSnapshot | None = None
    intent_seq: int | None = None

    @property
    def target_of(self) -> dict[str, Any]:
        """What the rollback was asked for, as its audit entry records it."""
        if self.seq is not None:
            return {"target_seq": self.seq}
        return {"target_snapshot": self.snapshot_id}

    @property
    def what(self) -> str:
        return f"audit entry {self.seq}" if self.seq is not None else f"snapshot {self.snapshot_id}"


class Rollbacks:
    def __init__(self, *, audit: AuditLog, snapshots: SnapshotStore, gitea: GiteaClient) -> None:
        self._audit = audit
        self._snapshots = snapshots
        self._gitea = gitea

    async def rollback(self, target: int | str, *, principal: Principal, request_id: str) -> dict[str, Any]:
        """Restore the file of audit entry `target` (an int) or of snapshot `target` (snap_...); returns
        what was done. Raises RollbackRefused."""
        try:
            self._audit.check_usable()
        except AuditWriteError as exc:
            raise RollbackRefused(f"{exc}; nothing was rolled back", Kind.UNAVAILABLE) from exc
        seq, snapshot_id = (target, None) if isinstance(target, int) else (None, target)
        attempt = _Attempt(seq=seq, snapshot_id=snapshot_id, principal=principal, request_id=request_id)
        try:
            result = await self._restore(attempt)
        except RollbackRefused as refused:
            await self._record(attempt, outcome="denied", detail={"refused": str(refused)})
            raise
        except Refused as refused:  # the path is no longer a regular file, or Gitea would not show it all
            await self._record(attempt, outcome="denied", detail={"refused": str(refused)})
            raise RollbackRefused(str(refused), refused.kind) from refused
        except UpstreamError as failed:
            await self._record(attempt, outcome="error", detail={"refused": str(failed)})
            raise RollbackRefused(f"Gitea refused the restore: {failed}", Kind.UPSTREAM) from failed
        except StateUnavailable as failed:
            await self._record(attempt, outcome="error", detail={"refused": "state database failed"})
            raise RollbackRefused(
                f"the state database failed ({failed}); nothing was rolled back", Kind.UNAVAILABLE
            ) from failed
        audit_seq = await self._record(attempt, outcome="allowed", detail=result)
        assert attempt.snapshot is not None
        try:
            await self._snapshots.complete(attempt.snapshot.id, seq=audit_seq)
        except StateUnavailable:  # restored and audited; the snapshot stays claimed, so never used twice
            log.critical("a rollback's snapshot could not be marked done", extra={"audit_seq": audit_seq})
        return {**result, "audit_seq": audit_seq}

    async def _restore(self, attempt: _Attempt) -> dict[str, Any]:
        if attempt.seq is not None:
            attempt.target = _target_entry(self._audit, attempt.seq)
            attempt.snapshot_id = attempt.target["write"]["snapshot"]
        snapshot_id = attempt.snapshot_id
        assert snapshot_id is not None
        try:
            attempt.snapshot = await self._snapshots.get(snapshot_id)
        except SnapshotError as exc:
            raise RollbackRefused(f"{exc}: the state database no longer holds it", Kind.NOT_FOUND) from exc
        previous = attempt.snapshot.snapshot
        if previous.previous_sha is not None and (
            previous.previous_content is None
            or git_blob_sha(previous.previous_content, like=previous.previous_sha) != previous.previous_sha
        ):
            raise RollbackRefused(
                f"snapshot {snapshot_id} does not match the blob it claims to restore", Kind.CONFLICT
            )
        try:
            if attempt.snapshot.rolled_back_by is not None:
                raise SnapshotError(f"{attempt.what} was already rolled back")
            await self._snapshots.claim(snapshot_id)
        except SnapshotError as exc:
            raise RollbackRefused(str(exc), Kind.CONFLICT) from exc
        try:
            return await self._commit_restore(attempt, attempt.snapshot)
        except BaseException:
            try:
                await self._snapshots.release(snapshot_id)
            except StateUnavailable:  # it stays claimed: a later rollback of it is refused, never doubled
                log.critical("a failed rollback's snapshot could not be released", exc_info=True)
            raise

    async def _commit_restore(self, attempt: _Attempt, stored: StoredSnapshot) -> dict[str, Any]:
        snapshot = stored.snapshot
        owner, name = snapshot.repo.split("/", 1)
        resource = Resource(owner=owner, name=name, path=snapshot.path, branch=snapshot.branch)
        current_sha, _ = await current_file(self._gitea, resource)
        if current_sha != snapshot.new_sha:
            now = f"is now blob {current_sha}" if current_sha else "no longer exists"
            raise RollbackRefused(
                f"{snapshot.path} on {snapshot.branch} {now}, not the {snapshot.new_sha} the write of"
                f" {attempt.what} left: it changed since, and a rollback never overwrites a later change",
                Kind.CONFLICT,
            )
        try:
            intent = await self._audit.append(self._entry(attempt, outcome="intent", detail={}).intent())
        except AuditWriteError as exc:
            raise RollbackRefused(f"{exc}; nothing was rolled back", Kind.UNAVAILABLE) from exc
        attempt.intent_seq = intent["seq"]
        verb = "Restore" if snapshot.previous_sha else "Remove"
        _, commit_sha = await commit_file(
            self._gitea,
            resource,
            content=snapshot.previous_content,
            replacing=current_sha,
            message=f"{verb} {snapshot.path}: rollback of {attempt.what} (via Aegis)",
        )
        return {
            **attempt.target_of,
            "snapshot": stored.id,
            "repo": snapshot.repo,
            "path": snapshot.path,
            "branch": snapshot.branch,
            "restored_sha": snapshot.previous_sha,
            "deleted": snapshot.previous_sha is None,
            "commit": commit_sha,
        }

    async def _record(self, attempt: _Attempt, *, outcome: str, detail: dict[str, Any]) -> int:
        """Audit the attempt; returns the seq of the entry that records it. A restore that has been
        committed is never reported as failed: its outcome waits for the log to recover, and its intent
        entry stands for it meanwhile."""
        entry = self._entry(attempt, outcome=outcome, detail=detail)
        try:
            written = await self._audit.append(entry)
        except AuditWriteError as exc:
            if attempt.intent_seq is not None and outcome == "allowed":
                self._audit.hold(entry)
                return attempt.intent_seq
            raise RollbackRefused(
                f"the audit log could not record the rollback: {exc}", Kind.INTERNAL
            ) from exc
        return int(written["seq"])

    def _entry(self, attempt: _Attempt, *, outcome: str, detail: dict[str, Any]) -> Entry:
        snapshot = attempt.snapshot.snapshot if attempt.snapshot else None
        return Entry(
            event="rollback",
            outcome=outcome,
            request_id=attempt.request_id,
            principal=attempt.principal.id,
            credential_id=attempt.principal.credential_id,
            tool=(attempt.target or {}).get("tool"),
            repo=snapshot.repo if snapshot else None,
            path=snapshot.path if snapshot else None,
            args_sha256=hashlib.sha256(canonical_json(attempt.target_of)).hexdigest(),
            duration_ms=round((time.perf_counter() - attempt.started) * 1000, 3),
            detail={
                "rollback": {**attempt.target_of, **detail},
                **({INTENT_SEQ: attempt.intent_seq} if attempt.intent_seq is not None else {}),
            },
        )


def _target_entry(audit: AuditLog, seq: int) -> dict[str, Any]:
    try:
        entry = find_entry(audit.path, seq)
    except AuditChainError as exc:
        raise RollbackRefused(
            f"the audit chain is broken ({exc}); nothing is rolled back", Kind.CONFLICT
        ) from exc
    if entry is None:
        raise RollbackRefused(f"the audit log has no entry {seq}", Kind.NOT_FOUND)
    write = entry.get("write")
    if entry.get("event") != "tool_call" or not isinstance(write, dict) or not write.get("snapshot"):
        raise RollbackRefused(
            f"audit entry {seq} is not a file write: there is nothing to roll back", Kind.INVALID
        )
    return entry
