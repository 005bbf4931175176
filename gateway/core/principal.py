"""Who is calling: the authenticated identity the edge hands to the core."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class WriteQuota:
    """Per key and UTC day: at most `writes_per_day` writes storing `write_bytes_per_day` bytes in all,
    none larger than `max_write_bytes`."""

    writes_per_day: int
    write_bytes_per_day: int
    max_write_bytes: int


@dataclasses.dataclass(frozen=True)
class QuotaOverride:
    """A key's own write quotas; each None keeps the gateway's default."""

    writes_per_day: int | None = None
    write_bytes_per_day: int | None = None
    max_write_bytes: int | None = None

    def over(self, default: WriteQuota) -> WriteQuota:
        return WriteQuota(
            writes_per_day=self.writes_per_day or default.writes_per_day,
            write_bytes_per_day=self.write_bytes_per_day or default.write_bytes_per_day,
            max_write_bytes=self.max_write_bytes or default.max_write_bytes,
        )

    def as_dict(self) -> dict[str, int]:
        return {name: value for name, value in dataclasses.asdict(self).items() if value is not None}


NO_QUOTA_OVERRIDE = QuotaOverride()


@dataclasses.dataclass(frozen=True)
class Principal:
    id: str
    kind: str
    scopes: tuple[str, ...]
    roles: tuple[str, ...] = ()
    write_quota: QuotaOverride = NO_QUOTA_OVERRIDE

    def may(self, capability: str) -> bool:
        """Whether the key's scopes cover tools of `capability` (read, write, automation)."""
        return f"tools:{capability}" in self.scopes

    def as_input(self) -> dict[str, Any]:
        """The `principal` member of the OPA input document."""
        return {"id": self.id, "kind": self.kind, "scopes": list(self.scopes), "roles": list(self.roles)}
