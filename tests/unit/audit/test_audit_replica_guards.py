"""The replica of a chain is checked wherever a chain is read or appended to: by `audit merge` as by
`audit verify`, and by the gateway when it opens a chain to append to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.audit import merged_chains, review_chain
from gateway.cli import main
from gateway.errors import AuditChainError, AuditWriteError
from tests.unit.audit.test_audit_replicas import append_foreign, write


def test_merge_refuses_a_chain_holding_another_replicas_entry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    files = [tmp_path / "audit.gw-a.jsonl", tmp_path / "audit.gw-b.jsonl"]
    write(files[0], "gw-a", 2)
    write(files[1], "gw-b", 2)
    append_foreign(files[0], "gw-b")
    assert main(["audit", "verify", str(files[0])]) == 1  # verify says it is broken ...
    capsys.readouterr()
    with pytest.raises(AuditChainError, match="replica"):  # ... merge must too
        list(merged_chains(files))
    assert main(["audit", "merge", *map(str, files)]) == 1


def test_merge_refuses_the_same_replicas_chain_twice(tmp_path: Path) -> None:
    """Two files of one replica (a copy, or one file named twice) would show every entry twice."""
    path = tmp_path / "audit.gw-a.jsonl"
    write(path, "gw-a", 2)
    with pytest.raises(AuditChainError):
        list(merged_chains([path, path]))


@pytest.mark.parametrize(("first", "then"), [("gw-a", "gw-b"), ("gw-a", None), (None, "gw-a")])
def test_a_gateway_does_not_append_to_another_replicas_chain(
    tmp_path: Path, first: str | None, then: str | None
) -> None:
    """A chain the gateway appends to must still verify: opening another replica's chain is refused
    (e.g. AEGIS_AUDIT_LOG pointed at audit.gw-a.jsonl with another or no AEGIS_REPLICA_ID)."""
    path = tmp_path / "audit.gw-a.jsonl"
    write(path, first, 2)
    try:
        write(path, then, 1)
    except AuditWriteError:
        return  # refused: good
    review_chain(path)  # otherwise what it wrote must verify
