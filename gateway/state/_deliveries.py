"""The webhook deliveries seen lately, so that a delivery replayed within the window runs nothing twice.

One row per delivery id, written by one conditional insert: two replicas sharing PostgreSQL that receive
the same delivery at once cannot both accept it (the primary key decides, the row count says who won).
Rows older than the window are pruned now and then, in the transaction of a delivery, not by a task.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway.state._database import Database

PRUNE_EVERY_S = 60.0  # at most one prune per instance and minute: a delivery rarely pays for one


class WebhookDeliveries:
    """Example:
    deliveries = WebhookDeliveries(db)
    if not await deliveries.remember(delivery_id, window_s=7 * 86400):
        ...  # a replay: run nothing
    """

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock  # wall-clock time: replicas compare each other's rows
        self._pruned_at = float("-inf")

    async def remember(self, delivery_id: str, *, window_s: float) -> bool:
        """True the first time `delivery_id` is seen within `window_s` seconds, False for a replay.
        Raises StateUnavailable when the database cannot say (the caller must refuse, not accept)."""
        now = self._clock()
        cutoff = now - window_s
        async with self._db.transaction() as tx:
            if now - self._pruned_at >= PRUNE_EVERY_S:
                await tx.execute("DELETE FROM webhook_deliveries WHERE received < ?", (cutoff,))
                self._pruned_at = now
            inserted = await tx.execute(
                "INSERT INTO webhook_deliveries (delivery_id, received) VALUES (?, ?)"
                " ON CONFLICT (delivery_id) DO NOTHING",
                (delivery_id, now),
            )
            if inserted == 1:
                return True
            # Seen before, but perhaps before the window and not pruned yet: that is a first time again.
            # Conditional, so that of two replicas renewing one stale row only one sees it stale.
            renewed = await tx.execute(
                "UPDATE webhook_deliveries SET received = ? WHERE delivery_id = ? AND received < ?",
                (now, delivery_id, cutoff),
            )
            return renewed == 1

    async def forget(self, delivery_id: str) -> None:
        """Unsee a delivery that was remembered but could not be taken on (a full queue), so that its
        redelivery is accepted."""
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM webhook_deliveries WHERE delivery_id = ?", (delivery_id,))
