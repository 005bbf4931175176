"""Approvals: bound to the exact call, decided by someone else, expiring, used once."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import Kind
from gateway.state import ApprovalError, ApprovalKey, ApprovalStore, Database, SqliteDatabase, migrate

KEY = ApprovalKey(tool="create_or_update_file", args_sha256="a" * 64, principal="agent", revision="rev1")


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(db: Database, clock: Clock) -> ApprovalStore:
    return ApprovalStore(db, ttl_s=600, clock=clock)


async def gate(store: ApprovalStore, key: ApprovalKey = KEY) -> tuple[str, str]:
    approval, outcome = await store.gate(
        key, repo="acme/app", path="a.txt", arguments={"x": 1}, request_id="r"
    )
    return approval.id, outcome


async def test_a_held_call_stays_pending_under_one_id_until_decided(store: ApprovalStore) -> None:
    first, outcome = await gate(store)
    assert outcome == "pending"
    assert await gate(store) == (first, "pending")
    assert [approval.id for approval in await store.list()] == [first]
    assert (await store.list())[0].as_dict()["arguments"] == {"x": 1}


async def test_an_approval_lets_the_call_run_exactly_once(store: ApprovalStore) -> None:
    approval_id, _ = await gate(store)
    decided = await store.decide(approval_id, approve=True, approver="alice")
    assert (decided.state, decided.decided_by) == ("approved", "alice")
    assert await gate(store) == (approval_id, "run")
    again, outcome = await gate(store)
    assert outcome == "pending" and again != approval_id  # used: the same call needs a new approval
    listed = await store.list()
    assert listed and listed[0].id == again


@pytest.mark.parametrize(
    "other",
    [
        ApprovalKey("create_or_update_file", "b" * 64, "agent", "rev1"),  # other arguments
        ApprovalKey("create_or_update_file", "a" * 64, "other-agent", "rev1"),  # other principal
        ApprovalKey("create_or_update_file", "a" * 64, "agent", "rev2"),  # other bundle
        ApprovalKey("create_pull_request", "a" * 64, "agent", "rev1"),  # other tool
    ],
)
async def test_an_approval_covers_only_its_exact_call(store: ApprovalStore, other: ApprovalKey) -> None:
    approval_id, _ = await gate(store)
    await store.decide(approval_id, approve=True, approver="alice")
    other_id, outcome = await gate(store, other)
    assert outcome == "pending" and other_id != approval_id
    assert await gate(store) == (approval_id, "run")


async def test_a_denied_call_stays_denied_until_the_approval_expires(
    store: ApprovalStore, clock: Clock
) -> None:
    approval_id, _ = await gate(store)
    await store.decide(approval_id, approve=False, approver="alice", reason="not today")
    assert await gate(store) == (approval_id, "denied")
    clock.now += 601
    renewed, outcome = await gate(store)
    assert outcome == "pending" and renewed != approval_id


async def test_an_expired_approval_runs_nothing(store: ApprovalStore, clock: Clock) -> None:
    approval_id, _ = await gate(store)
    await store.decide(approval_id, approve=True, approver="alice")
    clock.now += 601
    renewed, outcome = await gate(store)
    assert outcome == "pending" and renewed != approval_id
    states = {approval.id: approval.state for approval in await store.list(include_closed=True)}
    assert states == {approval_id: "expired", renewed: "pending"}


async def test_an_expired_request_cannot_be_approved(store: ApprovalStore, clock: Clock) -> None:
    approval_id, _ = await gate(store)
    clock.now += 601
    with pytest.raises(ApprovalError, match="expired") as refused:
        await store.decide(approval_id, approve=True, approver="alice")
    assert refused.value.kind is Kind.CONFLICT
    assert await store.list() == []


async def test_nobody_approves_their_own_call(store: ApprovalStore) -> None:
    approval_id, _ = await gate(store)
    with pytest.raises(ApprovalError, match="cannot approve") as refused:
        await store.decide(approval_id, approve=True, approver="agent")
    assert refused.value.kind is Kind.FORBIDDEN
    assert await gate(store) == (approval_id, "pending")


async def test_decisions_are_final_and_ids_must_exist(store: ApprovalStore) -> None:
    approval_id, _ = await gate(store)
    await store.decide(approval_id, approve=False, approver="alice")
    with pytest.raises(ApprovalError, match="denied, not pending"):
        await store.decide(approval_id, approve=True, approver="bob")
    with pytest.raises(ApprovalError, match="no approval") as missing:
        await store.decide("apr_0000000000000000", approve=True, approver="bob")
    assert missing.value.kind is Kind.NOT_FOUND


async def test_pending_approvals_survive_a_restart(tmp_path: Path, clock: Clock) -> None:
    first_db = SqliteDatabase.open(tmp_path / "state.db")
    await migrate(first_db)
    first = ApprovalStore(first_db, ttl_s=600, clock=clock)
    approval_id, _ = await gate(first)
    await first_db.aclose()
    second_db = SqliteDatabase.open(tmp_path / "state.db")
    await migrate(second_db)
    second = ApprovalStore(second_db, ttl_s=600, clock=clock)
    await second.decide(approval_id, approve=True, approver="alice")
    assert await gate(second) == (approval_id, "run")
