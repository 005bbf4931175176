"""Approvals: bound to the exact call, decided by someone else, expiring, used once."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.errors import Kind
from gateway.state import ApprovalError, ApprovalKey, ApprovalStore, StateDB

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
def store(tmp_path: Path, clock: Clock) -> ApprovalStore:
    return ApprovalStore(StateDB.open(tmp_path / "state.db"), ttl_s=600, clock=clock)


def gate(store: ApprovalStore, key: ApprovalKey = KEY) -> tuple[str, str]:
    approval, outcome = store.gate(key, repo="acme/app", path="a.txt", arguments={"x": 1}, request_id="r")
    return approval.id, outcome


def test_a_held_call_stays_pending_under_one_id_until_decided(store: ApprovalStore) -> None:
    first, outcome = gate(store)
    assert outcome == "pending"
    assert gate(store) == (first, "pending")
    assert [approval.id for approval in store.list()] == [first]
    assert store.list()[0].as_dict()["arguments"] == {"x": 1}


def test_an_approval_lets_the_call_run_exactly_once(store: ApprovalStore) -> None:
    approval_id, _ = gate(store)
    decided = store.decide(approval_id, approve=True, approver="alice")
    assert (decided.state, decided.decided_by) == ("approved", "alice")
    assert gate(store) == (approval_id, "run")
    again, outcome = gate(store)
    assert outcome == "pending" and again != approval_id  # used: the same call needs a new approval
    assert store.list() and store.list()[0].id == again


@pytest.mark.parametrize(
    "other",
    [
        ApprovalKey("create_or_update_file", "b" * 64, "agent", "rev1"),  # other arguments
        ApprovalKey("create_or_update_file", "a" * 64, "other-agent", "rev1"),  # other principal
        ApprovalKey("create_or_update_file", "a" * 64, "agent", "rev2"),  # other bundle
        ApprovalKey("create_pull_request", "a" * 64, "agent", "rev1"),  # other tool
    ],
)
def test_an_approval_covers_only_its_exact_call(store: ApprovalStore, other: ApprovalKey) -> None:
    approval_id, _ = gate(store)
    store.decide(approval_id, approve=True, approver="alice")
    other_id, outcome = gate(store, other)
    assert outcome == "pending" and other_id != approval_id
    assert gate(store) == (approval_id, "run")


def test_a_denied_call_stays_denied_until_the_approval_expires(store: ApprovalStore, clock: Clock) -> None:
    approval_id, _ = gate(store)
    store.decide(approval_id, approve=False, approver="alice", reason="not today")
    assert gate(store) == (approval_id, "denied")
    clock.now += 601
    renewed, outcome = gate(store)
    assert outcome == "pending" and renewed != approval_id


def test_an_expired_approval_runs_nothing(store: ApprovalStore, clock: Clock) -> None:
    approval_id, _ = gate(store)
    store.decide(approval_id, approve=True, approver="alice")
    clock.now += 601
    renewed, outcome = gate(store)
    assert outcome == "pending" and renewed != approval_id
    states = {approval.id: approval.state for approval in store.list(include_closed=True)}
    assert states == {approval_id: "expired", renewed: "pending"}


def test_an_expired_request_cannot_be_approved(store: ApprovalStore, clock: Clock) -> None:
    approval_id, _ = gate(store)
    clock.now += 601
    with pytest.raises(ApprovalError, match="expired") as refused:
        store.decide(approval_id, approve=True, approver="alice")
    assert refused.value.kind is Kind.CONFLICT
    assert store.list() == []


def test_nobody_approves_their_own_call(store: ApprovalStore) -> None:
    approval_id, _ = gate(store)
    with pytest.raises(ApprovalError, match="cannot approve") as refused:
        store.decide(approval_id, approve=True, approver="agent")
    assert refused.value.kind is Kind.FORBIDDEN
    assert gate(store) == (approval_id, "pending")


def test_decisions_are_final_and_ids_must_exist(store: ApprovalStore) -> None:
    approval_id, _ = gate(store)
    store.decide(approval_id, approve=False, approver="alice")
    with pytest.raises(ApprovalError, match="denied, not pending"):
        store.decide(approval_id, approve=True, approver="bob")
    with pytest.raises(ApprovalError, match="no approval") as missing:
        store.decide("apr_0000000000000000", approve=True, approver="bob")
    assert missing.value.kind is Kind.NOT_FOUND


def test_pending_approvals_survive_a_restart(tmp_path: Path, clock: Clock) -> None:
    first = ApprovalStore(StateDB.open(tmp_path / "state.db"), ttl_s=600, clock=clock)
    approval_id, _ = gate(first)
    second = ApprovalStore(StateDB.open(tmp_path / "state.db"), ttl_s=600, clock=clock)
    second.decide(approval_id, approve=True, approver="alice")
    assert gate(second) == (approval_id, "run")
