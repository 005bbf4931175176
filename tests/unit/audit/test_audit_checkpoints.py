"""Signed checkpoints: written every N entries and T seconds, in the chain and in a sink outside it;
verify catches truncation, re-hashing and forgery against them; start-up verifies from the last one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit import (
    AnchorError,
    AuditLog,
    Checkpointing,
    CheckpointSigner,
    Rotation,
    entry_hash,
    review_anchored,
)
from gateway.audit._checkpoint import read_checkpoints
from gateway.audit._segments import closed_segments
from gateway.errors import AuditChainError, AuditWriteError
from tests.unit.audit.test_audit import ENTRY
from tests.unit.audit.test_audit_faults import Clock

SIGNER = CheckpointSigner(Ed25519PrivateKey.generate())


def plan(tmp_path: Path, *, every_entries: int = 3, every_s: float = 3600.0) -> Checkpointing:
    return Checkpointing(
        signer=SIGNER, sink=tmp_path / "sink.jsonl", every_entries=every_entries, every_s=every_s
    )


def write(tmp_path: Path, count: int, **options: Any) -> Path:
    path = tmp_path / "audit.jsonl"
    log = AuditLog.open(path, fsync=False, checkpointing=plan(tmp_path, **options))
    for _ in range(count):
        log.write(ENTRY)
    log.close()
    return path


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_bytes().splitlines()]


def rewrite(path: Path, entries: list[dict[str, Any]]) -> None:
    """Write `entries` back re-hashed from the first on, as a forger without the signing key would."""
    prev = entries[0]["prev_hash"]
    for seq, entry in enumerate(entries, start=1):
        entry.update(seq=seq, prev_hash=prev)
        entry["entry_hash"] = entry_hash(entry)
        prev = entry["entry_hash"]
    path.write_bytes(
        b"".join(json.dumps(e, sort_keys=True, separators=(",", ":")).encode() + b"\n" for e in entries)
    )


def test_every_n_entries_the_head_is_signed_in_the_chain_and_in_the_sink(tmp_path: Path) -> None:
    path = write(tmp_path, 7)
    events = [entry["event"] for entry in lines(path)]
    calls, checkpoint = ["tool_call"], ["checkpoint"]
    # Every third entry, and at close what was not yet signed.
    assert events == calls * 3 + checkpoint + calls * 3 + checkpoint + calls + checkpoint
    sink = read_checkpoints(tmp_path / "sink.jsonl")
    assert [checkpoint.seq for checkpoint in sink] == [3, 7, 9]
    report = review_anchored(path, SIGNER.public_key, tmp_path / "sink.jsonl")
    assert report.signed is not None and report.signed.seq == 9
    assert report.uncovered == 1  # the last checkpoint's own entry
    assert report.first_uncovered is None  # which a clean stop leaves last: nothing to refuse


def test_a_quiet_log_is_signed_after_the_interval(tmp_path: Path) -> None:
    clock = Clock()
    log = AuditLog.open(
        tmp_path / "audit.jsonl",
        fsync=False,
        clock=clock,
        checkpointing=plan(tmp_path, every_entries=1000, every_s=60),
    )
    log.write(ENTRY)
    log.maintain()
    assert read_checkpoints(tmp_path / "sink.jsonl") == []
    clock.now += 60
    log.maintain()
    log.maintain()  # nothing new since: no second checkpoint
    log.close()
    assert [checkpoint.seq for checkpoint in read_checkpoints(tmp_path / "sink.jsonl")] == [1]


def test_truncation_before_the_last_checkpoint_is_caught(tmp_path: Path) -> None:
    path = write(tmp_path, 8)
    kept = path.read_bytes().splitlines(keepends=True)[:5]
    path.write_bytes(b"".join(kept))  # a valid, shorter chain
    with pytest.raises(AnchorError, match="removed from its end"):
        review_anchored(path, SIGNER.public_key, tmp_path / "sink.jsonl")
    with pytest.raises(AuditWriteError, match="removed from its end"):
        AuditLog.open(path, fsync=False, checkpointing=plan(tmp_path))


def test_a_chain_re_hashed_from_one_entry_on_is_caught(tmp_path: Path) -> None:
    path = write(tmp_path, 8)
    entries = lines(path)
    entries[1]["outcome"] = "denied"
    rewrite(path, entries)
    with pytest.raises(AnchorError, match="re-hashed"):
        review_anchored(path, SIGNER.public_key, tmp_path / "sink.jsonl")


def test_a_re_hash_that_drops_the_checkpoints_in_the_chain_is_caught_by_the_sink(tmp_path: Path) -> None:
    path = write(tmp_path, 8)
    entries = [entry for entry in lines(path) if entry["event"] != "checkpoint"]
    entries[0]["outcome"] = "denied"
    rewrite(path, entries)
    with pytest.raises(AnchorError, match="re-hashed"):
        review_anchored(path, SIGNER.public_key, tmp_path / "sink.jsonl")


def test_a_forged_checkpoint_is_caught(tmp_path: Path) -> None:
    path = write(tmp_path, 2)
    forger = CheckpointSigner(Ed25519PrivateKey.generate())
    log = AuditLog.open(
        path,
        fsync=False,
        checkpointing=Checkpointing(signer=forger, sink=tmp_path / "forged", every_entries=1, every_s=60),
    )
    log.write(ENTRY)  # signed by the wrong key
    log.close()
    with pytest.raises(AnchorError, match="forged"):
        review_anchored(path, SIGNER.public_key, tmp_path / "sink.jsonl")


def test_entries_appended_after_the_last_checkpoint_are_reported_uncovered(tmp_path: Path) -> None:
    path = write(tmp_path, 3)
    entries = lines(path)
    forged = {**entries[-1], "event": "tool_call", "outcome": "allowed"}
    forged.pop("checkpoint")
    forged.update(seq=len(entries) + 1, prev_hash=entries[-1]["entry_hash"])
    forged["entry_hash"] = entry_hash(forged)
    with path.open("ab") as handle:
        handle.write(json.dumps(forged, sort_keys=True, separators=(",", ":")).encode() + b"\n")
    report = review_anchored(path, SIGNER.public_key, tmp_path / "sink.jsonl")
    assert report.signed is not None and report.signed.seq == 3
    assert report.uncovered == 2  # the checkpoint's entry and the forged one: nothing vouches for them
    assert report.first_uncovered == len(entries) + 1  # the forged one


def test_a_checkpoint_entry_replaced_at_the_end_leaves_its_place_uncovered(tmp_path: Path) -> None:
    path = write(tmp_path, 3)
    entries = lines(path)
    assert entries[-1]["event"] == "checkpoint"
    entries[-1] = {**entries[-1], "event": "tool_call"}  # the signed entry before it is left as it was
    entries[-1].pop("checkpoint")
    rewrite(path, entries)
    report = review_anchored(path, SIGNER.public_key, tmp_path / "sink.jsonl")
    assert report.signed is not None and report.signed.seq == 3
    assert report.first_uncovered == 4


def test_a_log_never_signed_is_uncovered_from_its_first_entry(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog.open(path, fsync=False)
    log.write(ENTRY)
    log.close()
    report = review_anchored(path, SIGNER.public_key, tmp_path / "sink.jsonl")
    assert report.signed is None and report.first_uncovered == 1


def test_start_up_verifies_from_the_last_checkpoint_only(tmp_path: Path) -> None:
    path = write(tmp_path, 8)
    raw = path.read_bytes()
    # An entry before the last checkpoint, damaged: start-up does not read it (verify would).
    path.write_bytes(raw.replace(b'"allowed"', b'"denyed!"', 1))
    log = AuditLog.open(path, fsync=False, checkpointing=plan(tmp_path))
    log.write(ENTRY)
    log.close()
    # The signed entry itself, damaged: refused.
    sink = read_checkpoints(tmp_path / "sink.jsonl")
    damaged = path.read_bytes().splitlines(keepends=True)
    damaged[sink[-1].seq - 1] = damaged[sink[-1].seq - 1].replace(b'"allowed"', b'"denyed!"')
    path.write_bytes(b"".join(damaged))
    with pytest.raises(AuditWriteError, match="not the one its signed checkpoint names"):
        AuditLog.open(path, fsync=False, checkpointing=plan(tmp_path))


def test_checkpoints_hold_across_rotated_segments(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    for _ in range(2):  # the second opening starts from a checkpoint in a closed segment
        log = AuditLog.open(
            path, fsync=False, checkpointing=plan(tmp_path), rotation=Rotation(max_bytes=3000)
        )
        for _ in range(10):
            log.write(ENTRY)
        log.close()
    assert len(closed_segments(path)) >= 3
    report = review_anchored(path, SIGNER.public_key, tmp_path / "sink.jsonl")
    assert report.signed is not None and report.uncovered == 1
    assert report.first_uncovered is None
    (closed_segments(path)[-1].path).unlink()
    with pytest.raises(AuditChainError):
        review_anchored(path, SIGNER.public_key, tmp_path / "sink.jsonl")
