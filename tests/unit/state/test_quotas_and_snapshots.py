"""Write quotas per key and day, and the snapshots kept for rollback."""

from __future__ import annotations

import pytest

from gateway.state import Database, QuotaExceeded, SnapshotError, SnapshotStore, WriteQuotas
from gateway.vocabulary import FileSnapshot, WriteQuota

QUOTA = WriteQuota(writes_per_day=3, write_bytes_per_day=100, max_write_bytes=60)
DAY = 86400.0


class Clock:
    def __init__(self) -> None:
        self.now = 20 * 365 * DAY + 3600  # 01:00 UTC

    def __call__(self) -> float:
        return self.now


async def test_writes_per_day_are_counted_per_key_and_reset_the_next_utc_day(db: Database) -> None:
    clock = Clock()
    quotas = WriteQuotas(db, clock=clock)
    for _ in range(3):
        await quotas.reserve("agent", QUOTA, size=1)
    with pytest.raises(QuotaExceeded) as exceeded:
        await quotas.reserve("agent", QUOTA, size=1)
    assert exceeded.value.limit == "writes_per_day"
    await quotas.reserve("other-agent", QUOTA, size=1)  # another key has its own count
    clock.now += DAY
    await quotas.reserve("agent", QUOTA, size=1)


async def test_bytes_per_day_and_size_of_one_write(db: Database) -> None:
    quotas = WriteQuotas(db, clock=Clock())
    with pytest.raises(QuotaExceeded) as too_large:
        await quotas.reserve("agent", QUOTA, size=61)
    assert too_large.value.limit == "max_write_bytes"
    await quotas.reserve("agent", QUOTA, size=60)
    with pytest.raises(QuotaExceeded, match="41 bytes would exceed") as exceeded:
        await quotas.reserve("agent", QUOTA, size=41)
    assert exceeded.value.limit == "write_bytes_per_day"
    await quotas.reserve("agent", QUOTA, size=40)


async def test_a_refused_reservation_counts_nothing_and_a_refund_gives_back(db: Database) -> None:
    quotas = WriteQuotas(db, clock=Clock())
    reservations = [await quotas.reserve("agent", QUOTA, size=10) for _ in range(3)]
    await quotas.refund(reservations[0])
    await quotas.reserve("agent", QUOTA, size=10)
    with pytest.raises(QuotaExceeded):
        await quotas.reserve("agent", QUOTA, size=10)


SNAPSHOT = FileSnapshot(
    repo="acme/app",
    path="docs/a.md",
    branch="main",
    previous_sha="1" * 40,
    previous_content=b"old\x00bytes",
    new_sha="2" * 40,
    commit_sha="3" * 40,
)


async def test_a_snapshot_keeps_the_exact_previous_bytes_and_is_used_once(db: Database) -> None:
    snapshots = SnapshotStore(db)
    snapshot_id = await snapshots.save(SNAPSHOT, request_id="r1")
    stored = await snapshots.get(snapshot_id)
    assert stored.snapshot == SNAPSHOT and stored.rolled_back_by is None
    await snapshots.claim(snapshot_id)
    with pytest.raises(SnapshotError, match="already rolled back"):
        await snapshots.claim(snapshot_id)
    await snapshots.release(snapshot_id)
    await snapshots.claim(snapshot_id)
    await snapshots.complete(snapshot_id, seq=42)
    assert (await snapshots.get(snapshot_id)).rolled_back_by == 42
    with pytest.raises(SnapshotError, match="no snapshot"):
        await snapshots.get("snap_missing")
