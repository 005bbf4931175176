"""The single-node state database: one SQLite file (AEGIS_STATE_DB) written by one gateway process.

Statements run on the event loop without an await point between BEGIN and COMMIT, so a transaction is
atomic with respect to the other calls of the process; BEGIN IMMEDIATE makes it so against another
process on the same file too. That also makes `lock()` a no-op here."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

from gateway.errors import StateUnavailable
from gateway.state._database import Dialect, Row


class SqliteDatabase:
    dialect: Dialect = "sqlite"

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path
        self.where = str(path)

    @classmethod
    def open(cls, path: Path) -> SqliteDatabase:
        """Open (and create, mode 0600) the database file; raises OSError or StateUnavailable."""
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.execute("PRAGMA busy_timeout=5000")
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state database {path} is unusable: {exc}") from exc
        return cls(conn, path)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[_SqliteTransaction]:
        try:
            self._conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state database {self.path} failed: {exc}") from exc
        try:
            yield _SqliteTransaction(self._conn, self.path)
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            raise
        try:
            self._conn.execute("COMMIT")
        except sqlite3.Error as exc:
            with contextlib.suppress(sqlite3.Error):
                self._conn.execute("ROLLBACK")
            raise StateUnavailable(f"state database {self.path} failed: {exc}") from exc

    async def connect(self) -> None:
        """The file was opened with the instance."""

    async def ping(self) -> bool:
        try:
            self._conn.execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    async def aclose(self) -> None:
        self._conn.close()


class _SqliteTransaction:
    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self._path = path

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return self._run(sql, params).rowcount

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None:
        row: sqlite3.Row | None = self._run(sql, params).fetchone()
        return None if row is None else dict(zip(row.keys(), row, strict=True))

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]:
        return [dict(zip(row.keys(), row, strict=True)) for row in self._run(sql, params).fetchall()]

    async def lock(self, name: str) -> None:
        """BEGIN IMMEDIATE holds the database's write lock already."""

    def _run(self, sql: str, params: Sequence[Any]) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, tuple(params))
        except sqlite3.Error as exc:
            raise StateUnavailable(f"state database {self._path} failed: {exc}") from exc
