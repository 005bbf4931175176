from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
from pathlib import Path

import pytest

from gateway.audit import GENESIS_HASH, AuditLog, Entry, canonical_json, entry_hash, verify_chain
from gateway.errors import AuditChainError, AuditEntryError, AuditWriteError

ENTRY = Entry(
    event="tool_call",
    outcome="allowed",
    request_id="r",
    decision_id="d",
    bundle_revision="b",
    principal="p",
    tool="get_issue",
    repo="acme/app",
    args_sha256="0" * 64,
    duration_ms=1.5,
)


async def write_entries(path: Path, count: int) -> None:
    log = AuditLog.open(path, fsync=False)
    for _ in range(count):
        await log.append(ENTRY)
    log.close()


async def test_entries_chain_from_genesis(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await write_entries(path, 3)
    entries = [json.loads(line) for line in path.read_text().splitlines()]
    assert [e["seq"] for e in entries] == [1, 2, 3]
    assert entries[0]["prev_hash"] == GENESIS_HASH
    assert all(b["prev_hash"] == a["entry_hash"] for a, b in itertools.pairwise(entries))
    assert all(e["entry_hash"] == entry_hash(e) for e in entries)
    head = verify_chain(path)
    assert (head.entries, head.head_hash) == (3, entries[-1]["entry_hash"])


async def test_reopening_continues_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await write_entries(path, 2)
    await write_entries(path, 2)
    assert verify_chain(path).entries == 4


async def test_a_second_writer_is_refused(tmp_path: Path) -> None:
    first = AuditLog.open(tmp_path / "audit.jsonl", fsync=False)
    with pytest.raises(AuditWriteError, match="locked"):
        AuditLog.open(tmp_path / "audit.jsonl", fsync=False)
    first.close()


async def test_appending_to_a_tampered_log_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await write_entries(path, 2)
    path.write_text(path.read_text().replace('"allowed"', '"denied"', 1))
    with pytest.raises(AuditWriteError, match="chain is broken at line 1"):
        AuditLog.open(path, fsync=False)


@pytest.mark.parametrize(
    ("content", "line", "reason"),
    [
        (b"not json\n", 1, "not valid UTF-8 JSON"),
        (b"[1]\n", 1, "not a JSON object"),
        (b'{"seq": 1}\n', 1, "missing fields"),
    ],
)
def test_verify_names_the_broken_line(tmp_path: Path, content: bytes, line: int, reason: str) -> None:
    path = tmp_path / "audit.jsonl"
    path.write_bytes(content)
    with pytest.raises(AuditChainError, match=reason) as raised:
        verify_chain(path)
    assert raised.value.line == line


async def test_verify_catches_an_unterminated_last_line(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await write_entries(path, 2)
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(AuditChainError, match="not terminated") as raised:
        verify_chain(path)
    assert raised.value.line == 2


async def test_a_duplicate_key_line_is_not_canonical(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    await write_entries(path, 1)
    line = path.read_bytes()
    path.write_bytes(b'{"outcome":"denied",' + line[1:])  # first-wins readers would see "denied"
    with pytest.raises(AuditChainError, match="canonical") as raised:
        verify_chain(path)
    assert raised.value.line == 1


async def test_cancelling_an_append_keeps_the_chain_whole(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog.open(path, fsync=True)
    task = asyncio.create_task(log.append(ENTRY))
    await asyncio.sleep(0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    await log.append(ENTRY)
    log.close()
    head = verify_chain(path)
    assert head.entries == len(path.read_text().splitlines())


@pytest.mark.parametrize(
    ("event", "detail", "verdict"),
    [
        pytest.param("tool_call", {"output": {"secrets": {}}}, None, id="tool-call-with-output"),
        pytest.param("auth_failure", {"client_ip": "::1", "repeats_left_out": 0}, None, id="security"),
        pytest.param("auth_failure", {}, "missing fields: client_ip", id="security-without-client"),
        pytest.param(
            "webhook_refused",
            {"client_ip": "::1", "repeats_left_out": 0, "webhook": {"delivery": None, "event": "push"}},
            None,
            id="webhook",
        ),
        pytest.param(
            "webhook_dropped",
            {"client_ip": "::1", "repeats_left_out": 0},
            "missing fields: webhook",
            id="webhook-without-delivery",
        ),
        pytest.param("tool_call", {"client_ip": "::1"}, "unknown fields: client_ip", id="field-of-another"),
        pytest.param("backdoor", {}, "unknown event 'backdoor'", id="unknown-event"),
    ],
)
async def test_each_event_has_its_own_fields(
    tmp_path: Path, event: str, detail: dict[str, object], verdict: str | None
) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog.open(path, fsync=False)
    entry = dataclasses.replace(ENTRY, event=event, detail=detail)
    if verdict is None:
        await log.append(entry)
        log.close()
        assert verify_chain(path).entries == 1
        return
    with pytest.raises(AuditEntryError, match=verdict):  # the writer refuses what verify would
        await log.append(entry)
    assert log.usable and path.read_bytes() == b""
    log.close()
    line = {**entry.fields(), "seq": 1, "ts": "2026-12-03T00:00:00.000Z", "prev_hash": GENESIS_HASH}
    path.write_bytes(canonical_json({**line, "entry_hash": entry_hash(line)}) + b"\n")  # another hand
    with pytest.raises(AuditChainError, match=verdict):
        verify_chain(path)
