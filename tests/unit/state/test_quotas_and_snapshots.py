"""Write quotas per key and day, and the snapshots kept for rollback."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.state import QuotaExceeded, SnapshotError, SnapshotStore, StateDB, WriteQuotas
from gateway.vocabulary import FileSnapshot, WriteQuota

QUOTA = WriteQuota(writes_per_day=3, write_bytes_per_day=100, max_write_bytes=60)
DAY = 86400.0


class Clock:
    def __init__(self) -> None:
        self.now = 20 * 365 * DAY + 3600  # 01:00 UTC

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def db(tmp_path: Path) -> StateDB:
    return StateDB.open(tmp_path / "state.db")


def test_writes_per_day_are_counted_per_key_and_reset_the_next_utc_day(db: StateDB) -> None:
    clock = Clock()
    quotas = WriteQuotas(db, clock=clock)
    for _ in range(3):
        quotas.reserve("agent", QUOTA, size=1)
    with pytest.raises(QuotaExceeded) as exceeded:
        quotas.reserve("agent", QUOTA, size=1)
    assert exceeded.value.limit == "writes_per_day"
    quotas.reserve("other-agent", QUOTA, size=1)  # another key has its own count
    clock.now += DAY
    quotas.reserve("agent", QUOTA, size=1)


def test_bytes_per_day_and_size_of_one_write(db: StateDB) -> None:
    quotas = WriteQuotas(db, clock=Clock())
    with pytest.raises(QuotaExceeded) as too_large:
        quotas.reserve("agent", QUOTA, size=61)
    assert too_large.value.limit == "max_write_bytes"
    quotas.reserve("agent", QUOTA, size=60)
    with pytest.raises(QuotaExceeded, match="41 bytes would exceed") as exceeded:
        quotas.reserve("agent", QUOTA, size=41)
    assert exceeded.value.limit == "write_bytes_per_day"
    quotas.reserve("agent", QUOTA, size=40)


def test_a_refused_reservation_counts_nothing_and_a_refund_gives_back(db: StateDB) -> None:
    quotas = WriteQuotas(db, clock=Clock())
    reservations = [quotas.reserve("agent", QUOTA, size=10) for _ in range(3)]
    quotas.refund(reservations[0])
    quotas.reserve("agent", QUOTA, size=10)
    with pytest.raises(QuotaExceeded):
        quotas.reserve("agent", QUOTA, size=10)


SNAPSHOT = FileSnapshot(
    repo="acme/app",
    path="docs/a.md",
    branch="main",
    previous_sha="1" * 40,
    previous_content=b"old\x00bytes",
    new_sha="2" * 40,
    commit_sha="3" * 40,
)


def test_a_snapshot_keeps_the_exact_previous_bytes_and_is_used_once(db: StateDB) -> None:
    snapshots = SnapshotStore(db)
    snapshot_id = snapshots.save(SNAPSHOT, request_id="r1")
    stored = snapshots.get(snapshot_id)
    assert stored.snapshot == SNAPSHOT and stored.rolled_back_by is None
    snapshots.claim(snapshot_id)
    with pytest.raises(SnapshotError, match="already rolled back"):
        snapshots.claim(snapshot_id)
    snapshots.release(snapshot_id)
    snapshots.claim(snapshot_id)
    snapshots.complete(snapshot_id, seq=42)
    assert snapshots.get(snapshot_id).rolled_back_by == 42
    with pytest.raises(SnapshotError, match="no snapshot"):
        snapshots.get("snap_missing")
