"""What the stores need of a database, whichever it is: transactions of SQL with `?` placeholders, a
lock that serializes the transactions naming it (across replicas, with PostgreSQL), and a ping.

The stores' SQL is written once, in the common subset of SQLite and PostgreSQL; each database turns its
driver's failures into StateUnavailable, so the core never sees a driver's exception.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from typing import Any, Literal, Protocol

Dialect = Literal["sqlite", "postgresql"]
Row = Mapping[str, Any]


class Transaction(Protocol):
    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; returns the number of rows it changed."""
        ...

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> Row | None: ...

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[Row]: ...

    async def lock(self, name: str) -> None:
        """Hold `name` until this transaction ends: another transaction locking it waits, on any replica."""
        ...


class Database(Protocol):
    dialect: Dialect
    where: str  # for messages: a path, or a URL without its password

    def transaction(self) -> contextlib.AbstractAsyncContextManager[Transaction]:
        """One transaction: committed when the block ends, rolled back when it raises. Raises
        StateUnavailable when the database cannot be reached or fails."""
        ...

    async def connect(self) -> None:
        """Connect, at the gateway's start; raises StateUnavailable when the database is out of reach."""
        ...

    async def ping(self) -> bool:
        """Whether the database answers now (for /readyz)."""
        ...

    async def aclose(self) -> None: ...
