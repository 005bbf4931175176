"""Segments of one chain: the active log file and the closed segments rotation left beside it.

A closed segment of `audit.jsonl` is `audit.<first seq>-<last seq>.jsonl` (12 digits each), so that a
listing sorts in chain order. A new segment opens with a `segment_start` entry whose `prev_hash` is the
previous segment's head: the segments are one chain, and `aegis audit verify` walks them as one.
Retention removes the oldest segments, each removal recorded in a `retention` entry first, which is
what lets a chain that no longer begins at entry 1 verify.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gateway.audit._chain import REPLICA
from gateway.audit._verify import (
    START,
    ChainHead,
    ChainPoint,
    ChainReport,
    one_replica,
    review_entries,
    walk_chain,
)
from gateway.errors import AuditChainError

SEGMENT_START = "segment_start"
RETENTION = "retention"
TAIL_READ = 64 << 10


@dataclasses.dataclass(frozen=True)
class Rotation:
    """Close the active segment at `max_bytes` or after `max_age_s` (0: never); keep at most
    `retain_segments` closed segments and none older than `retain_s` (0: keep all)."""

    max_bytes: int = 0
    max_age_s: float = 0.0
    retain_segments: int = 0
    retain_s: float = 0.0


@dataclasses.dataclass(frozen=True)
class Segment:
    """A closed segment: its file and the seqs of its first and last entries."""

    path: Path
    first_seq: int
    last_seq: int


def closed_name(active: Path, first_seq: int, last_seq: int) -> Path:
    return active.with_name(f"{active.stem}.{first_seq:012d}-{last_seq:012d}{active.suffix}")


def closed_segments(active: Path) -> list[Segment]:
    """The closed segments beside `active`, oldest first."""
    pattern = re.compile(rf"{re.escape(active.stem)}\.(\d{{12}})-(\d{{12}}){re.escape(active.suffix)}")
    found = []
    for candidate in active.parent.iterdir() if active.parent.exists() else ():
        match = pattern.fullmatch(candidate.name)
        if match and candidate.is_file():
            found.append(Segment(candidate, int(match[1]), int(match[2])))
    return sorted(found, key=lambda segment: segment.first_seq)


def retention_victims(segments: list[Segment], rotation: Rotation, *, now: float) -> list[Segment]:
    """The oldest closed segments past the count or the age to keep: always a prefix of the chain."""
    doomed = 0
    if rotation.retain_segments:
        doomed = max(0, len(segments) - rotation.retain_segments)
    if rotation.retain_s:
        while doomed < len(segments) and now - segments[doomed].path.stat().st_mtime > rotation.retain_s:
            doomed += 1
    return segments[:doomed]


def removal_record(segment: Segment) -> dict[str, Any]:
    """What a `retention` entry says of a segment it removes: enough for the next one to verify."""
    last = last_entry(segment.path) or {}
    return {
        "segment": segment.path.name,
        "first_seq": segment.first_seq,
        "last_seq": segment.last_seq,
        "last_hash": last.get("entry_hash"),
        "bytes": segment.path.stat().st_size,
    }


def descriptor_path(fd: int) -> str:
    """Where an open file is now (after a rename), as the kernel tells."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return "an unknown path"


def first_entry(fd: int) -> dict[str, Any] | None:
    """The first entry of an open log file, or None when it has no whole first line."""
    head = b""
    while b"\n" not in head:
        more = os.pread(fd, TAIL_READ, len(head))
        if not more:
            return None
        head += more
    return parse_entry(head[: head.index(b"\n")])


def last_entry(path: Path) -> dict[str, Any] | None:
    """The last whole entry of a closed segment, or None."""
    with path.open("rb") as handle:
        size = handle.seek(0, os.SEEK_END)
        handle.seek(max(0, size - TAIL_READ))
        tail = handle.read()
    lines = tail.rstrip(b"\n").rsplit(b"\n", 1)
    return parse_entry(lines[-1]) if lines[-1] else None


def start_point(first: dict[str, Any] | None) -> ChainPoint:
    """Where the chain of a file begins: entry 1, or the segment_start entry a rotation opened it with
    (trusted here; whoever verifies the whole chain checks the link)."""
    if first is None or first.get("seq") == 1:
        return START
    if first.get("event") != SEGMENT_START or not isinstance(first.get("seq"), int):
        raise AuditChainError(1, "the file begins neither at entry 1 nor with a segment_start entry")
    return ChainPoint(ChainHead(entries=first["seq"] - 1, head_hash=str(first.get("prev_hash"))), offset=0)


def walk_segments(active: Path) -> Iterator[dict[str, Any]]:
    """Every entry of the closed segments beside `active` and of `active`, as one chain. A chain that no
    longer begins at entry 1 must record, in a `retention` entry, the removal of what came before."""
    files = _with_moved_predecessors([segment.path for segment in closed_segments(active)] + [active])
    point: ChainPoint | None = None
    first_start: ChainHead | None = None
    removals: set[tuple[int, str]] = set()
    for path in files:
        if point is None:
            with path.open("rb") as handle:
                start = start_point(first_entry(handle.fileno()))
            first_start = start.head if start is not START else None
        else:
            start = dataclasses.replace(point, offset=0)
        head = start.head
        try:
            for entry in walk_chain(path, after=start):
                head = ChainHead(entries=entry["seq"], head_hash=entry["entry_hash"])
                if entry["event"] == RETENTION:
                    removals.update(
                        (item["last_seq"], item["last_hash"]) for item in entry[RETENTION]["removed"]
                    )
                yield entry
        except AuditChainError as exc:
            raise AuditChainError(exc.line, f"{path.name}: {exc.reason}") from exc
        point = ChainPoint(head, offset=0)
    if first_start is not None and (first_start.entries, first_start.head_hash) not in removals:
        raise AuditChainError(
            first_start.entries + 1,
            f"{files[0].name}: the entries before it are missing, and no retention entry records their"
            " removal",
        )


def _with_moved_predecessors(files: list[Path]) -> list[Path]:
    """`files`, preceded by the files the first of them names as its predecessor when those were moved
    away by hand (logrotate's rename): their `segment_start` entries say where."""
    while True:
        with files[0].open("rb") as handle:
            first = first_entry(handle.fileno()) or {}
        segment = first.get("segment") if first.get("event") == SEGMENT_START else None
        previous = segment.get("previous") if isinstance(segment, dict) else None
        if not isinstance(previous, str):
            return files
        candidate = files[0].parent / previous  # an absolute path stays as it is
        if not candidate.is_file() or candidate in files:
            return files
        files = [candidate, *files]


def review_chain(active: Path) -> ChainReport:
    """The chain of `active` and its closed segments verified, with the write intents it holds no
    outcome for; raises AuditChainError at the first entry that breaks it."""
    return review_entries(walk_segments(active))


def merged_chains(actives: list[Path]) -> Iterator[dict[str, Any]]:
    """The entries of several chains (one per replica), ordered by time, then replica, then seq: one
    review of what all replicas did. Each chain is verified as it is read; a break raises
    AuditChainError (its `path` names the file)."""
    if len({active.resolve() for active in actives}) != len(actives):
        raise AuditChainError(1, "a chain is named twice: its entries would be shown twice")
    walks = []
    owners: dict[str | None, Path] = {}
    for active in actives:
        walk = _named_walk(active)
        first = next(walk, None)
        if first is None:
            continue
        replica = first.get(REPLICA)
        if replica in owners:  # a copy of one chain, or two chains claiming one replica
            raise AuditChainError(
                1, f"{owners[replica]} and {active} are both the chain of replica {replica!r}"
            )
        owners[replica] = active
        walks.append(itertools.chain([first], walk))
    return heapq.merge(*walks, key=lambda entry: (entry["ts"], entry.get(REPLICA) or "", entry["seq"]))


def _named_walk(active: Path) -> Iterator[dict[str, Any]]:
    try:
        yield from one_replica(walk_segments(active))
    except AuditChainError as exc:
        raise AuditChainError(exc.line, f"{active}: {exc.reason}") from exc


def find_entry(active: Path, seq: int) -> dict[str, Any] | None:
    """Entry `seq` of a chain that holds throughout, or None when there is none; raises AuditChainError
    where the chain breaks."""
    found = None
    for entry in walk_segments(active):
        if entry["seq"] == seq:
            found = entry
    return found


def parse_entry(raw: bytes) -> dict[str, Any] | None:
    """One line read as an entry: its JSON object, or None when it is none (empty, torn, not JSON)."""
    try:
        entry = json.loads(raw)
    except ValueError:
        return None
    return entry if isinstance(entry, dict) else None
