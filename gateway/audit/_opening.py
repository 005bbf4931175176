"""Opening a log for appending: take its lock, and verify that the active segment may be chained onto.

The active segment must begin at entry 1 or go on from the segment before it, and (with signed
checkpoints) agree with the latest checkpoint of the gateway's key; only then is its head trusted. A
torn last line is refused with the command that repairs it.
"""

from __future__ import annotations

import dataclasses
import fcntl
import logging
import os
from pathlib import Path
from typing import Any

from gateway.audit._anchor import AnchorError, start_head
from gateway.audit._chain import REPLICA
from gateway.audit._checkpoint import CheckpointSigner
from gateway.audit._segments import closed_segments, first_entry, last_entry, start_point
from gateway.audit._verify import START, ChainHead, ChainPoint, head_of, one_replica, walk_chain
from gateway.errors import AuditChainError, AuditWriteError, TornTailError

ROTATION_REASONS = frozenset({"size", "age"})
log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Checkpointing:
    """Sign the head every `every_entries` entries, and every `every_s` seconds when entries came in; the
    copy outside the log goes to `sink`."""

    signer: CheckpointSigner
    sink: Path
    every_entries: int
    every_s: float


@dataclasses.dataclass(frozen=True)
class VerifiedStart:
    """The head an append chains onto, and the seq of the active segment's first entry."""

    head: ChainHead
    segment_first: int


def verified_start(
    path: Path, fd: int, checkpointing: Checkpointing | None, *, replica: str | None = None
) -> VerifiedStart:
    """Raises AuditWriteError naming what is wrong and, for a torn last line, the way out. A chain is
    one replica's: a gateway of another (or of none) never appends to it."""
    try:
        first = first_entry(fd)
        if first is not None and first.get(REPLICA) != replica:
            raise AuditWriteError(
                f"refusing to append to {path}: it is the chain of replica {first.get(REPLICA)!r}, and this"
                f" gateway is replica {replica!r} (AEGIS_REPLICA_ID); each replica writes its own file"
            )
        start = start_point(first)
        _check_link(path, first, start)
        return VerifiedStart(
            head=_verified_head(path, fd, start, checkpointing), segment_first=start.head.entries + 1
        )
    except TornTailError as exc:
        raise AuditWriteError(
            f"refusing to append to {path}: its last line is torn ({exc}), as when the gateway is"
            f" killed during a write; run `aegis audit repair {path}` to move the torn bytes aside and"
            " record the repair in the chain"
        ) from exc
    except AuditChainError as exc:
        raise AuditWriteError(f"refusing to append to {path}: the chain is broken at {exc}") from exc
    except AnchorError as exc:
        raise AuditWriteError(f"refusing to append to {path}: {exc}") from exc


def _verified_head(path: Path, fd: int, start: ChainPoint, checkpointing: Checkpointing | None) -> ChainHead:
    if checkpointing is None:
        return head_of(one_replica(walk_chain(path, after=start)))
    signer = checkpointing.signer
    return start_head(path, fd, start, checkpointing.sink, signer.public_key, signer.key_id)


def _check_link(path: Path, first: dict[str, Any] | None, start: ChainPoint) -> None:
    """The active segment must go on from the one before it, named by its `segment_start`: the closed
    segment rotation made (which must be there), or the file it was moved to by hand (checked while it
    is there). A log cut short under the gateway went on from bytes no longer anywhere."""
    if start is START:
        if closed_segments(path):
            raise AuditChainError(
                1, "it begins at entry 1, yet closed segments of an older chain lie beside it"
            )
        return
    segment = (first or {}).get("segment") or {}
    previous = segment.get("previous")
    predecessor = path.parent / previous if isinstance(previous, str) else None
    if segment.get("reason") not in ROTATION_REASONS and (predecessor is None or not predecessor.is_file()):
        log.warning("the audit segment before the active one is not here", extra={"previous": previous})
        return
    last = last_entry(predecessor) if predecessor is not None and predecessor.is_file() else None
    if last is None or (last.get("seq"), last.get("entry_hash")) != (
        start.head.entries,
        start.head.head_hash,
    ):
        raise AuditChainError(
            start.head.entries + 1,
            f"it does not go on from the segment before it, {previous}: a segment is missing or was changed",
        )


def lock_log(path: Path, *, create: bool = True) -> int:
    """Open the log for appending and take its exclusive lock; returns the descriptor."""
    if create:
        path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_RDWR | os.O_APPEND | os.O_CLOEXEC | (os.O_CREAT if create else 0)
    fd = os.open(path, flags, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise AuditWriteError(f"{path} is locked by another process") from None
    return fd
