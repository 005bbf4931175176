"""The scheduler's tests use the state tests' databases: one SQLite file, or a real PostgreSQL, held by
two connections as two replicas hold them."""

from __future__ import annotations

from tests.unit.state.conftest import db, replicas

__all__ = ["db", "replicas"]
