"""`aegis audit verify`: walk the chain and raise at the first line that breaks it."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from gateway.audit._chain import (
    GENESIS_HASH,
    INTENT_EVENT,
    INTENT_SEQ,
    REPLICA,
    canonical_json,
    entry_hash,
    field_problem,
)
from gateway.errors import AuditChainError, TornTailError


@dataclasses.dataclass(frozen=True)
class ChainHead:
    """The state of an intact chain: how many entries it holds and the hash of the last one."""

    entries: int
    head_hash: str


@dataclasses.dataclass(frozen=True)
class ChainReport:
    """An intact chain's head, and the writes whose intent it records without an outcome: the gateway
    stopped between sending them to Gitea and recording what Gitea answered."""

    head: ChainHead
    unfinished_intents: tuple[dict[str, Any], ...]
    replica: str | None = None  # whose chain it is, when replicas each write their own


def verify_chain(path: Path) -> ChainHead:
    """Return the chain's head when every entry holds; raise AuditChainError at the first that does not.

    Example:
        head = verify_chain(Path("var/audit.jsonl"))
    """
    return head_of(walk_chain(path))


def review_entries(entries: Iterator[dict[str, Any]]) -> ChainReport:
    """The report of a walk over a chain's entries."""
    open_intents: dict[int, dict[str, Any]] = {}
    head = ChainHead(entries=0, head_hash=GENESIS_HASH)
    replica: str | None = None
    for entry in one_replica(entries):
        if head.entries == 0:
            replica = entry.get(REPLICA)
        if entry["event"] == INTENT_EVENT:
            open_intents[entry["seq"]] = entry
        elif INTENT_SEQ in entry:
            open_intents.pop(entry[INTENT_SEQ], None)
        head = ChainHead(entries=entry["seq"], head_hash=entry["entry_hash"])
    return ChainReport(head=head, unfinished_intents=tuple(open_intents.values()), replica=replica)


def one_replica(entries: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """The entries, refusing one of another replica than the first's: one chain is one replica's, so
    another's entry in it was put there by someone else."""
    replica: str | None = None
    for count, entry in enumerate(entries):
        if count == 0:
            replica = entry.get(REPLICA)
        elif entry.get(REPLICA) != replica:
            raise AuditChainError(
                entry["seq"], f"entry of replica {entry.get(REPLICA)!r} in the chain of replica {replica!r}"
            )
        yield entry


def head_of(entries: Iterator[dict[str, Any]]) -> ChainHead:
    head = ChainHead(entries=0, head_hash=GENESIS_HASH)
    for entry in entries:
        head = ChainHead(entries=entry["seq"], head_hash=entry["entry_hash"])
    return head


@dataclasses.dataclass(frozen=True)
class ChainPoint:
    """A point of the chain trusted without walking to it: entry `head.entries` ends at byte `offset`."""

    head: ChainHead
    offset: int


START = ChainPoint(ChainHead(entries=0, head_hash=GENESIS_HASH), offset=0)


def walk_chain(
    path: Path, *, stop_at: int | None = None, after: ChainPoint = START
) -> Iterator[dict[str, Any]]:
    """Every entry, in order, each checked against the one before it; with `stop_at`, only those of the
    file's first `stop_at` bytes (which must end with a whole line); with `after`, only those after it
    (an entry is one line, so line numbers stay those of the file)."""
    return (entry for entry, _ in walk_lines(path, stop_at=stop_at, after=after))


def walk_lines(
    path: Path, *, stop_at: int | None = None, after: ChainPoint = START
) -> Iterator[tuple[dict[str, Any], int]]:
    """walk_chain's entries, each with the byte offset at which its line ends."""
    prev_hash = after.head.head_hash
    count = after.head.entries
    end = after.offset
    with path.open("rb") as handle:
        handle.seek(after.offset)
        lines = handle if stop_at is None else _lines_within(handle, stop_at - after.offset)
        for line_no, raw in enumerate(lines, start=count + 1):
            entry = _parse_line(raw, line_no)
            if entry["seq"] != count + 1:
                raise AuditChainError(line_no, f"seq is {entry['seq']!r}, expected {count + 1}")
            if entry["prev_hash"] != prev_hash:
                raise AuditChainError(line_no, "prev_hash does not match the previous entry's entry_hash")
            canonical = raw == canonical_json(entry) + b"\n"
            if entry["entry_hash"] != (_hash_of_canonical(raw, entry) if canonical else entry_hash(entry)):
                raise AuditChainError(line_no, "entry_hash does not match the entry's content")
            if not canonical:
                # Duplicate keys, spacing or key order outside the canonical form could show a reader
                # other than this one a different entry under the same hash.
                raise AuditChainError(line_no, "line is not in canonical JSON form")
            prev_hash = entry["entry_hash"]
            count += 1
            end += len(raw)
            yield entry, end


def _hash_of_canonical(raw: bytes, entry: dict[str, Any]) -> str:
    """entry_hash(entry), taken from its canonical line without encoding it again: the line less its
    `"entry_hash":...,` member (never the last: `event` sorts after it) is the canonical form it hashes."""
    member = b'"entry_hash":' + canonical_json(entry["entry_hash"]) + b","
    body = raw[:-1].replace(member, b"", 1)
    return hashlib.sha256(body).hexdigest() if len(body) < len(raw) - 1 else entry_hash(entry)


def _lines_within(lines: Iterable[bytes], limit: int) -> Iterator[bytes]:
    consumed = 0
    for raw in lines:
        consumed += len(raw)
        if consumed > limit:
            return
        yield raw


def _parse_line(raw: bytes, line_no: int) -> dict[str, Any]:
    if not raw.endswith(b"\n"):
        raise TornTailError(line_no, "line is not terminated (truncated write?)")
    try:
        entry = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise AuditChainError(line_no, "not valid UTF-8 JSON") from None
    if not isinstance(entry, dict):
        raise AuditChainError(line_no, "not a JSON object")
    problem = field_problem(entry)
    if problem is not None:
        raise AuditChainError(line_no, problem)
    if not isinstance(entry["seq"], int) or isinstance(entry["seq"], bool):
        raise AuditChainError(line_no, "seq is not an integer")
    return entry
