"""Group commit: one fsync, in a worker thread, for every entry written while the previous one ran; each
append returns only once its entry is on disk, and an fsync that fails loses nothing silently."""

from __future__ import annotations

import asyncio
import errno
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gateway.audit import AuditLog, Rotation, review_chain, verify_chain
from gateway.errors import AuditWriteError
from tests.unit.audit.test_audit import ENTRY
from tests.unit.audit.test_audit_faults import entries

EIO = OSError(errno.EIO, os.strerror(errno.EIO))


class Fsyncs:
    """os.fsync, recorded: the worker thread's counted, held back by `gate` and failing with `failure`;
    the event loop's (the log's own upkeep) failing with `loop_failure`."""

    def __init__(self) -> None:
        self.calls = 0
        self.threads: set[str] = set()
        self.gate = threading.Event()
        self.gate.set()
        self.failure: OSError | None = None
        self.loop_failure: OSError | None = None
        self._real: Callable[[int], None] = os.fsync

    def __call__(self, fd: int) -> None:
        self.threads.add(threading.current_thread().name)
        if threading.current_thread() is threading.main_thread():
            if self.loop_failure is not None:
                raise self.loop_failure
        else:
            self.calls += 1
            self.gate.wait(timeout=10)
            if self.failure is not None:
                raise self.failure
        self._real(fd)


@pytest.fixture
def fsyncs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Fsyncs]:
    counted = Fsyncs()
    monkeypatch.setattr(os, "fsync", counted)
    yield counted
    counted.gate.set()


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never held")


async def test_concurrent_appends_share_fsyncs_off_the_event_loop(tmp_path: Path, fsyncs: Fsyncs) -> None:
    log = AuditLog.open(tmp_path / "audit.jsonl", fsync=True)
    written = await asyncio.gather(*(log.append(ENTRY) for _ in range(50)))
    log.close()
    assert [entry["seq"] for entry in written] == list(range(1, 51))
    assert 1 <= fsyncs.calls < 50
    assert threading.main_thread().name not in fsyncs.threads
    assert verify_chain(tmp_path / "audit.jsonl").entries == 50


async def test_an_append_returns_only_once_its_entry_is_on_disk(tmp_path: Path, fsyncs: Fsyncs) -> None:
    log = AuditLog.open(tmp_path / "audit.jsonl", fsync=True)
    fsyncs.gate.clear()
    first = asyncio.ensure_future(log.append(ENTRY))
    await until(lambda: fsyncs.calls == 1)
    second = asyncio.ensure_future(log.append(ENTRY))  # written while the first fsync runs
    await asyncio.sleep(0.05)  # the loop is free meanwhile: this sleep ends although the fsync hangs
    assert not first.done() and not second.done()
    fsyncs.gate.set()
    assert (await first)["seq"] == 1
    assert (await second)["seq"] == 2
    assert fsyncs.calls == 2  # the second entry needed an fsync of its own: it came after the first began
    log.close()


async def test_a_failed_fsync_cuts_the_unsynced_entries_and_fails_their_appends(
    tmp_path: Path, fsyncs: Fsyncs
) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog.open(path, fsync=True)
    await log.append(ENTRY)  # on disk before the failure
    fsyncs.failure = EIO
    results = await asyncio.gather(*(log.append(ENTRY) for _ in range(5)), return_exceptions=True)
    assert all(isinstance(result, AuditWriteError) for result in results), results
    assert not log.usable
    fsyncs.failure = None
    assert log.recover(force=True)
    await log.append(ENTRY)
    log.close()
    written = entries(path)
    assert [entry["event"] for entry in written] == ["tool_call", "audit_gap", "tool_call"]
    gap = written[1]["gap"]
    assert gap["unwritten"] == {"tool_call": 5}
    assert gap["dropped_bytes"] > 0
    assert verify_chain(path).entries == 3


async def test_a_cancelled_append_still_reaches_the_disk(tmp_path: Path, fsyncs: Fsyncs) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog.open(path, fsync=True)
    fsyncs.gate.clear()
    waiting = asyncio.ensure_future(log.append(ENTRY))
    await until(lambda: fsyncs.calls == 1)
    waiting.cancel()
    fsyncs.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await log.append(ENTRY)  # the fsync in flight was not cancelled with its waiter
    log.close()
    assert verify_chain(path).entries == 2


async def test_without_fsync_nothing_waits_for_the_disk(tmp_path: Path, fsyncs: Fsyncs) -> None:
    log = AuditLog.open(tmp_path / "audit.jsonl", fsync=False)
    await asyncio.gather(*(log.append(ENTRY) for _ in range(10)))
    log.close()
    assert fsyncs.calls == 0


async def test_an_entry_cut_by_its_own_upkeeps_failed_fsync_fails_its_append(
    tmp_path: Path, fsyncs: Fsyncs
) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog.open(path, fsync=True, rotation=Rotation(max_bytes=1))  # every entry rotates
    fsyncs.loop_failure = EIO  # the rotation's fsync of the entry, on the event loop
    with pytest.raises(AuditWriteError, match="lost"):
        await asyncio.wait_for(log.append(ENTRY), timeout=5)
    fsyncs.loop_failure = None
    assert log.recover(force=True)
    log.close()
    [gap] = entries(path)
    assert gap["event"] == "audit_gap" and gap["gap"]["unwritten"] == {"tool_call": 1}


async def test_an_fsync_begun_before_a_rollback_does_not_count_for_what_follows_it(
    tmp_path: Path, fsyncs: Fsyncs
) -> None:
    path = tmp_path / "audit.jsonl"
    now = [0.0]
    log = AuditLog.open(path, fsync=True, rotation=Rotation(max_age_s=10), clock=lambda: now[0])
    fsyncs.gate.clear()  # the worker's fsync of the first three entries hangs
    first = [asyncio.ensure_future(log.append(ENTRY)) for _ in range(3)]
    await until(lambda: fsyncs.calls == 1)
    now[0], fsyncs.loop_failure = 100, EIO
    log.maintain()  # the age rotation's fsync fails: the three are taken back
    fsyncs.loop_failure = None
    assert log.recover(force=True)
    after = asyncio.ensure_future(log.append(ENTRY))
    await asyncio.sleep(0.05)
    fsyncs.gate.set()  # the stale fsync returns: it covered the file as it was
    await after
    results = await asyncio.gather(*first, return_exceptions=True)
    assert all(isinstance(result, AuditWriteError) for result in results)
    calls = fsyncs.calls
    await log.append(ENTRY)
    assert fsyncs.calls > calls  # made durable by an fsync of its own
    fsyncs.failure = EIO
    with pytest.raises(AuditWriteError):
        await log.append(ENTRY)
    fsyncs.failure = None
    assert log.recover(force=True)
    log.close()
    assert review_chain(path).head.entries == entries(path)[-1]["seq"]  # the whole chain verifies


async def test_a_failed_fsync_in_a_new_segment_cuts_nothing_of_it_but_what_was_not_on_disk(
    tmp_path: Path, fsyncs: Fsyncs
) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog.open(path, fsync=True, rotation=Rotation(max_bytes=1))
    calls = [0]
    real = os.fsync

    def second_fails(fd: int) -> None:  # the new segment's segment_start
        calls[0] += 1
        if calls[0] == 2:
            raise EIO
        real(fd)

    os.fsync = second_fails  # restored by the fixture's monkeypatch
    await log.append(ENTRY)
    assert not log.usable
    assert log.recover(force=True)
    log.close()
    assert b"\0" not in path.read_bytes()
    review_chain(path)  # every segment verifies, chained
