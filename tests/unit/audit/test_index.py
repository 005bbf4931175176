"""The review index of a chain: filled only from entries whose hashes link up, resumed where it stopped,
across rotated segments, rebuilt when the log is another chain, and queried by every filter."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from gateway.audit import AuditLog, Entry, Rotation
from gateway.audit._index import ChainIndex, Filters
from gateway.audit._segments import closed_segments
from gateway.errors import AuditChainError
from tests.unit.audit.test_audit_checkpoints import write as write_signed

READ = Entry(
    event="tool_call",
    outcome="allowed",
    request_id="r",
    decision_id="d",
    bundle_revision="3f1c2a9b" + "0" * 56,
    principal="alice",
    credential_id="key_alice_1",
    tool="get_file_contents",
    repo="acme/app",
    path="src/main.py",
    args_sha256="0" * 64,
    reasons=({"rule": "repo.acme/app.paths.allow[0]", "effect": "allow", "source": "policy.yaml:7"},),
)
DENIED = dataclasses.replace(
    READ,
    outcome="denied",
    principal="bob",
    credential_id="key_bob_1",
    path="src/secrets/prod.env",
    reasons=({"rule": "repo.acme/app.paths.deny[0]", "effect": "deny", "source": "policy.yaml:9"},),
)
ELSEWHERE = dataclasses.replace(READ, repo="acme/site", path="README.md", bundle_revision="9" * 64)


def write(path: Path, entries: list[Entry], rotation: Rotation | None = None) -> None:
    log = AuditLog.open(path, fsync=False, rotation=rotation or Rotation())
    for entry in entries:
        log.write(entry)
    log.close()


def seqs(index: ChainIndex, filters: Filters) -> list[int]:
    return [row["seq"] for row in index.query(filters)]


def test_each_filter_finds_what_it_names(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    write(log, [READ, DENIED, ELSEWHERE])
    with ChainIndex.open(log) as index:
        assert index.refresh() == 3
        assert seqs(index, Filters()) == [1, 2, 3]
        assert seqs(index, Filters(repo="acme/app", path="src/**")) == [1, 2]
        assert seqs(index, Filters(path="src/*.py")) == [1]
        assert seqs(index, Filters(outcome="denied")) == [2]
        assert seqs(index, Filters(principal="alice")) == [1, 3]
        assert seqs(index, Filters(credential_id="key_alice_1")) == [1, 3]
        assert seqs(index, Filters(rule="repo.acme/app.paths.deny[0]")) == [2]
        assert seqs(index, Filters(rule="repo.acme/app.paths")) == []  # a whole rule name, not a part
        assert seqs(index, Filters(revision="3f1c2a9b")) == [1, 2]
        assert seqs(index, Filters(tool="get_file_contents", event="tool_call")) == [1, 2, 3]
        first_ts = index.query(Filters())[0]["ts"]
        assert seqs(index, Filters(since=first_ts)) == [1, 2, 3]
        assert seqs(index, Filters(until=first_ts)) == []
        (row,) = index.query(Filters(outcome="denied"))
        assert row["reasons"][0]["source"] == "policy.yaml:9"


def test_a_refresh_adds_only_what_was_written_since(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    write(log, [READ, READ])
    with ChainIndex.open(log) as index:
        assert index.refresh() == 2
    write(log, [DENIED])
    with ChainIndex.open(log) as index:
        assert index.refresh() == 1
        assert index.refresh() == 0
        assert seqs(index, Filters()) == [1, 2, 3]


def test_the_index_follows_rotation_and_locates_every_entry(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    rotation = Rotation(max_bytes=2000)
    write(log, [READ] * 5, rotation)
    with ChainIndex.open(log) as index:
        first = index.refresh()
    write(log, [DENIED] * 12, rotation)
    assert len(closed_segments(log)) >= 3
    with ChainIndex.open(log) as index:
        added = index.refresh()
        rows = index.query(Filters())
        assert [row["seq"] for row in rows] == list(range(1, first + added + 1))
        for row in rows:
            located = index.located(row["seq"])
            assert located is not None
            path, offset = located
            with path.open("rb") as handle:
                handle.seek(offset)
                assert json.loads(handle.readline())["seq"] == row["seq"]


def test_a_broken_chain_indexes_nothing_past_the_break(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    write(log, [READ, READ, READ])
    lines = log.read_bytes().splitlines(keepends=True)
    lines[1] = lines[1].replace(b'"principal":"alice"', b'"principal":"mallory"')
    log.write_bytes(b"".join(lines))
    with ChainIndex.open(log) as index, pytest.raises(AuditChainError, match="entry_hash"):
        index.refresh()
    with ChainIndex.open(log) as index:
        assert seqs(index, Filters()) == [1]
        assert seqs(index, Filters(principal="mallory")) == []


def test_another_chain_in_the_logs_place_is_indexed_from_the_start(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    write(log, [READ, READ])
    with ChainIndex.open(log) as index:
        index.refresh()
    log.unlink()
    write(log, [DENIED, DENIED, DENIED])
    with ChainIndex.open(log) as index:
        assert index.refresh() == 3
        assert [row["outcome"] for row in index.query(Filters())] == ["denied"] * 3


def test_aggregates_count_by_day_and_outcome_and_rank_the_deny_rules(tmp_path: Path) -> None:
    log = tmp_path / "audit.jsonl"
    other_rule = ({"rule": "builtin.secret_store_paths", "effect": "deny", "source": "policy.yaml:1"},)
    write(log, [READ, DENIED, DENIED, dataclasses.replace(DENIED, reasons=other_rule), ELSEWHERE])
    with ChainIndex.open(log) as index:
        index.refresh()
        today = index.query(Filters(), limit=1)[0]["ts"][:10]
        assert index.count(Filters()) == 5 and index.count(Filters(repo="acme/site")) == 1
        assert index.per_day(Filters()) == [(today, "allowed", 2), (today, "denied", 3)]
        assert index.per_day(Filters(principal="alice")) == [(today, "allowed", 2)]
        assert index.top_rules(Filters(), outcome="denied", limit=5) == [
            ("repo.acme/app.paths.deny[0]", 2),
            ("builtin.secret_store_paths", 1),
        ]
        assert index.top_rules(Filters(), outcome="denied", limit=1) == [("repo.acme/app.paths.deny[0]", 2)]
        assert index.top_rules(Filters(outcome="allowed"), outcome="denied", limit=5) == []
        assert [row["seq"] for row in index.query(Filters(), limit=2, offset=2)] == [3, 4]


def test_the_next_checkpoint_after_an_entry_is_found(tmp_path: Path) -> None:
    log = write_signed(tmp_path, 4, every_entries=3)
    with ChainIndex.open(log) as index:
        index.refresh()
        checkpoints = index.query(Filters(event="checkpoint"))
        assert checkpoints
        first = checkpoints[0]["seq"]
        assert index.next_checkpoint(1) == (first, checkpoints[0]["ts"])
        last = index.query(Filters(), limit=1, offset=index.count(Filters()) - 1)[0]["seq"]
        assert index.next_checkpoint(last) is None
