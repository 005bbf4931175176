"""The state schema is migrated at start-up, once whoever starts first; a newer schema is refused."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from gateway.errors import ConfigError
from gateway.state import SCHEMA_VERSION, Database, SqliteDatabase, migrate


async def test_a_migrated_database_is_left_as_it_is(db: Database) -> None:
    assert await migrate(db) == SCHEMA_VERSION  # the fixture migrated it already


async def test_a_database_of_a_newer_gateway_is_refused(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.execute(
            "INSERT INTO aegis_schema_version (version, applied) VALUES (?, ?)", (SCHEMA_VERSION + 1, "later")
        )
    with pytest.raises(ConfigError, match=f"schema version {SCHEMA_VERSION + 1}, newer than this gateway"):
        await migrate(db)


async def test_a_file_from_before_versioned_migrations_keeps_its_rows(tmp_path: Path) -> None:
    """A state file the gateway made before its schema had versions: its tables exist, unversioned."""
    path = tmp_path / "state.db"
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE write_usage (principal TEXT NOT NULL, day TEXT NOT NULL, writes INTEGER NOT NULL,"
        " bytes INTEGER NOT NULL, PRIMARY KEY (principal, day))"
    )
    old.execute("INSERT INTO write_usage VALUES ('agent', '2026-12-03', 7, 70)")
    old.commit()
    old.close()
    db = SqliteDatabase.open(path)
    assert await migrate(db) == 0
    async with db.transaction() as tx:
        assert await tx.fetchone("SELECT writes FROM write_usage") == {"writes": 7}
        applied = await tx.fetchall("SELECT version FROM aegis_schema_version ORDER BY version")
        assert applied == [{"version": version} for version in range(1, SCHEMA_VERSION + 1)]
    await db.aclose()


@pytest.mark.parametrize(
    ("version", "query"),
    [
        pytest.param(1, "SELECT revision FROM policy_revisions", id="1-gains-the-policy-archive"),
        pytest.param(2, "SELECT delivery_id FROM webhook_deliveries", id="2-gains-the-webhook-deliveries"),
    ],
)
async def test_an_older_database_gains_the_tables_of_later_versions(
    tmp_path: Path, version: int, query: str
) -> None:
    path = tmp_path / "state.db"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE aegis_schema_version (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)")
    old.executemany(
        "INSERT INTO aegis_schema_version VALUES (?, 'earlier')", [(n,) for n in range(1, version + 1)]
    )
    old.commit()
    old.close()
    db = SqliteDatabase.open(path)
    assert await migrate(db) == version
    async with db.transaction() as tx:
        assert await tx.fetchall(query) == []
    await db.aclose()
