"""What each file write replaced, kept so that `aegis rollback` can restore it."""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable

from gateway.errors import GatewayError
from gateway.state._database import Database
from gateway.vocabulary import FileSnapshot


class SnapshotError(GatewayError):
    """A snapshot that cannot be used: unknown, or already rolled back."""


@dataclasses.dataclass(frozen=True)
class StoredSnapshot:
    id: str
    request_id: str
    snapshot: FileSnapshot
    rolled_back_by: int | None  # the audit seq of the rollback that used it


class SnapshotStore:
    """Example:
    snapshots = SnapshotStore(db)
    snapshot_id = await snapshots.save(output.snapshot, request_id="...")
    """

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    async def save(self, snapshot: FileSnapshot, *, request_id: str) -> str:
        snapshot_id = f"snap_{secrets.token_hex(8)}"
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO snapshots (id, request_id, repo, path, branch, previous_sha, previous_content,"
                " new_sha, commit_sha, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    snapshot_id,
                    request_id,
                    snapshot.repo,
                    snapshot.path,
                    snapshot.branch,
                    snapshot.previous_sha,
                    snapshot.previous_content,
                    snapshot.new_sha,
                    snapshot.commit_sha,
                    self._clock(),
                ),
            )
        return snapshot_id

    async def get(self, snapshot_id: str) -> StoredSnapshot:
        async with self._db.transaction() as tx:
            row = await tx.fetchone("SELECT * FROM snapshots WHERE id = ?", (snapshot_id,))
        if row is None:
            raise SnapshotError(f"no snapshot {snapshot_id!r} in {self._db.where}")
        return StoredSnapshot(
            id=row["id"],
            request_id=row["request_id"],
            snapshot=FileSnapshot(
                repo=row["repo"],
                path=row["path"],
                branch=row["branch"],
                previous_sha=row["previous_sha"],
                previous_content=_bytes(row["previous_content"]),
                new_sha=row["new_sha"],
                commit_sha=row["commit_sha"],
            ),
            rolled_back_by=row["rolled_back_by"],
        )

    async def claim(self, snapshot_id: str) -> None:
        """Mark a snapshot as being rolled back (-1) so that two rollbacks, on any replicas, cannot both
        use it."""
        async with self._db.transaction() as tx:
            updated = await tx.execute(
                "UPDATE snapshots SET rolled_back_by = -1 WHERE id = ? AND rolled_back_by IS NULL",
                (snapshot_id,),
            )
        if updated != 1:
            raise SnapshotError(f"snapshot {snapshot_id} was already rolled back")

    async def release(self, snapshot_id: str) -> None:
        """Undo a claim whose rollback did not happen."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE snapshots SET rolled_back_by = NULL WHERE id = ? AND rolled_back_by = -1",
                (snapshot_id,),
            )

    async def complete(self, snapshot_id: str, *, seq: int) -> None:
        async with self._db.transaction() as tx:
            await tx.execute("UPDATE snapshots SET rolled_back_by = ? WHERE id = ?", (seq, snapshot_id))


def _bytes(value: bytes | memoryview | None) -> bytes | None:
    """SQLite gives bytes, PostgreSQL a memoryview of its BYTEA."""
    return None if value is None else bytes(value)
