"""Scheduled slots' leases, on both databases: one claim per (job, slot) wins (racing replicas:
test_replica_races.py); the latest claimed slot is remembered; old rows go."""

from __future__ import annotations

import datetime as dt

import pytest

from gateway.state import Database, ScheduleLeases

SLOT = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)


async def test_a_slot_is_claimed_once(db: Database) -> None:
    leases = ScheduleLeases(db)
    assert await leases.claim("nightly", SLOT, holder="a")
    assert not await leases.claim("nightly", SLOT, holder="a")
    assert not await leases.claim("nightly", SLOT, holder="b")


async def test_jobs_and_slots_are_claimed_apart(db: Database) -> None:
    leases = ScheduleLeases(db)
    assert await leases.claim("nightly", SLOT, holder="a")
    assert await leases.claim("hourly", SLOT, holder="a")
    assert await leases.claim("nightly", SLOT + dt.timedelta(hours=1), holder="a")


async def test_the_last_slot_is_the_latest_claimed(db: Database) -> None:
    leases = ScheduleLeases(db)
    assert await leases.last_slot("nightly") is None
    for hours in (2, 0, 1):
        await leases.claim("nightly", SLOT + dt.timedelta(hours=hours), holder="a")
    await leases.claim("other", SLOT + dt.timedelta(hours=5), holder="a")
    last = await leases.last_slot("nightly")
    assert last == SLOT + dt.timedelta(hours=2) and last.tzinfo is dt.UTC


async def test_a_slot_in_another_zone_is_the_same_slot(db: Database) -> None:
    leases = ScheduleLeases(db)
    assert await leases.claim("nightly", SLOT, holder="a")
    assert not await leases.claim("nightly", SLOT.astimezone(dt.timezone(dt.timedelta(hours=-5))), holder="b")


async def test_rows_older_than_the_retention_are_pruned_the_latest_kept(db: Database) -> None:
    leases = ScheduleLeases(db, retain_s=3600)
    await leases.claim("nightly", SLOT, holder="a")
    await leases.claim("nightly", SLOT + dt.timedelta(minutes=30), holder="a")
    await leases.claim("other", SLOT, holder="a")
    await leases.claim("nightly", SLOT + dt.timedelta(hours=2), holder="a")
    async with db.transaction() as tx:
        rows = await tx.fetchall("SELECT job, slot FROM schedule_leases ORDER BY job, slot")
    assert [(row["job"], row["slot"]) for row in rows] == [
        ("nightly", int((SLOT + dt.timedelta(hours=2)).timestamp())),
        ("other", int(SLOT.timestamp())),  # another job's rows go with that job's claims
    ]
    assert await leases.last_slot("nightly") == SLOT + dt.timedelta(hours=2)


@pytest.mark.parametrize(
    ("slot", "message"),
    [
        pytest.param(dt.datetime(2026, 12, 3, 9), "naive", id="naive"),
        pytest.param(SLOT.replace(microsecond=5), "whole second", id="fraction"),
    ],
)
async def test_a_slot_that_is_no_instant_is_refused(db: Database, slot: dt.datetime, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        await ScheduleLeases(db).claim("nightly", slot, holder="a")
