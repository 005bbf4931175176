"""Append-only writer of the chain: entries, their failures and recovery, rotation and retention, and
signed checkpoints when due. One process owns the file (an exclusive flock).

When a write fails (a full disk, an I/O error) the log becomes unusable: nothing is chained onto a
possibly partial line, and the service refuses calls it cannot record. When an fsync fails, the entries
it was to make durable are cut away and their appends fail. `recover()` cuts the partial line off,
records the gap in an `audit_gap` entry and writes the outcomes it had to hold back.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import errno
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from gateway.audit._anchor import CHECKPOINT_EVENT
from gateway.audit._chain import REPLICA, field_problem, hashed_line, timestamp
from gateway.audit._durability import Durability, Head
from gateway.audit._entry import CHAINED_FIELDS, Entry
from gateway.audit._opening import Checkpointing, lock_log, verified_start
from gateway.audit._segments import (
    RETENTION,
    SEGMENT_START,
    Rotation,
    closed_name,
    closed_segments,
    descriptor_path,
    removal_record,
    retention_victims,
)
from gateway.audit._verify import ChainHead
from gateway.errors import AuditEntryError, AuditWriteError

RETRY_INTERVAL_S = 1.0
# A full disk is recovered from only once this much is free: a short gap entry may fit in the slack of
# the log's last page while the next call's entries would not, and the log would flap between the two.
RECOVERY_HEADROOM_BYTES = 64 << 10
UPKEEP_EVENTS = frozenset({CHECKPOINT_EVENT, SEGMENT_START, RETENTION})
MAX_HELD_OUTCOMES = 10_000
log = logging.getLogger(__name__)


class AuditLog:
    """Appends hash-chained entries; every append is written at once and, when `fsync` is on, returns
    only once an fsync covered it.

    Opening verifies the active segment (`_opening.py`) so that a new entry is never chained onto a
    tampered one.
    An append chains and writes its line on the event loop without an await point, so the chain's
    order is the calls' and a cancelled call cannot tear it; the fsync runs in a worker thread and
    covers every entry written before it began (group commit, `_durability.py`). The log's own
    upkeep (checkpoints, rotation, recovery) and `write()` fsync at once, on the calling thread.

    Example:
        log = AuditLog.open(Path("var/audit.jsonl"), fsync=True)
        await log.append(Entry(event="tool_call", outcome="allowed", ...))
    """

    def __init__(
        self,
        path: Path,
        fd: int,
        head: ChainHead,
        *,
        size: int,
        fsync: bool,
        clock: Callable[[], float] = time.monotonic,
        checkpointing: Checkpointing | None = None,
        rotation: Rotation | None = None,
        segment_first: int = 1,
        replica: str | None = None,
    ) -> None:
        self.path = path
        self._replica = {REPLICA: replica} if replica else {}
        self._fd = fd
        self._seq = head.entries
        self._prev_hash = head.head_hash
        self._size = size  # bytes of whole entries: where a partial line would start
        self._fsync = fsync
        self._clock = clock
        self._failure: _Failure | None = None
        self._held: list[Entry] = []
        self._checkpointing = checkpointing
        self._signed_seq = head.entries  # what start-up verified needs no new checkpoint
        self._signed_at = clock()
        self._rotation = rotation or Rotation()
        self._segment_first = segment_first  # seq of the active file's first entry
        self._segment_opened = clock()
        self._segment_start: Entry | None = None  # the next segment's first entry, until written
        self._durability = Durability(Head(self._seq, self._prev_hash, size))
        self._flushing: asyncio.Task[None] | None = None
        self._closed = False

    @classmethod
    def open(
        cls,
        path: Path,
        *,
        fsync: bool,
        clock: Callable[[], float] = time.monotonic,
        checkpointing: Checkpointing | None = None,
        rotation: Rotation | None = None,
        replica: str | None = None,
    ) -> AuditLog:
        """Lock the log and verify its active segment (from its latest signed checkpoint on, with
        `checkpointing`); raises AuditWriteError saying why it cannot be appended to."""
        fd = lock_log(path)
        try:
            start = verified_start(path, fd, checkpointing, replica=replica)
        except BaseException:
            os.close(fd)
            raise
        return cls(
            path,
            fd,
            start.head,
            size=os.fstat(fd).st_size,
            fsync=fsync,
            clock=clock,
            checkpointing=checkpointing,
            rotation=rotation,
            segment_first=start.segment_first,
            replica=replica,
        )

    @property
    def usable(self) -> bool:
        """Whether the next entry can be written: no write has failed since the last recovery."""
        return self._failure is None

    def check_usable(self) -> None:
        """Raise AuditWriteError unless the next entry can be written, trying to recover first. A refusal
        is counted, and the `audit_gap` entry of the recovery reports it."""
        if self._failure is not None and not self.recover():
            self._failure.unwritten["tool_call"] += 1
            raise AuditWriteError(f"audit log {self.path} is unusable: {self._failure.error}")

    async def append(self, entry: Entry) -> dict[str, Any]:
        """Chain, write and return one entry once it is durable. Raises AuditWriteError when it is not
        on disk (or, after a failed fsync, was cut away)."""
        generation = self._durability.generation
        written = self._write(entry, sync=False)
        seq = written["seq"]
        if not self._fsync or seq <= self._durability.durable.seq:
            return written  # not asked for, or the upkeep after it fsynced it already
        if self._durability.generation != generation:  # that upkeep's fsync failed: it was cut away
            if self._failure is not None:
                self._failure.unwritten[entry.event] += 1
            raise AuditWriteError(f"audit log {self.path}: the entry was lost with a failed fsync")
        durable = self._durability.expect(seq, entry.event)
        if self._flushing is None:
            self._flushing = asyncio.get_running_loop().create_task(self._flush())
        await durable
        return written

    async def _flush(self) -> None:
        """fsync in the worker thread until no append waits; the task outlives a cancelled waiter."""
        try:
            while self._durability.pending and not self._closed:
                generation = self._durability.generation
                target = self._head
                try:
                    await self._durability.fsync(self._fd)
                except OSError as exc:
                    if generation == self._durability.generation:
                        self._lose(target, exc)
                    continue
                if generation == self._durability.generation:  # else it covered a file since replaced
                    self._durability.reached(target)
        finally:
            self._flushing = None

    def _lose(self, target: Head, exc: OSError) -> None:
        """An fsync failed: what it covered may not be on disk. Everything after the last durable entry
        is taken back (the recovery cuts it from the file) and its appends fail."""
        durable = self._durability.durable
        if target.seq <= durable.seq:  # an fsync on the calling thread covered it meanwhile
            log.critical("a late audit fsync failed after its entries were made durable", exc_info=exc)
            return
        error = AuditWriteError(f"audit fsync of {self.path} failed: {exc}")
        lost = self._durability.lose(error)
        self._seq, self._prev_hash, self._size = durable.seq, durable.entry_hash, durable.size
        if self._failure is None:
            self._failure = _Failure(error=_describe(exc), since=timestamp(), last_try=self._clock())
        self._failure.unwritten.update(lost)
        log.critical("an audit fsync failed; entries not yet durable are cut away", exc_info=exc)

    @property
    def _head(self) -> Head:
        """The last entry written, and where the file ends after it."""
        return Head(self._seq, self._prev_hash, self._size)

    def _rebase_here(self) -> None:
        """The chain goes on in a file whose start is on disk (a new segment, or one cut under us)."""
        self._durability.rebase(self._head)

    def hold(self, entry: Entry) -> None:
        """Keep the outcome of a call that has run but could not be recorded; the recovery writes it.
        Its intent entry is in the chain already, so a crash before then still shows the call."""
        _check_fields(entry)
        if len(self._held) < MAX_HELD_OUTCOMES:
            self._held.append(entry)
        elif self._failure is not None:
            self._failure.unwritten[entry.event] += 1

    def recover(self, *, force: bool = False) -> bool:
        """After a failed write, at most once per RETRY_INTERVAL_S (or now, with `force`): cut the
        partial line, write the `audit_gap` entry and the held outcomes. Returns whether the log is
        usable."""
        failure = self._failure
        if failure is None:
            return True
        now = self._clock()
        if not force and now - failure.last_try < RETRY_INTERVAL_S:
            return False
        failure.last_try = now
        seq, prev_hash, size = self._seq, self._prev_hash, self._size
        try:
            _require_headroom(self._fd)
            dropped = os.fstat(self._fd).st_size - size
            os.ftruncate(self._fd, size)
            if self._segment_start is not None:
                self._write_unchecked(self._segment_start)
            self._write_unchecked(failure.gap_entry(dropped_bytes=dropped, held=len(self._held)))
            for held in self._held:
                self._write_unchecked(held)
            self._sync()
        except OSError as exc:
            self._seq, self._prev_hash, self._size = seq, prev_hash, size
            failure.error = _describe(exc)
            return False
        log.warning("audit log recovered", extra={"path": str(self.path), "dropped_bytes": dropped})
        self._failure = None
        self._held.clear()
        self._segment_start = None
        return True

    def maintain(self) -> bool:
        """The periodic upkeep: recover when unusable, follow a log moved away, rotate and sign when
        due. Returns whether the log is usable."""
        if not self.recover():
            return False
        self.reopen()
        rotation = self._rotation
        if rotation.max_age_s and self._clock() - self._segment_opened >= rotation.max_age_s:
            self._rotate("age")
        plan = self._checkpointing
        if plan is not None and self._unsigned and self._clock() - self._signed_at >= plan.every_s:
            self._checkpoint(plan)
        return self._failure is None

    def reopen(self) -> None:
        """Follow the log's path (SIGHUP, and before every entry): when the file there is no longer the
        one being written (moved or deleted by hand), the next segment opens at the path, naming where
        the last one went; when the file was cut short under the gateway (copytruncate), the chain goes
        on in it with a `segment_start` that says so. An unusable log is left as it is: its recovery
        must cut the partial line in the file that has it."""
        if self._failure is not None:
            return
        try:
            mine = os.fstat(self._fd)
            there: os.stat_result | None = os.stat(self.path)
        except FileNotFoundError:
            there = None
        except OSError:
            log.warning("the audit log's path cannot be checked; writing on", exc_info=True)
            return
        if there is not None and (there.st_dev, there.st_ino) == (mine.st_dev, mine.st_ino):
            if mine.st_size < self._size:
                log.critical(
                    "the audit log was cut short under the gateway (copytruncate?): entries written since"
                    " it was copied are lost; rotate with the gateway's own rotation instead"
                )
                written, self._size = self._size, mine.st_size
                self._rebase_here()
                self._open_segment_here(
                    previous=None, reason=f"cut short from {written} bytes under the gateway"
                )
            return
        moved_to = descriptor_path(self._fd)
        log.warning("the audit log was moved away; a new segment opens", extra={"moved_to": moved_to})
        self._next_segment(previous=moved_to, reason="moved away")

    def _rotate(self, reason: str) -> None:
        """Close the active segment under its closed name and open the next one at the path."""
        if self._seq < self._segment_first or self._failure is not None:
            return  # nothing in it yet, or nothing can be written
        plan = self._checkpointing
        if plan is not None and self._unsigned:
            self._checkpoint(plan)
        closed = closed_name(self.path, self._segment_first, self._seq)
        try:
            os.rename(self.path, closed)
        except OSError:
            log.critical("the audit log could not be rotated; it stays the active segment", exc_info=True)
            return
        if not self._next_segment(previous=closed.name, reason=reason):
            # Entries go on into the file: its closed name would soon tell a wrong last seq.
            with contextlib.suppress(OSError):
                os.rename(closed, self.path)
            return
        self._apply_retention()

    def _next_segment(self, *, previous: str | None, reason: str) -> bool:
        try:
            self._sync()  # what waits for an fsync is in this file: the next segment must not hold it
        except OSError as exc:
            self._lose(self._head, exc)
            return False
        try:
            fd = lock_log(self.path)
        except (OSError, AuditWriteError):
            log.critical("no new audit segment could be opened; the current one stays", exc_info=True)
            return False
        os.close(self._fd)
        self._fd, self._size = fd, 0
        self._rebase_here()
        self._open_segment_here(previous=previous, reason=reason)
        return True

    def _open_segment_here(self, *, previous: str | None, reason: str) -> None:
        self._segment_first, self._segment_opened = self._seq + 1, self._clock()
        detail = {"previous": previous, "previous_last_seq": self._seq, "reason": reason}
        self._segment_start = Entry(event=SEGMENT_START, outcome="allowed", detail={"segment": detail})
        with contextlib.suppress(AuditWriteError):  # the recovery writes it first
            self.write(self._segment_start)
            self._segment_start = None

    def _apply_retention(self) -> None:
        """Remove the oldest closed segments the retention rules no longer keep, recording the removal
        (with what lets the rest verify) before it happens. A segment that cannot be read or removed
        stays; the next rotation tries again."""
        rotation = self._rotation
        try:
            doomed = retention_victims(closed_segments(self.path), rotation, now=time.time())
            removed = [removal_record(segment) for segment in doomed]
        except OSError:
            log.critical("audit retention could not read the closed segments", exc_info=True)
            return
        if not doomed:
            return
        rules = {"retain_segments": rotation.retain_segments, "retain_s": rotation.retain_s}
        try:
            retention = {"removed": removed, "rules": rules}
            self.write(Entry(event=RETENTION, outcome="allowed", detail={"retention": retention}))
            for segment in doomed:
                segment.path.unlink(missing_ok=True)
        except (AuditWriteError, OSError):  # not recorded: not removed; recorded but not removed: harmless
            log.critical("audit retention did not complete", exc_info=True)

    def close(self) -> None:
        """Write what a recovery would, and sign what is not yet signed, then let go of the log: after a
        clean stop, entries after the last checkpoint mean a crash, or someone else's hand."""
        self.recover(force=True)
        plan = self._checkpointing
        if plan is not None and self._unsigned and self._failure is None:
            self._checkpoint(plan)
        if self._failure is None:
            try:
                self._sync()
            except OSError as exc:
                self._lose(self._head, exc)
        self._closed = True
        self._durability.lose(AuditWriteError(f"audit log {self.path} closed before the entry was on disk"))
        self._durability.close()
        os.close(self._fd)

    @property
    def _unsigned(self) -> bool:
        return self._seq != self._signed_seq

    def _checkpoint(self, plan: Checkpointing) -> None:
        """Write the signed head into the chain, then its copy to the sink. A failure is logged as
        critical and never fails the call whose entry made the checkpoint due."""
        checkpoint = plan.signer.sign(
            seq=self._seq, head_hash=self._prev_hash, offset=self._size, ts=timestamp()
        )
        self._signed_at = self._clock()
        try:
            signed = {"checkpoint": dataclasses.asdict(checkpoint)}
            self.write(Entry(event=CHECKPOINT_EVENT, outcome="allowed", detail=signed))
            self._signed_seq = self._seq  # the checkpoint's own entry needs no checkpoint
            write_durably(plan.sink, checkpoint.line())
        except (AuditWriteError, OSError):
            log.critical("an audit checkpoint could not be written", exc_info=True)

    def write(self, entry: Entry) -> dict[str, Any]:
        """Chain, write, fsync (when on) and return one entry, on the calling thread (the log's upkeep;
        the repair command). Raises AuditWriteError when it is not on disk."""
        return self._write(entry, sync=True)

    def _write(self, entry: Entry, *, sync: bool) -> dict[str, Any]:
        _check_fields(entry)  # before anything else: a bug of the caller's is never held or retried
        upkeep = entry.event in UPKEEP_EVENTS
        if not upkeep:
            self.reopen()  # two stat calls: no entry goes to a file moved or cut away since the last one
        if self._failure is not None:  # checked after reopen(), which may have failed to start a segment
            self._failure.unwritten[entry.event] += 1
            raise AuditWriteError(f"audit log {self.path} is unusable: {self._failure.error}")
        try:
            written = self._write_unchecked(entry)
        except OSError as exc:
            # A partial line may now end the file: chaining onto it would hide the failure.
            self._failure = _Failure(error=_describe(exc), since=timestamp(), last_try=self._clock())
            self._failure.unwritten[entry.event] += 1
            raise AuditWriteError(f"audit append to {self.path} failed: {exc}") from exc
        if sync:
            try:
                self._sync()
            except OSError as exc:
                self._lose(self._head, exc)
                if self._failure is not None:
                    self._failure.unwritten[entry.event] += 1
                raise AuditWriteError(f"audit fsync of {self.path} failed: {exc}") from exc
        if not upkeep:  # the log's own upkeep triggers no more upkeep
            self._after_entry()
        return written

    def _after_entry(self) -> None:
        """Sign and rotate when due. The entry is on disk: nothing here may fail the call it records."""
        plan = self._checkpointing
        try:
            if plan is not None and self._seq - self._signed_seq >= plan.every_entries:
                self._checkpoint(plan)
            if self._rotation.max_bytes and self._size >= self._rotation.max_bytes:
                self._rotate("size")
        except OSError:
            log.critical("audit upkeep failed after an entry was written", exc_info=True)

    def _write_unchecked(self, new: Entry) -> dict[str, Any]:
        entry = {
            **new.fields(),
            **self._replica,
            "seq": self._seq + 1,
            "ts": timestamp(),
            "prev_hash": self._prev_hash,
        }
        entry["entry_hash"], line = hashed_line(entry)
        line += b"\n"
        written = 0
        while written < len(line):
            written += os.write(self._fd, line[written:])
        self._seq = entry["seq"]
        self._prev_hash = entry["entry_hash"]
        self._size += len(line)
        return entry

    def _sync(self) -> None:
        """fsync (when on) on the calling thread: every entry written is durable, and its append
        released. Raises OSError."""
        if self._fsync and self._seq > self._durability.durable.seq:
            os.fsync(self._fd)
            self._durability.reached(self._head)


class _Failure:
    """Since when the log is unusable, why, and what could not be recorded meanwhile."""

    def __init__(self, *, error: str, since: str, last_try: float) -> None:
        self.error = error
        self.since = since
        self.last_try = last_try
        self.unwritten: collections.Counter[str] = collections.Counter()

    def gap_entry(self, *, dropped_bytes: int, held: int) -> Entry:
        gap = {
            "since": self.since,
            "error": self.error,
            "unwritten": dict(sorted(self.unwritten.items())),
            "dropped_bytes": dropped_bytes,
            "held_outcomes": held,
        }
        return Entry(event="audit_gap", outcome="error", detail={"gap": gap})


def _check_fields(entry: Entry) -> None:
    """Refuse an entry the verifier would refuse (a bug of the caller's: written, it would stop the next
    start-up), judged as it will be written, with the fields the writer adds."""
    problem = field_problem({**entry.fields(), **dict.fromkeys(CHAINED_FIELDS, "")})
    if problem is not None:
        raise AuditEntryError(f"refusing to write an entry the verifier would refuse: {problem}")


def write_durably(path: Path, data: bytes, *, new: bool = False) -> None:
    """Append `data` to `path` (mode 0600), or write a `new` file that must not exist yet, and fsync it."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC | (os.O_EXCL if new else os.O_APPEND)
    fd = os.open(path, flags, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _require_headroom(fd: int) -> None:
    """Raise ENOSPC unless the log's filesystem has RECOVERY_HEADROOM_BYTES free (when it can tell)."""
    try:
        stats = os.fstatvfs(fd)
    except OSError:
        return
    if stats.f_bavail * stats.f_frsize < RECOVERY_HEADROOM_BYTES:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _describe(exc: OSError) -> str:
    return exc.strerror or str(exc)
