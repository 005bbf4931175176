"""Rotation inside the writer: segments by size and age that verify as one chain, retention that is
itself audited, and a log moved or truncated under the writer followed without losing an entry."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from gateway.audit import AuditLog, Rotation, find_entry, review_chain
from gateway.audit._segments import closed_segments
from gateway.errors import AuditChainError, AuditWriteError
from tests.unit.audit.test_audit import ENTRY
from tests.unit.audit.test_audit_faults import Clock

ENTRY_BYTES = len(json.dumps(ENTRY.fields())) + 200  # about one entry with its chain fields


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def rotating_log(tmp_path: Path, count: int, **rotation: Any) -> Path:
    path = tmp_path / "audit.jsonl"
    log = AuditLog.open(path, fsync=False, rotation=Rotation(max_bytes=4 * ENTRY_BYTES, **rotation))
    for _ in range(count):
        log.write(ENTRY)
    log.close()
    return path


def test_segments_by_size_verify_as_one_chain(tmp_path: Path) -> None:
    path = rotating_log(tmp_path, 20)
    segments = closed_segments(path)
    assert len(segments) >= 4
    assert all(segment.path.stat().st_size <= 5 * ENTRY_BYTES for segment in segments)
    for older, newer in zip(segments, [*segments[1:], None], strict=True):
        following = lines(newer.path if newer else path)[0]
        assert following["event"] == "segment_start"
        assert following["segment"]["previous"] == older.path.name
        assert following["prev_hash"] == lines(older.path)[-1]["entry_hash"]
        assert following["seq"] == older.last_seq + 1
    report = review_chain(path)
    calls = sum(1 for p in [*(s.path for s in segments), path] for e in lines(p) if e["event"] == "tool_call")
    assert calls == 20
    assert report.head.entries == lines(path)[-1]["seq"]
    assert find_entry(path, 2) == lines(segments[0].path)[1]


def test_a_rotated_log_opens_again_and_goes_on(tmp_path: Path) -> None:
    path = rotating_log(tmp_path, 10)
    first_seq = lines(path)[0]["seq"]
    assert first_seq > 1
    rotating_log(tmp_path, 3)
    assert review_chain(path).head.entries == lines(path)[-1]["seq"]


def test_retention_removes_the_oldest_segments_and_says_so(tmp_path: Path) -> None:
    path = rotating_log(tmp_path, 30, retain_segments=2)
    segments = closed_segments(path)
    assert len(segments) == 2
    retained = [e for p in [*(s.path for s in segments), path] for e in lines(p) if e["event"] == "retention"]
    removed = [item for entry in retained for item in entry["retention"]["removed"]]
    # The newest removal on record is the segment just before the first one kept.
    assert removed[-1]["last_seq"] + 1 == segments[0].first_seq
    assert removed[-1]["last_hash"] == lines(segments[0].path)[0]["prev_hash"]
    review_chain(path)  # the first remaining segment verifies: its start is on record


def test_retention_by_age(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    clock = Clock()
    log = AuditLog.open(path, fsync=False, clock=clock, rotation=Rotation(max_age_s=60, retain_s=3600))
    log.write(ENTRY)
    clock.now += 60
    log.maintain()
    (old,) = closed_segments(path)
    os.utime(old.path, (0, 0))  # last written long ago
    log.write(ENTRY)
    clock.now += 60
    log.maintain()
    log.close()
    assert [segment.first_seq for segment in closed_segments(path)] == [2]  # the one just closed stays
    assert not old.path.exists()
    review_chain(path)


def test_a_segment_removed_by_hand_is_caught(tmp_path: Path) -> None:
    path = rotating_log(tmp_path, 20)
    segments = closed_segments(path)
    segments[0].path.unlink()
    with pytest.raises(AuditChainError, match="no retention entry records their removal"):
        review_chain(path)
    segments[2].path.unlink()
    with pytest.raises(AuditChainError, match="expected 11"):  # a hole in the middle
        review_chain(path)


def test_a_segment_that_does_not_go_on_from_the_last_is_refused_at_open(tmp_path: Path) -> None:
    path = rotating_log(tmp_path, 10)
    newest = closed_segments(path)[-1].path
    newest.write_bytes(b"".join(newest.read_bytes().splitlines(keepends=True)[:-1]))
    with pytest.raises(AuditWriteError, match="does not go on from the segment before it"):
        AuditLog.open(path, fsync=False)


def test_a_log_moved_away_is_followed_by_a_new_segment(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog.open(path, fsync=False)
    log.write(ENTRY)
    moved = tmp_path / "audit.jsonl.1"
    path.rename(moved)  # what logrotate does without copytruncate
    before = moved.read_bytes()
    log.reopen()
    log.write(ENTRY)
    log.close()
    assert moved.read_bytes() == before  # the moved file gets nothing more
    first = lines(path)[0]
    assert first["event"] == "segment_start" and first["segment"]["previous"] == str(moved)
    assert first["prev_hash"] == lines(moved)[-1]["entry_hash"]


def test_a_log_truncated_under_the_writer_goes_on_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog.open(path, fsync=False)
    for _ in range(3):
        log.write(ENTRY)
    os.truncate(path, 0)  # logrotate's copytruncate
    log.reopen()
    log.write(ENTRY)
    log.close()
    first, last = lines(path)
    assert first["event"] == "segment_start" and first["segment"]["reason"].startswith("cut short")
    assert first["seq"] == 4 and last["seq"] == 5
    AuditLog.open(path, fsync=False).close()  # the next start is not refused
