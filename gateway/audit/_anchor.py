"""The chain checked against its signed checkpoints: at start-up from the last one on (so that start-up
time does not grow with the log), and in full by `aegis audit verify --public-key`."""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from gateway.audit._chain import entry_hash
from gateway.audit._checkpoint import Checkpoint, CheckpointError, latest_checkpoint, read_checkpoints
from gateway.audit._segments import walk_segments
from gateway.audit._verify import ChainHead, ChainPoint, ChainReport, head_of, review_entries, walk_chain

CHECKPOINT_EVENT = "checkpoint"
log = logging.getLogger(__name__)


class AnchorError(Exception):
    """The chain contradicts a signed checkpoint: cut short, re-hashed, or a checkpoint forged."""


@dataclasses.dataclass(frozen=True)
class AnchoredReport:
    """A chain that holds and agrees with every signed checkpoint; `signed` is the last one."""

    chain: ChainReport
    signed: Checkpoint | None
    signed_in_chain: bool = False  # the entry after `signed` is its own verified checkpoint entry

    @property
    def uncovered(self) -> int:
        """Entries after the last signed checkpoint: nothing outside the file vouches for them yet."""
        return self.chain.head.entries - (self.signed.seq if self.signed else 0)

    @property
    def first_uncovered(self) -> int | None:
        """The seq of the first entry that neither a signature nor the last checkpoint's own entry
        accounts for, or None when the chain ends there (as after a clean stop or a rotation)."""
        first = (self.signed.seq if self.signed else 0) + (2 if self.signed_in_chain else 1)
        return first if first <= self.chain.head.entries else None


def start_head(
    path: Path, fd: int, start: ChainPoint, sink: Path, public_key: Ed25519PublicKey, key_id: str
) -> ChainHead:
    """The head of the log file, which begins at `start`, verified from its last signed checkpoint on;
    from `start` when there is none yet, it was signed by another key, or it lies in an older segment.
    Raises AnchorError when the log contradicts it."""
    try:
        checkpoint = latest_checkpoint(sink, key_id)
        if checkpoint is not None:
            checkpoint.verify(public_key)
    except CheckpointError as exc:
        raise AnchorError(f"{sink}: {exc}") from exc
    if checkpoint is None or checkpoint.seq <= start.head.entries:
        # None yet, or in a closed segment (which the link to the newest one vouches for)
        return head_of(walk_chain(path, after=start))
    size = os.fstat(fd).st_size
    if size < checkpoint.offset:
        raise AnchorError(
            f"{path} has {size} bytes, but its signed checkpoint of entry {checkpoint.seq} ends at byte"
            f" {checkpoint.offset}: entries were removed from its end"
        )
    signed_entry = _entry_ending_at(fd, checkpoint.offset)
    if (
        signed_entry is None
        or signed_entry.get("seq") != checkpoint.seq
        or signed_entry.get("entry_hash") != checkpoint.head_hash
        or entry_hash(signed_entry) != checkpoint.head_hash
    ):
        raise AnchorError(f"{path}: entry {checkpoint.seq} is not the one its signed checkpoint names")
    point = ChainPoint(ChainHead(checkpoint.seq, checkpoint.head_hash), offset=checkpoint.offset)
    head = head_of(walk_chain(path, after=point))
    if head.entries > checkpoint.seq + 1:  # more than the checkpoint's own entry
        log.warning(
            "audit entries after the last signed checkpoint: the gateway stopped without signing them (a"
            " crash), or they were appended by another hand; review them",
            extra={"signed_through": checkpoint.seq, "entries": head.entries},
        )
    return head


def _cut_short(path: Path, entries: int, checkpoint: Checkpoint) -> str:
    return (
        f"{path} ends at entry {entries}, but a signed checkpoint ({checkpoint.ts}) names entry"
        f" {checkpoint.seq}: entries were removed from its end"
    )


def review_anchored(path: Path, public_key: Ed25519PublicKey, sink: Path | None) -> AnchoredReport:
    """The whole chain, each checkpoint in it and in `sink` verified against `public_key` and against the
    entries it names. Raises AuditChainError where the chain breaks, AnchorError where it contradicts a
    checkpoint."""
    try:
        external = read_checkpoints(sink) if sink else []
        for checkpoint in external:
            checkpoint.verify(public_key)
    except CheckpointError as exc:
        raise AnchorError(f"{sink}: {exc}") from exc
    wanted = {checkpoint.seq for checkpoint in external}
    hashes: dict[int, str] = {}
    signed: list[Checkpoint] = []

    def checked(entries: Any) -> Any:
        previous: dict[str, Any] | None = None
        for entry in entries:
            if entry["seq"] in wanted:
                hashes[entry["seq"]] = entry["entry_hash"]
            if entry["event"] == CHECKPOINT_EVENT:
                signed.append(_verified_in_chain(entry, previous, public_key))
            previous = entry
            yield entry

    report = review_entries(checked(walk_segments(path)))
    for checkpoint in external:
        if checkpoint.seq > report.head.entries:
            raise AnchorError(_cut_short(path, report.head.entries, checkpoint))
        if checkpoint.seq not in hashes:
            continue  # in a segment retention removed (recorded in the chain)
        if hashes[checkpoint.seq] != checkpoint.head_hash:
            raise AnchorError(
                f"entry {checkpoint.seq} differs from its signed checkpoint ({checkpoint.ts}): the chain was"
                " changed and re-hashed at or before it"
            )
    last = max([*signed, *external], key=lambda checkpoint: checkpoint.seq, default=None)
    in_chain = last is not None and any(checkpoint.seq == last.seq for checkpoint in signed)
    return AnchoredReport(chain=report, signed=last, signed_in_chain=in_chain)


def _verified_in_chain(
    entry: dict[str, Any], previous: dict[str, Any] | None, public_key: Ed25519PublicKey
) -> Checkpoint:
    line = entry["seq"]
    try:
        checkpoint = Checkpoint(**entry["checkpoint"])
        checkpoint.verify(public_key)
    except (TypeError, CheckpointError) as exc:
        raise AnchorError(f"line {line}: {exc} (a forged checkpoint)") from exc
    if previous is None or (previous["seq"], previous["entry_hash"]) != (
        checkpoint.seq,
        checkpoint.head_hash,
    ):
        raise AnchorError(
            f"line {line}: the signed checkpoint names another entry {checkpoint.seq} than the one before"
            " it: the chain was changed and re-hashed"
        )
    return checkpoint


def _entry_ending_at(fd: int, offset: int) -> dict[str, Any] | None:
    """The entry whose line ends at byte `offset` (a checkpoint's), or None when no line ends there."""
    if offset <= 0 or os.pread(fd, 1, offset - 1) != b"\n":
        return None
    pieces: list[bytes] = []
    start = offset - 1
    while start > 0:
        read_from = max(0, start - 4096)
        piece = os.pread(fd, start - read_from, read_from)
        newline = piece.rfind(b"\n")
        pieces.append(piece[newline + 1 :])
        if newline >= 0:
            break
        start = read_from
    try:
        entry = json.loads(b"".join(reversed(pieces)))
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None
