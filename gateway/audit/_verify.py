"""`aegis audit verify`: walk the chain and raise at the first line that breaks it."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gateway.audit._chain import ENTRY_FIELDS, EVENT_FIELDS, GENESIS_HASH, canonical_json, entry_hash
from gateway.errors import AuditChainError


@dataclasses.dataclass(frozen=True)
class ChainHead:
    """The state of an intact chain: how many entries it holds and the hash of the last one."""

    entries: int
    head_hash: str


def verify_chain(path: Path) -> ChainHead:
    """Return the chain's head when every entry holds; raise AuditChainError at the first that does not.

    Example:
        head = verify_chain(Path("var/audit.jsonl"))
    """
    head = ChainHead(entries=0, head_hash=GENESIS_HASH)
    for entry in walk_chain(path):
        head = ChainHead(entries=entry["seq"], head_hash=entry["entry_hash"])
    return head


def find_entry(path: Path, seq: int) -> dict[str, Any] | None:
    """Entry `seq` of a chain that holds from its first line to its last, or None when there is none;
    raises AuditChainError where the chain breaks."""
    found = None
    for entry in walk_chain(path):
        if entry["seq"] == seq:
            found = entry
    return found


def walk_chain(path: Path) -> Iterator[dict[str, Any]]:
    """Every entry, in order, each checked against the one before it."""
    prev_hash = GENESIS_HASH
    count = 0
    with path.open("rb") as lines:
        for line_no, raw in enumerate(lines, start=1):
            entry = _parse_line(raw, line_no)
            if entry["seq"] != count + 1:
                raise AuditChainError(line_no, f"seq is {entry['seq']!r}, expected {count + 1}")
            if entry["prev_hash"] != prev_hash:
                raise AuditChainError(line_no, "prev_hash does not match the previous entry's entry_hash")
            if entry["entry_hash"] != entry_hash(entry):
                raise AuditChainError(line_no, "entry_hash does not match the entry's content")
            if raw != canonical_json(entry) + b"\n":
                # Duplicate keys, spacing or key order outside the canonical form could show a reader
                # other than this one a different entry under the same hash.
                raise AuditChainError(line_no, "line is not in canonical JSON form")
            prev_hash = entry["entry_hash"]
            count += 1
            yield entry


def _parse_line(raw: bytes, line_no: int) -> dict[str, Any]:
    if not raw.endswith(b"\n"):
        raise AuditChainError(line_no, "line is not terminated (truncated write?)")
    try:
        entry = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise AuditChainError(line_no, "not valid UTF-8 JSON") from None
    if not isinstance(entry, dict):
        raise AuditChainError(line_no, "not a JSON object")
    event = entry.get("event")
    required, optional = EVENT_FIELDS.get(event, ((), ())) if isinstance(event, str) else ((), ())
    missing = [name for name in (*ENTRY_FIELDS, *required) if name not in entry]
    if not missing and event not in EVENT_FIELDS:
        raise AuditChainError(line_no, f"unknown event {str(event)[:40]!r}")
    if missing:
        raise AuditChainError(line_no, f"missing fields: {', '.join(missing)}")
    unknown = sorted(set(entry) - {*ENTRY_FIELDS, *required, *optional})
    if unknown:
        raise AuditChainError(line_no, f"unknown fields: {', '.join(unknown)}")
    if not isinstance(entry["seq"], int) or isinstance(entry["seq"], bool):
        raise AuditChainError(line_no, "seq is not an integer")
    return entry
