"""What each file write replaced, kept so that `aegis rollback` can restore it."""

from __future__ import annotations

import dataclasses
import secrets
import time
from collections.abc import Callable

from gateway.errors import GatewayError
from gateway.state._db import StateDB
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
    snapshot_id = snapshots.save(output.snapshot, request_id="...")
    """

    def __init__(self, db: StateDB, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    def save(self, snapshot: FileSnapshot, *, request_id: str) -> str:
        snapshot_id = f"snap_{secrets.token_hex(8)}"
        with self._db.transaction() as conn:
            conn.execute(
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

    def get(self, snapshot_id: str) -> StoredSnapshot:
        row = self._db.read().execute("SELECT * FROM snapshots WHERE id = ?", (snapshot_id,)).fetchone()
        if row is None:
            raise SnapshotError(f"no snapshot {snapshot_id!r} in {self._db.path}")
        return StoredSnapshot(
            id=row["id"],
            request_id=row["request_id"],
            snapshot=FileSnapshot(
                repo=row["repo"],
                path=row["path"],
                branch=row["branch"],
                previous_sha=row["previous_sha"],
                previous_content=row["previous_content"],
                new_sha=row["new_sha"],
                commit_sha=row["commit_sha"],
            ),
            rolled_back_by=row["rolled_back_by"],
        )

    def claim(self, snapshot_id: str) -> None:
        """Mark a snapshot as being rolled back (-1) so that two rollbacks cannot both use it."""
        with self._db.transaction() as conn:
            updated = conn.execute(
                "UPDATE snapshots SET rolled_back_by = -1 WHERE id = ? AND rolled_back_by IS NULL",
                (snapshot_id,),
            ).rowcount
        if updated != 1:
            raise SnapshotError(f"snapshot {snapshot_id} was already rolled back")

    def release(self, snapshot_id: str) -> None:
        """Undo a claim whose rollback did not happen."""
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE snapshots SET rolled_back_by = NULL WHERE id = ? AND rolled_back_by = -1",
                (snapshot_id,),
            )

    def complete(self, snapshot_id: str, *, seq: int) -> None:
        with self._db.transaction() as conn:
            conn.execute("UPDATE snapshots SET rolled_back_by = ? WHERE id = ?", (seq, snapshot_id))
