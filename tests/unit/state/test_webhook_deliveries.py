"""Webhook deliveries seen within the replay window: the first time accepted, a replay not, a delivery
older than the window a first time again; old rows are pruned."""

from __future__ import annotations

from gateway.state import Database, WebhookDeliveries
from gateway.state._deliveries import PRUNE_EVERY_S

WINDOW_S = 3600.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


async def rows(db: Database) -> list[str]:
    async with db.transaction() as tx:
        found = await tx.fetchall("SELECT delivery_id FROM webhook_deliveries ORDER BY delivery_id")
    return [row["delivery_id"] for row in found]


async def test_a_delivery_is_new_once_and_a_replay_after(db: Database) -> None:
    deliveries = WebhookDeliveries(db, clock=Clock())
    assert await deliveries.remember("d-1", window_s=WINDOW_S) is True
    assert await deliveries.remember("d-1", window_s=WINDOW_S) is False
    assert await deliveries.remember("d-2", window_s=WINDOW_S) is True


async def test_a_delivery_seen_before_the_window_is_new_again_once(db: Database) -> None:
    clock = Clock()
    deliveries = WebhookDeliveries(db, clock=clock)
    await deliveries.remember("d-1", window_s=WINDOW_S)
    clock.now += 10  # no prune is due yet: the stale row is still there, and renewed
    assert await deliveries.remember("d-1", window_s=5) is True
    assert await deliveries.remember("d-1", window_s=5) is False


async def test_rows_older_than_the_window_are_pruned_at_most_once_a_minute(db: Database) -> None:
    clock = Clock()
    deliveries = WebhookDeliveries(db, clock=clock)
    await deliveries.remember("old", window_s=WINDOW_S)
    clock.now += WINDOW_S + 1
    await deliveries.remember("new", window_s=WINDOW_S)  # a minute and more since the last prune
    assert await rows(db) == ["new"]
    clock.now += 10
    await deliveries.remember("newer", window_s=1)  # "new" is out of this window, but no prune is due
    assert await rows(db) == ["new", "newer"]
    clock.now += PRUNE_EVERY_S
    await deliveries.remember("last", window_s=1)
    assert await rows(db) == ["last"]


async def test_a_forgotten_delivery_is_accepted_again(db: Database) -> None:
    deliveries = WebhookDeliveries(db, clock=Clock())
    await deliveries.remember("d-1", window_s=WINDOW_S)
    await deliveries.forget("d-1")
    assert await deliveries.remember("d-1", window_s=WINDOW_S) is True
