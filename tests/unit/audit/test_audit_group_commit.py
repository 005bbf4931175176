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

from gateway.audit import AuditLog, verify_chain
from gateway.errors import AuditWriteError
from tests.unit.audit.test_audit import ENTRY
from tests.unit.audit.test_audit_faults import entries


class Fsyncs:
    """os.fsync, counted, and held back on demand (in whichever thread calls it)."""

    def __init__(self) -> None:
        self.calls = 0
        self.threads: set[str] = set()
        self.gate = threading.Event()
        self.gate.set()
        self.failure: OSError | None = None
        self._real: Callable[[int], None] = os.fsync

    def __call__(self, fd: int) -> None:
        self.calls += 1
        self.threads.add(threading.current_thread().name)
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
    fsyncs.failure = OSError(errno.EIO, os.strerror(errno.EIO))
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
