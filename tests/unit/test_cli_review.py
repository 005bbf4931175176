"""The reviewer's commands on a real chain and a real archive: `aegis audit query` and `aegis audit show`."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from pathlib import Path

import pytest

from gateway.cli import main
from gateway.state import PolicyArchive, SqliteDatabase, migrate
from tests.unit.audit.test_index import DENIED, ELSEWHERE, READ, write

POLICY = "defaults: {read: deny}\nrepositories:\n  acme/app:\n    paths:\n      allow: [src/**]\n"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


def archive(path: Path, revision: str, source: str) -> None:
    async def save() -> None:
        db = SqliteDatabase.open(path)
        await migrate(db)
        await PolicyArchive(db).save(
            revision, source=source.encode(), source_sha256="x", bundle=b"b", file="p.yaml"
        )
        await db.aclose()

    asyncio.run(save())


def test_one_query_answers_who_read_what_under_which_rule(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "audit.jsonl"
    write(log, [READ, DENIED, ELSEWHERE])
    code, out = run(
        capsys,
        "audit",
        "query",
        str(log),
        "--repo",
        "ACME/app",
        "--path",
        "src/**",
        "--outcome",
        "allowed",
        "--since",
        "1d",
    )
    assert code == 0
    (line,) = out.splitlines()
    assert "alice" in line and "src/main.py" in line and "3f1c2a9b0000" in line
    assert "repo.acme/app.paths.allow[0]@policy.yaml:7" in line
    code, out = run(capsys, "audit", "query", str(log), "--format", "json", "--principal", "bob")
    assert [json.loads(row)["seq"] for row in out.splitlines()] == [2]
    code, out = run(capsys, "audit", "query", str(log), "--format", "csv", "--until", "2000-01-01")
    assert list(csv.reader(io.StringIO(out)))[1:] == []


def test_show_quotes_the_yaml_line_behind_each_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "audit.jsonl"
    write(log, [READ, DENIED])
    state = tmp_path / "state.db"
    archive(state, READ.bundle_revision or "", "# reviewed by legal\n# and by security\n" + POLICY)
    monkeypatch.setenv("AEGIS_STATE_DB", str(state))
    code, out = run(capsys, "audit", "show", str(log), "1")
    assert code == 0
    assert '"principal": "alice"' in out
    assert "chain: its hash holds, entry 2 links to it" in out
    assert "allow: repo.acme/app.paths.allow[0] (policy.yaml:7)\n    allow: [src/**]\n" in out


def test_show_says_when_the_chain_around_an_entry_does_not_hold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "audit.jsonl"
    write(log, [READ, DENIED, READ])
    code, _ = run(capsys, "audit", "show", str(log), "3")  # indexed while whole
    lines = log.read_bytes().splitlines(keepends=True)
    lines[2] = lines[2].replace(b'"principal":"alice"', b'"principal":"eve"')
    log.write_bytes(b"".join(lines))
    code, out = run(capsys, "audit", "show", str(log), "3")
    assert code == 0 and '"principal": "eve"' in out  # shown as the log holds it, and flagged
    assert "chain: ITS HASH DOES NOT HOLD, linked to entry 2, last entry of its file" in out
