"""The writer on a disk that fills up and empties again: refusal, recovery, the gap on record; and
`repair` of a torn last line. A real (tmpfs) filesystem runs out of space: no faked system calls."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest

from gateway.audit import AuditLog, repair_torn_tail, review_chain, verify_chain
from gateway.audit._writer import RECOVERY_HEADROOM_BYTES, RETRY_INTERVAL_S
from gateway.errors import AuditChainError, AuditEntryError, AuditWriteError
from tests.small_disk import SmallDisk
from tests.unit.audit.test_audit import ENTRY, write_entries

LARGE = dataclasses.replace(ENTRY, reasons=({"rule": "x" * 6000, "effect": "allow", "source": "test"},))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def entries(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def failing_log(disk: SmallDisk, clock: Clock) -> AuditLog:
    """A log whose write hit a full disk part way through its line."""
    log = AuditLog.open(disk.path / "audit.jsonl", fsync=True, clock=clock)
    disk.fill(leave=4096)
    log.write(ENTRY)
    with pytest.raises(AuditWriteError, match="No space left"):
        write_until_full(log)
    return log


def write_until_full(log: AuditLog) -> None:
    while True:
        log.write(LARGE)


async def test_a_full_disk_makes_the_log_unusable_until_it_has_room(small_disk: SmallDisk) -> None:
    clock = Clock()
    log = AuditLog.open(small_disk.path / "audit.jsonl", fsync=True, clock=clock)
    small_disk.fill()  # not one page left: the first write writes nothing
    with pytest.raises(AuditWriteError, match="No space left"):
        await log.append(ENTRY)
    assert not log.usable
    with pytest.raises(AuditWriteError, match="unusable"):
        await log.append(ENTRY)
    with pytest.raises(AuditWriteError, match="unusable"):
        log.check_usable()
    clock.now += RETRY_INTERVAL_S
    assert not log.recover()  # still full: nothing written, still refused
    assert not log.usable
    small_disk.free()
    assert not log.recover()  # retried at most once per interval
    clock.now += RETRY_INTERVAL_S
    assert log.recover()
    assert log.usable
    await log.append(ENTRY)
    log.close()
    written = entries(small_disk.path / "audit.jsonl")
    gap = [entry for entry in written if entry["event"] == "audit_gap"]
    assert len(gap) == 1
    assert gap[0]["gap"]["unwritten"] == {"tool_call": 3}  # the failed write, the refused two
    assert gap[0]["gap"]["error"] == "No space left on device"
    assert gap[0]["gap"]["dropped_bytes"] == 0
    assert written[-1]["event"] == "tool_call" and written[-1]["prev_hash"] == gap[0]["entry_hash"]
    assert verify_chain(small_disk.path / "audit.jsonl").entries == len(written)


async def test_a_partial_line_is_cut_off_and_counted(small_disk: SmallDisk) -> None:
    clock = Clock()
    log = failing_log(small_disk, clock)
    path = small_disk.path / "audit.jsonl"
    partial = path.stat().st_size - sum(len(line) + 1 for line in path.read_bytes().splitlines()[:-1])
    assert not path.read_bytes().endswith(b"\n")  # the failed write left part of its line
    small_disk.free()
    clock.now += RETRY_INTERVAL_S
    assert log.recover()
    log.close()
    gap = entries(path)[-1]
    assert gap["gap"]["dropped_bytes"] == partial > 0
    verify_chain(path)


async def test_held_outcomes_are_written_after_the_gap(small_disk: SmallDisk) -> None:
    clock = Clock()
    log = failing_log(small_disk, clock)
    log.hold(ENTRY.adding(intent_seq=2))
    small_disk.free()
    clock.now += RETRY_INTERVAL_S
    assert log.recover()
    log.close()
    gap, held = entries(small_disk.path / "audit.jsonl")[-2:]
    assert gap["event"] == "audit_gap" and gap["gap"]["held_outcomes"] == 1
    assert held["intent_seq"] == 2 and held["seq"] == gap["seq"] + 1


async def test_repair_moves_a_torn_tail_aside_and_records_it(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await write_entries(path, 3)
    torn = b'{"seq":4,"event":"tool_c'
    path.write_bytes(path.read_bytes() + torn)
    with pytest.raises(AuditWriteError, match=f"aegis audit repair {path}"):
        AuditLog.open(path, fsync=False)
    repair = repair_torn_tail(path)
    assert repair is not None
    assert repair.side_file.read_bytes() == torn
    assert repair.entry["event"] == "repaired" and repair.entry["seq"] == 4
    assert repair.entry["repair"]["removed_bytes"] == len(torn)
    assert verify_chain(path).entries == 4
    await write_entries(path, 1)  # the gateway starts again and chains on
    assert verify_chain(path).entries == 5
    assert repair_torn_tail(path) is None


async def test_repair_refuses_a_chain_broken_before_the_tail(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await write_entries(path, 3)
    content = path.read_bytes().replace(b'"allowed"', b'"denied"', 1)
    path.write_bytes(content + b"{torn")
    with pytest.raises(AuditChainError, match="line 1"):
        repair_torn_tail(path)
    assert path.read_bytes() == content + b"{torn"  # evidence is left as it was
    assert sorted(path.name for path in os.scandir(tmp_path)) == ["audit.jsonl"]


async def test_repair_waits_for_the_gateway_to_let_go(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog.open(path, fsync=False)
    with pytest.raises(AuditWriteError, match="locked"):
        repair_torn_tail(path)
    log.close()


async def test_review_lists_intents_without_an_outcome(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog.open(path, fsync=False)
    finished = await log.append(ENTRY.intent())
    await log.append(ENTRY.adding(intent_seq=finished["seq"]))
    unfinished = await log.append(ENTRY.intent())
    log.close()
    report = review_chain(path)
    assert [intent["seq"] for intent in report.unfinished_intents] == [unfinished["seq"]]


async def test_an_entry_the_verifier_would_refuse_is_never_held(small_disk: SmallDisk) -> None:
    clock = Clock()
    log = failing_log(small_disk, clock)
    with pytest.raises(AuditEntryError, match="unknown fields: oops"):
        log.hold(ENTRY.adding(oops=1))
    with pytest.raises(AuditEntryError, match="unknown fields: oops"):
        await log.append(ENTRY.adding(oops=1))  # refused as a bug, not counted as unwritten
    small_disk.free()
    clock.now += RETRY_INTERVAL_S
    assert log.recover()
    log.close()


async def test_a_disk_with_only_a_little_room_does_not_recover_the_log(small_disk: SmallDisk) -> None:
    """A short gap entry would fit in a few KiB while the next call's entries would not: recovering
    then would flap between usable and full, a gap entry each time. Only real headroom recovers."""
    clock = Clock()
    log = AuditLog.open(small_disk.path / "audit.jsonl", fsync=True, clock=clock)
    small_disk.fill()
    with pytest.raises(AuditWriteError):
        await log.append(ENTRY)
    small_disk.free()
    small_disk.fill(leave=RECOVERY_HEADROOM_BYTES // 4)
    clock.now += RETRY_INTERVAL_S
    assert not log.recover()
    small_disk.free()
    clock.now += RETRY_INTERVAL_S
    assert log.recover()
    log.close()
    gaps = [entry for entry in entries(small_disk.path / "audit.jsonl") if entry["event"] == "audit_gap"]
    assert len(gaps) == 1
