"""Every policy the gateway served, kept by revision: what a decision was made under, for review.

Content-addressed: a revision is the digest of its bundle's content, so saving one twice keeps one row
(its first and latest load times change). `source` is the YAML the bundle was compiled from, or None
when the gateway was given a pre-built bundle.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from gateway.state._database import Database, Row

MIN_PREFIX = 8  # hex digits of a revision that may name it


@dataclasses.dataclass(frozen=True)
class ArchivedPolicy:
    revision: str
    source_sha256: str | None
    source: bytes | None
    bundle: bytes
    file: str  # the file it was last loaded from
    first_loaded: float
    last_loaded: float

    def line(self, source: object) -> tuple[int, str] | None:
        """The number and text of the YAML line a reason's source (`policy.yaml:LINE`) names; None when
        it names none, or no YAML was archived."""
        if self.source is None or not isinstance(source, str) or ":" not in source:
            return None
        number = source.rsplit(":", 1)[1]
        lines = self.source.decode("utf-8", "replace").splitlines()
        if not number.isdigit() or not 0 < int(number) <= len(lines):
            return None
        return int(number), lines[int(number) - 1]


class PolicyArchive:
    """Example:
    archive = PolicyArchive(db)
    await archive.save(revision, source=yaml_bytes, bundle=bundle_bytes, file="policy.yaml")
    policy = await archive.get("3f1c2a9b")  # a whole revision, or a unique prefix of 8+ hex digits
    """

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    async def save(
        self, revision: str, *, source: bytes | None, source_sha256: str | None, bundle: bytes, file: str
    ) -> None:
        now = self._clock()
        async with self._db.transaction() as tx:
            await tx.lock(f"policy:{revision}")
            updated = await tx.execute(
                "UPDATE policy_revisions SET last_loaded = ?, file = ? WHERE revision = ?",
                (now, file, revision),
            )
            if updated == 0:
                await tx.execute(
                    "INSERT INTO policy_revisions (revision, source_sha256, source, bundle, file,"
                    " first_loaded, last_loaded) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (revision, source_sha256, source, bundle, file, now, now),
                )

    async def get(self, revision: str) -> ArchivedPolicy | None:
        """The policy of `revision`, given whole or as a unique prefix; None when none (or several) match."""
        wanted = revision.lower()
        if len(wanted) < MIN_PREFIX or not all(c in "0123456789abcdef" for c in wanted):
            return None
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                "SELECT * FROM policy_revisions WHERE revision >= ? AND revision < ?"
                " ORDER BY revision LIMIT 2",
                (wanted, wanted + "g"),
            )
        return _archived(rows[0]) if len(rows) == 1 else None

    async def list(self) -> list[ArchivedPolicy]:
        """Every archived revision, the most recently loaded first."""
        async with self._db.transaction() as tx:
            rows = await tx.fetchall("SELECT * FROM policy_revisions ORDER BY last_loaded DESC")
        return [_archived(row) for row in rows]


def _archived(row: Row) -> ArchivedPolicy:
    return ArchivedPolicy(
        revision=row["revision"],
        source_sha256=row["source_sha256"],
        source=None if row["source"] is None else bytes(row["source"]),
        bundle=bytes(row["bundle"]),
        file=row["file"],
        first_loaded=row["first_loaded"],
        last_loaded=row["last_loaded"],
    )
