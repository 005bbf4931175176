"""The write gate fails closed when its state database fails, and never loses the record of a write
that happened; approvers' decisions stand only when the audit log holds them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.audit import AuditLog
from gateway.config import DEFAULT_WRITE_QUOTA
from gateway.core.approvals import Approvers
from gateway.core.writes import WriteGate
from gateway.errors import Kind
from gateway.gitea import git_blob_sha
from gateway.opa import Decision, Reason
from gateway.state import (
    ApprovalError,
    ApprovalKey,
    ApprovalStore,
    Database,
    SnapshotStore,
    SqliteDatabase,
    WriteQuotas,
    migrate,
)
from gateway.tools import ToolOutput
from gateway.tools.write import WRITE_TOOLS
from gateway.vocabulary import FileSnapshot, Principal, Resource

WRITER = Principal(id="writer", kind="api_key", scopes=("tools:write",))
ALICE = Principal(id="alice", kind="api_key", scopes=("admin",), credential_id="a11ce0000001")
ALLOW = Decision(
    allow=True,
    reasons=(Reason(rule="tools.allow[0]", effect="allow", source="policy.yaml:3"),),
    decision_id="d",
    obligations={"secrets": "mask"},
    revision="rev1",
)
TOOL = next(tool for tool in WRITE_TOOLS if tool.name == "create_issue")
RESOURCE = Resource(owner="acme", name="app", size=10)


def gate(db: Database) -> WriteGate:
    return WriteGate(
        approvals=ApprovalStore(db, ttl_s=60),
        quotas=WriteQuotas(db),
        snapshots=SnapshotStore(db),
        default_quota=DEFAULT_WRITE_QUOTA,
    )


async def opened(tmp_path: Path) -> SqliteDatabase:
    db = SqliteDatabase.open(tmp_path / "state.db")
    await migrate(db)
    return db


async def test_a_write_is_denied_when_the_state_database_fails(tmp_path: Path) -> None:
    db = await opened(tmp_path)
    writes = gate(db)
    await db.aclose()
    admission = await writes.admit(WRITER, TOOL, RESOURCE, {"title": "t"}, ALLOW, "r1")
    assert admission.refusal is not None and admission.outcome == "denied"
    assert [reason.rule for reason in admission.decision.reasons][-1] == "state.unavailable"


async def test_a_write_that_happened_is_recorded_even_if_its_snapshot_is_not(tmp_path: Path) -> None:
    db = await opened(tmp_path)
    writes = gate(db)
    snapshot = FileSnapshot(
        repo="acme/app",
        path="a.md",
        branch="main",
        previous_sha=None,
        previous_content=None,
        new_sha="1" * 40,
        commit_sha="2" * 40,
    )
    output = ToolOutput({}, upstream={"commit": "2" * 40}, snapshot=snapshot)
    assert (await writes.record(output, "r1"))["snapshot"].startswith("snap_")
    await db.aclose()
    written = await writes.record(output, "r2")
    assert written["upstream"] == {"commit": "2" * 40} and written["snapshot"] is None
    assert written["snapshot_error"] == "not saved: StateUnavailable"


async def test_a_decision_the_audit_log_cannot_hold_is_undone(tmp_path: Path) -> None:
    store = ApprovalStore(await opened(tmp_path), ttl_s=60)
    key = ApprovalKey(tool="create_issue", args_sha256="a" * 64, principal="writer", revision="rev1")
    approval, _ = await store.gate(key, repo="acme/app", path=None, arguments={}, request_id="r1")
    audit = AuditLog.open(tmp_path / "audit.jsonl", fsync=False)
    audit.close()  # every append now fails
    approvers = Approvers(store=store, audit=audit)
    with pytest.raises(ApprovalError, match="undone") as refused:
        await approvers.decide(approval.id, approve=True, approver=ALICE, reason=None, request_id="r2")
    assert refused.value.kind is Kind.INTERNAL
    assert (await store.list())[0].state == "pending"
    assert (await store.gate(key, repo="acme/app", path=None, arguments={}, request_id="r3"))[1] == "pending"


async def test_an_approvers_decision_names_the_approvers_credential(tmp_path: Path) -> None:
    store = ApprovalStore(await opened(tmp_path), ttl_s=60)
    key = ApprovalKey(tool="create_issue", args_sha256="a" * 64, principal="writer", revision="rev1")
    approval, _ = await store.gate(key, repo="acme/app", path=None, arguments={}, request_id="r1")
    audit = AuditLog.open(tmp_path / "audit.jsonl", fsync=False)
    try:
        await Approvers(store=store, audit=audit).decide(
            approval.id, approve=True, approver=ALICE, reason=None, request_id="r2"
        )
    finally:
        audit.close()
    (entry,) = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert (entry["event"], entry["principal"], entry["credential_id"]) == (
        "approval_decided",
        "alice",
        "a11ce0000001",
    )


@pytest.mark.parametrize(
    ("content", "like", "expected"),
    [
        (b"hello\n", "0" * 40, "ce013625030ba8dba906f756967f9e9ca394464a"),  # `git hash-object`
        (b"", "0" * 40, "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391"),
    ],
)
def test_git_blob_sha_is_gits_object_id(content: bytes, like: str, expected: str) -> None:
    assert git_blob_sha(content, like=like) == expected
    assert len(git_blob_sha(content, like="0" * 64)) == 64
