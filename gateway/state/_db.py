"""The SQLite database behind gateway.state, and its schema."""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from gateway.errors import ConfigError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS approvals (
    id TEXT PRIMARY KEY,
    tool TEXT NOT NULL,
    args_sha256 TEXT NOT NULL,
    principal TEXT NOT NULL,
    revision TEXT NOT NULL,
    repo TEXT,
    path TEXT,
    arguments TEXT NOT NULL,
    request_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'used')),
    created REAL NOT NULL,
    expires REAL NOT NULL,
    decided_by TEXT,
    decided_at REAL,
    reason TEXT,
    used_at REAL
);
CREATE INDEX IF NOT EXISTS approvals_by_call ON approvals (tool, args_sha256, principal, revision);
CREATE TABLE IF NOT EXISTS write_usage (
    principal TEXT NOT NULL,
    day TEXT NOT NULL,
    writes INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    PRIMARY KEY (principal, day)
);
CREATE TABLE IF NOT EXISTS snapshots (
    id TEXT PRIMARY KEY,
    request_id TEXT NOT NULL,
    repo TEXT NOT NULL,
    path TEXT NOT NULL,
    branch TEXT NOT NULL,
    previous_sha TEXT,
    previous_content BLOB,
    new_sha TEXT NOT NULL,
    commit_sha TEXT NOT NULL,
    created REAL NOT NULL,
    rolled_back_by INTEGER
);
"""


class StateDB:
    """Example:
    db = StateDB.open(Path("var/state.db"))
    with db.transaction() as conn:
        conn.execute("SELECT ...")
    """

    def __init__(self, conn: sqlite3.Connection, path: Path) -> None:
        self._conn = conn
        self.path = path

    @classmethod
    def open(cls, path: Path) -> StateDB:
        path.parent.mkdir(parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
        try:
            conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            conn.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise ConfigError(f"state database {path} is unusable: {exc}") from exc
        return cls(conn, path)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE): committed at the end of the block, rolled back if it
        raises."""
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield self._conn
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def read(self) -> sqlite3.Connection:
        """The connection, for reads outside a transaction."""
        return self._conn

    def close(self) -> None:
        self._conn.close()
