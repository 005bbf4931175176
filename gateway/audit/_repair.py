"""`aegis audit repair`: move a torn last line aside and record that in the chain.

A write interrupted by a crash (kill -9 while the disk was full, say) can leave an unterminated last
line, and the gateway refuses to chain onto it. Repair verifies every whole line first: it moves only a
torn tail, never a chain broken before it, which is evidence to keep.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import time
from pathlib import Path
from typing import Any

from gateway.audit._entry import Entry
from gateway.audit._opening import lock_log
from gateway.audit._segments import first_entry, start_point
from gateway.audit._verify import head_of, walk_chain
from gateway.audit._writer import AuditLog, write_durably

CHUNK = 64 << 10


@dataclasses.dataclass(frozen=True)
class Repair:
    """What a repair did: the torn bytes moved to `side_file`, and the `repaired` entry that says so."""

    removed_bytes: int
    side_file: Path
    entry: dict[str, Any]


def repair_torn_tail(path: Path, *, fsync: bool = True) -> Repair | None:
    """Move the bytes after the last whole line to a side file and append a `repaired` entry; None when
    the log ends with a whole line. Raises AuditChainError when a whole line breaks the chain, and
    AuditWriteError when the gateway (or another repair) holds the log."""
    fd = lock_log(path, create=False)
    try:
        size = os.fstat(fd).st_size
        whole = _whole_lines_length(fd, size)
        head = head_of(walk_chain(path, stop_at=whole, after=start_point(first_entry(fd))))
        if whole == size:
            return None
        torn = os.pread(fd, size - whole, whole)
        side_file = _write_side_file(path, torn)
        os.ftruncate(fd, whole)
        os.fsync(fd)
        log = AuditLog(path, fd, head, size=whole, fsync=fsync)
        entry = log.write(_repaired_entry(torn, side_file))
        return Repair(removed_bytes=len(torn), side_file=side_file, entry=entry)
    finally:
        os.close(fd)


def _whole_lines_length(fd: int, size: int) -> int:
    """The length of the file up to and including its last newline."""
    end = size
    while end > 0:
        start = max(0, end - CHUNK)
        newline = os.pread(fd, end - start, start).rfind(b"\n")
        if newline >= 0:
            return start + newline + 1
        end = start
    return 0


def _write_side_file(path: Path, torn: bytes) -> Path:
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    side_file = path.with_name(f"{path.name}.torn-{stamp}-{hashlib.sha256(torn).hexdigest()[:12]}")
    write_durably(side_file, torn, new=True)
    return side_file


def _repaired_entry(torn: bytes, side_file: Path) -> Entry:
    repair = {
        "removed_bytes": len(torn),
        "removed_sha256": hashlib.sha256(torn).hexdigest(),
        "side_file": side_file.name,
    }
    return Entry(event="repaired", outcome="allowed", detail={"repair": repair})
