"""One audit chain per replica: every entry names its replica, a chain holding another replica's entry
is broken, and the chains of all replicas verify one by one and merge into one review ordered by time."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.audit import AuditLog, canonical_json, entry_hash, merged_chains, review_chain
from gateway.cli import main
from gateway.config import Settings
from gateway.errors import AuditChainError, ConfigError
from tests.unit.audit.test_audit import ENTRY


def write(path: Path, replica: str | None, count: int) -> None:
    log = AuditLog.open(path, fsync=False, replica=replica)
    for _ in range(count):
        log.write(ENTRY)
    log.close()


def append_foreign(path: Path, replica: str) -> None:
    """Append an entry of `replica`, chained correctly onto the chain's last one: by someone else's hand."""
    last = json.loads(path.read_text().splitlines()[-1])
    forged = {
        **ENTRY.fields(),
        "replica": replica,
        "seq": last["seq"] + 1,
        "ts": last["ts"],
        "prev_hash": last["entry_hash"],
    }
    with path.open("ab") as handle:
        handle.write(canonical_json({**forged, "entry_hash": entry_hash(forged)}) + b"\n")


def test_each_replica_writes_its_own_file_and_names_itself_in_every_entry(tmp_path: Path) -> None:
    settings = Settings.from_env(
        {"AEGIS_AUDIT_LOG": str(tmp_path / "audit.jsonl"), "AEGIS_REPLICA_ID": "gw-a"}
    )
    assert settings.audit_log == tmp_path / "audit.gw-a.jsonl"
    write(settings.audit_log, "gw-a", 3)
    entries = [json.loads(line) for line in settings.audit_log.read_text().splitlines()]
    assert {entry["replica"] for entry in entries} == {"gw-a"}
    assert review_chain(settings.audit_log).replica == "gw-a"


@pytest.mark.parametrize("replica", ["", "Gw_A", "-a", "1234", "1-2", "a" * 64])
def test_a_replica_id_is_a_dns_label_with_a_letter(replica: str) -> None:
    if not replica:  # unset: a lone gateway, whose entries name no replica
        assert Settings.from_env({"AEGIS_REPLICA_ID": replica}).replica_id is None
        return
    with pytest.raises(ConfigError, match="AEGIS_REPLICA_ID must be a DNS label"):
        Settings.from_env({"AEGIS_REPLICA_ID": replica})


def test_another_replicas_entry_breaks_the_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.gw-a.jsonl"
    write(path, "gw-a", 2)
    append_foreign(path, "gw-b")
    with pytest.raises(AuditChainError, match="entry of replica 'gw-b' in the chain of replica 'gw-a'"):
        review_chain(path)


def test_the_chains_of_all_replicas_verify_and_merge_by_time(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [tmp_path / "audit.gw-a.jsonl", tmp_path / "audit.gw-b.jsonl"]
    write(files[0], "gw-a", 2)
    write(files[1], "gw-b", 3)
    write(files[0], "gw-a", 1)
    merged = [(entry["ts"], entry["replica"], entry["seq"]) for entry in merged_chains(files)]
    assert merged == sorted(merged)
    assert sorted((replica, seq) for _, replica, seq in merged) == [
        ("gw-a", 1), ("gw-a", 2), ("gw-a", 3), ("gw-b", 1), ("gw-b", 2), ("gw-b", 3),
    ]  # fmt: skip
    assert main(["audit", "verify", *map(str, files)]) == 0
    out = capsys.readouterr().out
    assert "audit.gw-a.jsonl: OK, 3 entries" in out and "replica gw-b" in out
    assert main(["audit", "merge", *map(str, files)]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 6


def test_one_broken_chain_fails_the_verification_of_all(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [tmp_path / "audit.gw-a.jsonl", tmp_path / "audit.gw-b.jsonl"]
    write(files[0], "gw-a", 2)
    write(files[1], "gw-b", 2)
    files[1].write_text(files[1].read_text().replace('"outcome":"allowed"', '"outcome":"denied"', 1))
    assert main(["audit", "verify", *map(str, files)]) == 1
    captured = capsys.readouterr()
    assert "audit.gw-a.jsonl: OK" in captured.out and "audit.gw-b.jsonl: BROKEN at line 1" in captured.err
    assert main(["audit", "merge", *map(str, files)]) == 1
    assert "audit.gw-b.jsonl" in capsys.readouterr().err
