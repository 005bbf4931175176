"""The audit log against someone who can write its files but holds no key, and against faults in the
middle of its own upkeep: each of these once got through."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit import AuditLog, CheckpointSigner, Rotation, review_chain
from gateway.audit._segments import closed_segments
from gateway.audit._writer import RETRY_INTERVAL_S
from gateway.errors import AuditWriteError
from tests.small_disk import SmallDisk
from tests.unit.audit.test_audit import ENTRY
from tests.unit.audit.test_audit_checkpoints import plan, write
from tests.unit.audit.test_audit_faults import Clock, entries, failing_log


def _truncate_to_lines(path: Path, count: int) -> None:
    path.write_bytes(b"".join(path.read_bytes().splitlines(keepends=True)[:count]))


# F1: the sink's *last* line is trusted; an attacker who can append to the sink (not rewrite it) and
# cut the log replays an older, validly signed checkpoint line and start-up accepts the shorter log.
def test_replaying_an_old_checkpoint_in_the_sink_hides_truncation_at_start(tmp_path: Path) -> None:
    path = write(tmp_path, 7)  # sink: checkpoints of seq 3, 7, 9; the log holds 10 entries
    sink = tmp_path / "sink.jsonl"
    _truncate_to_lines(path, 4)  # the attacker cuts entries 5..10
    with pytest.raises(AuditWriteError, match="removed from its end"):
        AuditLog.open(path, fsync=False, checkpointing=plan(tmp_path))  # caught without the replay
    first_line = sink.read_bytes().splitlines(keepends=True)[0]
    with sink.open("ab") as handle:
        handle.write(first_line)  # a replay: signed by the gateway's own key
    with pytest.raises(AuditWriteError, match="lines were replayed"):
        AuditLog.open(path, fsync=False, checkpointing=plan(tmp_path)).close()


# F1b: a line signed by any other key (the attacker's own) makes start-up skip the truncation check.
def test_a_foreign_key_line_in_the_sink_disables_the_truncation_check(tmp_path: Path) -> None:
    path = write(tmp_path, 7)
    _truncate_to_lines(path, 4)
    mallory = CheckpointSigner(Ed25519PrivateKey.generate())
    with (tmp_path / "sink.jsonl").open("ab") as handle:
        handle.write(mallory.sign(seq=1, head_hash="0" * 64, offset=1, ts="x").line())
    with pytest.raises(AuditWriteError, match="removed from its end"):
        AuditLog.open(path, fsync=False, checkpointing=plan(tmp_path)).close()


# F2: SIGHUP (reopen) while the log is unusable must leave the file with the partial line in place, so
# that the recovery cuts it there and the gap entry follows it; the new segment opens after.
def test_sighup_while_unusable_lets_the_recovery_cut_the_partial_line_first(small_disk: SmallDisk) -> None:
    clock = Clock()
    log = failing_log(small_disk, clock)
    moved = small_disk.path / "audit.jsonl.1"
    (small_disk.path / "audit.jsonl").rename(moved)  # logrotate, then SIGHUP
    log.reopen()
    small_disk.free()
    clock.now += RETRY_INTERVAL_S
    assert log.recover()
    log.write(ENTRY)
    log.close()
    assert moved.read_bytes().endswith(b"\n"), "the moved segment still ends with a torn line"
    gap = entries(moved)[-1]
    assert gap["event"] == "audit_gap" and gap["gap"]["dropped_bytes"] > 0
    opened = entries(small_disk.path / "audit.jsonl")[0]
    assert opened["event"] == "segment_start" and opened["prev_hash"] == gap["entry_hash"]


# F3: write() re-checks nothing after reopen(): when the new segment's segment_start fails, the caller's
# entry is still written (and reported written) at the head of the new file, ahead of segment_start.
def test_an_entry_is_not_written_after_the_new_segment_could_not_be_opened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog.open(path, fsync=False)
    log.write(ENTRY)
    path.rename(tmp_path / "audit.jsonl.1")
    real_write, calls = os.write, []

    def flaky(fd: int, data: bytes) -> int:
        calls.append(data)
        if len(calls) == 1:  # the segment_start: a transient ENOSPC
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", flaky)
    with pytest.raises(AuditWriteError):
        log.write(ENTRY.intent())


# F4: an error of the retention that follows a rotation must not escape write() after the entry is on
# disk: the service would answer an error for a write that ran, and a retrying agent write twice.
def test_a_retention_error_does_not_escape_write_after_the_entry_is_on_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog.open(path, fsync=False, rotation=Rotation(max_bytes=1, retain_segments=1))
    log.write(ENTRY)  # rotates: one closed segment, nothing to remove yet

    def refused(self: Path, missing_ok: bool = False) -> None:
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(Path, "unlink", refused)
    log.write(ENTRY)  # rotates again; retention cannot remove the oldest segment
    log.close()
    assert len(closed_segments(path)) == 2
    review_chain(path)


# F5: a log moved away (logrotate without copytruncate) or copytruncated is "followed", but the chain it
# leaves can never verify again: nothing records the removal of what came before.
def test_a_log_moved_away_still_verifies(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog.open(path, fsync=False)
    log.write(ENTRY)
    path.rename(tmp_path / "audit.jsonl.1")
    log.reopen()
    log.write(ENTRY)
    log.close()
    review_chain(path)


# F6: start-up skips the signed checkpoint when it lies in a closed segment, and _check_link only looks at
# the newest closed segment when its *name* says it ends where the active one starts: deleting that
# segment (all of it, the entry the last checkpoint names included) goes unnoticed at start.
def test_deleting_the_newest_closed_segment_stops_the_start(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    rotation = Rotation(max_bytes=2000)
    log = AuditLog.open(
        path, fsync=False, checkpointing=plan(tmp_path, every_entries=1000), rotation=rotation
    )
    for _ in range(12):
        log.write(ENTRY)
    log.close()
    segments = closed_segments(path)
    assert len(segments) >= 2
    segments[-1].path.unlink()  # the entries the last rotation closed, and their checkpoint
    with pytest.raises(AuditWriteError):
        AuditLog.open(path, fsync=False, checkpointing=plan(tmp_path, every_entries=1000), rotation=rotation)
