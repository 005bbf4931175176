"""The state database shared by replicas: PostgreSQL (AEGIS_STATE_URL), through a pool of async
connections (psycopg 3). Every wait is bounded: taking a connection, connecting, and each statement;
past them the call fails with StateUnavailable and its write is refused. Once a call has found the
database out of reach (a connection refused, lost or not made in time), later calls first wait for one
connection tried outside the pool, shared by the calls that start meanwhile, until the server answers
again: while the database is down they are refused at once with PostgreSQL's reason, not after the pool's
whole wait for a connection it cannot make.

`lock()` is a transaction-scoped advisory lock, so two replicas gating the same call, or reserving the
same key's quota, take turns: one consumes an approval, the other sees it used."""

from __future__ import annotations

import asyncio
import contextlib
import urllib.parse
from collections.abc import AsyncIterator, Sequence
from typing import Any

import psycopg
import psycopg_pool
from psycopg.rows import dict_row

from gateway.errors import StateUnavailable
from gateway.state._database import Dialect, Row

CONNECT_TIMEOUT_S = 5
ACQUIRE_TIMEOUT_S = 5.0
STATEMENT_TIMEOUT_MS = 5000
POOL_SIZE = 10


class PostgresDatabase:
    dialect: Dialect = "postgresql"

    def __init__(self, url: str, *, pool_size: int = POOL_SIZE) -> None:
        self.where = _without_password(url)
        self._pool: psycopg_pool.AsyncConnectionPool[psycopg.AsyncConnection[dict[str, Any]]] = (
            psycopg_pool.AsyncConnectionPool(
                url,
                min_size=1,
                max_size=pool_size,
                timeout=ACQUIRE_TIMEOUT_S,
                open=False,
                kwargs={
                    "connect_timeout": CONNECT_TIMEOUT_S,
                    "options": f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
                    "row_factory": dict_row,
                    "autocommit": True,
                },
                connection_class=psycopg.AsyncConnection[dict[str, Any]],
                check=psycopg_pool.AsyncConnectionPool.check_connection,  # a dead one is never handed out
                # A lost connection is not retried in the background with a backoff of minutes: the pool
                # opens a new one when a call asks, so the first call after the database is back works.
                reconnect_timeout=0,
            )
        )
        self._url = url
        self._out_of_reach = False
        self._attempt: asyncio.Task[None] | None = None  # the connection tried while out of reach

    async def connect(self) -> None:
        """Connect (the gateway's start-up); raises StateUnavailable when the database is out of reach,
        saying why (the pool alone would say only that it timed out): one connection is tried first."""
        try:
            await self._try_one_connection()
            await self._pool.open(wait=True, timeout=CONNECT_TIMEOUT_S * 2)
        except psycopg.Error as exc:  # PoolTimeout is one
            await self._pool.close()
            raise StateUnavailable(f"cannot reach the state database {self.where}: {_why(exc)}") from exc

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[_PostgresTransaction]:
        try:
            if self._out_of_reach:
                await self._reached()
            async with self._pool.connection() as conn, conn.transaction():
                yield _PostgresTransaction(conn, self.where)
        except psycopg.Error as exc:  # PoolTimeout is one
            if _out_of_reach(exc):
                self._out_of_reach = True
            raise StateUnavailable(f"state database {self.where} failed: {_why(exc)}") from exc

    async def ping(self) -> bool:
        try:
            async with self.transaction() as tx:
                await tx.fetchone("SELECT 1 AS one")
        except StateUnavailable:
            return False
        return True

    async def aclose(self) -> None:
        await self._pool.close()

    async def _reached(self) -> None:
        """Wait for one connection tried outside the pool (the one already being tried, if any); raises
        its error. A server that answers, even with an error, is within reach again."""
        if self._attempt is None:
            self._attempt = asyncio.create_task(self._try_one_connection())
            self._attempt.add_done_callback(self._attempt_ended)
        await asyncio.shield(self._attempt)  # a cancelled call leaves the attempt to the others

    def _attempt_ended(self, attempt: asyncio.Task[None]) -> None:
        self._attempt = None
        if not attempt.cancelled() and not _out_of_reach(attempt.exception()):
            self._out_of_reach = False

    async def _try_one_connection(self) -> None:
        """Connect and disconnect outside the pool: a refused connection fails at once, with its reason."""
        async with await psycopg.AsyncConnection.connect(self._url, connect_timeout=CONNECT_TIMEOUT_S):
            pass


class _PostgresTransaction:
    def __init__(self, conn: psycopg.AsyncConnection[dict[str, Any]], where: str) -> None:
        self._conn = conn
        self._where = where

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = await self._conn.execute(_placeholders(sql), tuple(params))
        return cursor.rowcount

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        cursor = await self._conn.execute(_placeholders(sql), tuple(params))
        return await cursor.fetchone()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        cursor = await self._conn.execute(_placeholders(sql), tuple(params))
        return list(await cursor.fetchall())

    async def lock(self, name: str) -> None:
        await self._conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (name,))


def _out_of_reach(error: BaseException | None) -> bool:
    """Whether `error` says the server could not be reached: no connection made (no SQLSTATE: refused, not
    made in time, the pool's timeout), a connection lost (class 08) or the server shutting down or
    starting (57P0x). A statement's error (a conflict, a lock timeout, too many connections) says the
    server answered."""
    if not isinstance(error, psycopg.OperationalError):
        return False
    return error.sqlstate is None or error.sqlstate.startswith(("08", "57P0"))


def _placeholders(sql: str) -> str:
    """The stores write `?` (no statement of theirs has a literal `?` or `%`)."""
    return sql.replace("?", "%s")


def _without_password(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urllib.parse.urlunsplit(parts._replace(netloc=netloc))


def _why(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
