"""Fixtures of the replica tests: each module that asks for them gets a PostgreSQL and two replicas of
its own, since its tests stop or kill that PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.replica_set import Replicas, replica_set
from tests.postgres_server import PostgresServer, start_postgres
from tests.redis_server import RedisServer


@pytest.fixture(scope="module")
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    yield server
    server.stop()
    server.remove()


@pytest.fixture(scope="module")
def replicas(
    postgres: PostgresServer, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replicas]:
    with replica_set(postgres, redis_server, tmp_path_factory) as started:
        yield started
