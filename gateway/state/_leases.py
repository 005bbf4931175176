"""Leases of scheduled slots: which replica runs a job's slot. A slot is claimed by inserting its row
under the table's unique key; the insert that finds the row there changes nothing, so exactly one caller
per (job, slot) is told it holds the lease, on any replica sharing the database."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable

from gateway.state._database import Database

# Rows of a job older than this before its newest claim are removed as it claims: a slot is claimed
# within a minute or two of its time, so a week is far past any replica that could still ask for it.
DEFAULT_RETAIN_S = 7 * 24 * 3600.0


class ScheduleLeases:
    """Example:
    leases = ScheduleLeases(db)
    if await leases.claim("nightly-triage", slot, holder="gateway-0"):
        ...  # this replica runs the slot; every other claim of it is refused
    """

    def __init__(
        self,
        db: Database,
        *,
        retain_s: float = DEFAULT_RETAIN_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._db = db
        self._retain_s = retain_s
        self._clock = clock

    async def claim(self, job: str, slot: dt.datetime, *, holder: str) -> bool:
        """Whether this caller holds `job`'s `slot` (an aware datetime, whole seconds): True for exactly
        one caller per (job, slot), and never again for that slot. Raises StateUnavailable when the
        database fails (then nobody was told they hold it by this call)."""
        second = _second(slot)
        async with self._db.transaction() as tx:
            inserted = await tx.execute(
                "INSERT INTO schedule_leases (job, slot, holder, claimed) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (job, slot) DO NOTHING",
                (job, second, holder, self._clock()),
            )
            if inserted == 1:
                await tx.execute(
                    "DELETE FROM schedule_leases WHERE job = ? AND slot < ?",
                    (job, second - int(self._retain_s)),
                )
        return inserted == 1

    async def last_slot(self, job: str) -> dt.datetime | None:
        """The latest slot of `job` claimed by anyone (None: never), in UTC."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone("SELECT max(slot) AS slot FROM schedule_leases WHERE job = ?", (job,))
        if row is None or row["slot"] is None:
            return None
        return dt.datetime.fromtimestamp(int(row["slot"]), dt.UTC)


def _second(slot: dt.datetime) -> int:
    if slot.tzinfo is None or slot.utcoffset() is None:
        raise ValueError(f"a slot is an aware datetime (UTC), got the naive {slot.isoformat()}")
    if slot.microsecond:
        raise ValueError(f"a slot is a whole second, got {slot.isoformat()}")
    return int(slot.timestamp())
