"""Two replicas racing on one state database: an approval runs one call, a quota is spent once, a
decision and a snapshot's claim happen once, a held call asks for one approval, a webhook delivery is
accepted once, a scheduled slot is run by one replica."""

from __future__ import annotations

import asyncio
import datetime as dt

from gateway.errors import Kind
from gateway.state import (
    ApprovalError,
    ApprovalKey,
    ApprovalStore,
    Database,
    QuotaExceeded,
    ScheduleLeases,
    SnapshotError,
    SnapshotStore,
    WebhookDeliveries,
    WriteQuotas,
)
from gateway.vocabulary import FileSnapshot, WriteQuota

KEY = ApprovalKey(tool="create_issue", args_sha256="c" * 64, principal="agent", revision="rev1")
RACERS = 12


async def ask(store: ApprovalStore) -> tuple[str, str]:
    approval, outcome = await store.gate(KEY, repo="acme/app", path=None, arguments={}, request_id="r")
    return approval.id, outcome


async def test_one_held_call_asks_for_one_approval(replicas: tuple[Database, Database]) -> None:
    stores = [ApprovalStore(database, ttl_s=600) for database in replicas]
    asked = await asyncio.gather(*(ask(stores[i % 2]) for i in range(RACERS)))
    assert {outcome for _, outcome in asked} == {"pending"}
    assert len({approval_id for approval_id, _ in asked}) == 1


async def test_an_approval_runs_exactly_one_call(replicas: tuple[Database, Database]) -> None:
    stores = [ApprovalStore(database, ttl_s=600) for database in replicas]
    approval_id, _ = await ask(stores[0])
    await stores[1].decide(approval_id, approve=True, approver="alice")
    raced = await asyncio.gather(*(ask(stores[i % 2]) for i in range(RACERS)))
    ran = [approval for approval, outcome in raced if outcome == "run"]
    assert ran == [approval_id]


async def test_two_approvers_racing_decide_once(replicas: tuple[Database, Database]) -> None:
    stores = [ApprovalStore(database, ttl_s=600) for database in replicas]
    approval_id, _ = await ask(stores[0])
    results = await asyncio.gather(
        stores[0].decide(approval_id, approve=True, approver="alice"),
        stores[1].decide(approval_id, approve=False, approver="bob"),
        return_exceptions=True,
    )
    refused = [result for result in results if isinstance(result, ApprovalError)]
    assert len(refused) == 1 and refused[0].kind is Kind.CONFLICT


async def test_a_quota_is_spent_once_across_replicas(replicas: tuple[Database, Database]) -> None:
    quota = WriteQuota(writes_per_day=5, write_bytes_per_day=1000, max_write_bytes=100)
    quotas = [WriteQuotas(database) for database in replicas]
    results = await asyncio.gather(
        *(quotas[i % 2].reserve("agent", quota, size=10) for i in range(RACERS)), return_exceptions=True
    )
    granted = [result for result in results if not isinstance(result, BaseException)]
    assert len(granted) == 5
    assert all(isinstance(result, QuotaExceeded) for result in results if result not in granted)
    await asyncio.gather(*(quotas[i % 2].refund(granted[i]) for i in range(2)))  # two writes Gitea refused
    again = await asyncio.gather(
        *(quotas[i % 2].reserve("agent", quota, size=10) for i in range(RACERS)), return_exceptions=True
    )
    assert len([result for result in again if not isinstance(result, BaseException)]) == 2


async def test_a_snapshot_is_claimed_by_one_rollback(replicas: tuple[Database, Database]) -> None:
    snapshot = FileSnapshot(
        repo="acme/app",
        path="a.md",
        branch="main",
        previous_sha=None,
        previous_content=None,
        new_sha="1" * 40,
        commit_sha="2" * 40,
    )
    stores = [SnapshotStore(database) for database in replicas]
    snapshot_id = await stores[0].save(snapshot, request_id="r")
    results = await asyncio.gather(
        *(stores[i % 2].claim(snapshot_id) for i in range(RACERS)), return_exceptions=True
    )
    assert results.count(None) == 1
    assert all(isinstance(result, SnapshotError) for result in results if result is not None)


async def test_a_webhook_delivery_is_accepted_by_one_replica(replicas: tuple[Database, Database]) -> None:
    deliveries = [WebhookDeliveries(database) for database in replicas]
    accepted = await asyncio.gather(
        *(deliveries[i % 2].remember("3f1c9a7e-delivery", window_s=3600) for i in range(RACERS))
    )
    assert accepted.count(True) == 1


async def test_a_stale_webhook_delivery_is_renewed_once(replicas: tuple[Database, Database]) -> None:
    """A row older than the window, not pruned yet: of the replicas renewing it at once, one accepts."""
    deliveries = [WebhookDeliveries(database, clock=lambda: 1000.0) for database in replicas]
    await deliveries[0].remember("stale", window_s=3600)
    later = [WebhookDeliveries(database, clock=lambda: 10_000.0) for database in replicas]
    for store in later:  # each prunes now with a wide window, so none prunes the stale row in the race
        await store.remember(f"warm-up-{id(store)}", window_s=100_000)
    accepted = await asyncio.gather(*(later[i % 2].remember("stale", window_s=3600) for i in range(RACERS)))
    assert accepted.count(True) == 1


async def test_a_scheduled_slot_is_claimed_by_one_replica(replicas: tuple[Database, Database]) -> None:
    slot = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
    leases = [ScheduleLeases(database) for database in replicas]
    won = await asyncio.gather(
        *(leases[i % 2].claim("nightly", slot, holder=f"replica-{i % 2}") for i in range(RACERS))
    )
    assert won.count(True) == 1
    holders = await asyncio.gather(*(lease.last_slot("nightly") for lease in leases))
    assert holders == [slot, slot]
