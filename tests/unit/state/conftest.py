"""Every state test runs against both databases: the single-node SQLite file and a real PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.state import Database, PostgresDatabase, SqliteDatabase, migrate
from tests.postgres_server import PostgresServer


@pytest.fixture(params=["sqlite", "postgresql"])
async def replicas(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Database, Database]]:
    """Two connections to one state database, as two gateway replicas (or two processes on one SQLite
    file) hold them; both migrate at once, as replicas starting together do."""
    if request.param == "sqlite":
        pair: tuple[Database, Database] = (
            SqliteDatabase.open(tmp_path / "state.db"),
            SqliteDatabase.open(tmp_path / "state.db"),
        )
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        url = server.new_database()
        pair = (PostgresDatabase(url), PostgresDatabase(url))
    for database in pair:
        await database.connect()
    await asyncio.gather(*(migrate(database) for database in pair))
    yield pair
    for database in pair:
        await database.aclose()


@pytest.fixture
def db(replicas: tuple[Database, Database]) -> Database:
    return replicas[0]
