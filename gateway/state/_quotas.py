"""Write quotas per principal and UTC day: how many writes, how many bytes, how large one write."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from gateway.errors import GatewayError
from gateway.state._database import Database
from gateway.vocabulary import WriteQuota


class QuotaExceeded(GatewayError):
    """A write over a quota. `limit` names it (writes_per_day, write_bytes_per_day, max_write_bytes)."""

    def __init__(self, limit: str, message: str) -> None:
        super().__init__(message)
        self.limit = limit


@dataclasses.dataclass(frozen=True)
class Reservation:
    """A write counted before it runs, so that it can be given back if Gitea refused it."""

    principal: str
    day: str
    size: int


class WriteQuotas:
    """Example:
    quotas = WriteQuotas(db)
    reservation = await quotas.reserve("ci-bot", WriteQuota(100, 10 << 20, 1 << 20), size=512)
    """

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self._db = db
        self._clock = clock

    async def reserve(self, principal: str, quota: WriteQuota, *, size: int) -> Reservation:
        """Count one write of `size` bytes for today (UTC), or raise QuotaExceeded and count nothing."""
        if size > quota.max_write_bytes:
            raise QuotaExceeded(
                "max_write_bytes",
                f"this write stores {size} bytes; the key's limit is {quota.max_write_bytes}",
            )
        day = time.strftime("%Y-%m-%d", time.gmtime(self._clock()))
        async with self._db.transaction() as tx:
            await tx.lock(f"quota:{principal}:{day}")  # replicas reserving for one key take turns
            row = await tx.fetchone(
                "SELECT writes, bytes FROM write_usage WHERE principal = ? AND day = ?", (principal, day)
            )
            writes, written = (row["writes"], row["bytes"]) if row else (0, 0)
            if writes + 1 > quota.writes_per_day:
                raise QuotaExceeded(
                    "writes_per_day",
                    f"the key has used its {quota.writes_per_day} writes for {day} (UTC)",
                )
            if written + size > quota.write_bytes_per_day:
                raise QuotaExceeded(
                    "write_bytes_per_day",
                    f"this write of {size} bytes would exceed the key's {quota.write_bytes_per_day} bytes"
                    f" for {day} (UTC); {written} are used",
                )
            await tx.execute(
                "INSERT INTO write_usage (principal, day, writes, bytes) VALUES (?, ?, 1, ?)"
                " ON CONFLICT (principal, day)"
                " DO UPDATE SET writes = write_usage.writes + 1, bytes = write_usage.bytes + excluded.bytes",
                (principal, day, size),
            )
        return Reservation(principal=principal, day=day, size=size)

    async def refund(self, reservation: Reservation) -> None:
        """Give back a reserved write that did not happen."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE write_usage SET writes = CASE WHEN writes > 0 THEN writes - 1 ELSE 0 END,"
                " bytes = CASE WHEN bytes > ? THEN bytes - ? ELSE 0 END WHERE principal = ? AND day = ?",
                (reservation.size, reservation.size, reservation.principal, reservation.day),
            )
