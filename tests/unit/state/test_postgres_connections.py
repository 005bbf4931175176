"""The PostgreSQL state database under cancellation, out of reach at start, and which errors mean out of
reach."""

from __future__ import annotations

import asyncio
import contextlib

import psycopg
import psycopg_pool
import pytest

from gateway.errors import StateUnavailable
from gateway.state import PostgresDatabase, migrate
from gateway.state._postgres import _out_of_reach
from tests.postgres_server import PostgresServer


async def test_a_cancelled_wait_for_a_lock_leaves_its_connection_clean(
    postgres_server: PostgresServer,
) -> None:
    url = postgres_server.new_database()
    a, b = PostgresDatabase(url, pool_size=1), PostgresDatabase(url, pool_size=1)
    await a.connect()
    await b.connect()
    await migrate(a)
    held, release = asyncio.Event(), asyncio.Event()

    async def holder() -> None:
        async with a.transaction() as tx:
            await tx.lock("k")
            held.set()
            await release.wait()

    async def waiter() -> None:
        async with b.transaction() as tx:
            await tx.lock("k")
            await tx.execute("INSERT INTO write_usage VALUES ('p', 'd', 1, 1)")

    h = asyncio.create_task(holder())
    await held.wait()
    w = asyncio.create_task(waiter())
    await asyncio.sleep(0.3)
    w.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await w
    release.set()
    await h
    await asyncio.sleep(0.3)
    async with asyncio.timeout(8):
        async with b.transaction() as tx:
            await tx.lock("k")
            assert await tx.fetchone("SELECT count(*) AS n FROM write_usage") == {"n": 0}
        async with a.transaction() as tx:
            await tx.lock("k")
    await a.aclose()
    await b.aclose()


async def test_a_transaction_cancelled_mid_statement_is_rolled_back(postgres_server: PostgresServer) -> None:
    url = postgres_server.new_database()
    a = PostgresDatabase(url, pool_size=1)
    await a.connect()
    await migrate(a)

    async def slow() -> None:
        async with a.transaction() as tx:
            await tx.execute("INSERT INTO write_usage VALUES ('p', 'd', 1, 1)")
            await tx.fetchone("SELECT pg_sleep(2) AS s")

    t = asyncio.create_task(slow())
    await asyncio.sleep(0.3)
    t.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await t
    async with asyncio.timeout(8):
        async with a.transaction() as tx:
            assert await tx.fetchone("SELECT count(*) AS n FROM write_usage") == {"n": 0}
    await a.aclose()


async def test_a_database_out_of_reach_at_start_is_said_with_its_cause_promptly(
    postgres_server: PostgresServer,
) -> None:
    """`aegis serve` says this one line: it must say why (here: no such database), not only that the
    pool timed out, and without waiting out the 10 s pool timeout for an answer PostgreSQL gave at once."""
    d = PostgresDatabase(postgres_server.url("no_such_database"))
    loop = asyncio.get_running_loop()
    started = loop.time()
    with pytest.raises(StateUnavailable) as exc:
        await d.connect()
    await d.aclose()  # Parts.aclose closes it again after a failed start: harmless
    assert "no_such_database" in str(exc.value) and "does not exist" in str(exc.value), str(exc.value)
    assert loop.time() - started < 5


@pytest.mark.parametrize(
    ("error", "out_of_reach"),
    [
        (psycopg.OperationalError("connection refused"), True),  # no SQLSTATE: no connection made
        (psycopg_pool.PoolTimeout("couldn't get a connection after 5.00 sec"), True),
        (psycopg.errors.lookup("08006")("connection failure"), True),
        (psycopg.errors.lookup("57P01")("terminating connection due to administrator command"), True),
        (psycopg.errors.lookup("57P03")("the database system is starting up"), True),
        (psycopg.errors.lookup("57014")("canceling statement due to statement timeout"), False),
        (psycopg.errors.lookup("55P03")("could not obtain lock"), False),
        (psycopg.errors.lookup("53300")("too many connections"), False),
        (psycopg.errors.lookup("23505")("duplicate key"), False),
        (None, False),
    ],
)
def test_only_an_error_of_reach_marks_the_database_out_of_reach(
    error: BaseException | None, out_of_reach: bool
) -> None:
    """A server that answered, even with an error, is within reach: its calls go through the pool."""
    assert _out_of_reach(error) is out_of_reach
