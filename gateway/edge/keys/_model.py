"""What a key is: its entry in the keys file, its own rate limit, what it authenticates as; times."""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from gateway.errors import KeyStoreError
from gateway.vocabulary import NO_QUOTA_OVERRIDE, Principal, QuotaOverride

KEY_PREFIX = "aegis_"
MAX_KEY_LENGTH = 256
KEY_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")

KeyState = Literal["active", "expired", "revoked", "rotating"]
_DURATION = re.compile(r"(\d{1,6})([smhd])")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


@dataclasses.dataclass(frozen=True)
class KeyRateLimit:
    """A key's own token bucket: `rate_per_s` requests per second on average, bursts of up to `burst`."""

    rate_per_s: float
    burst: int

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate_per_s) and self.rate_per_s > 0):
            raise KeyStoreError(
                f"rate must be a positive number of requests per second, not {self.rate_per_s}"
            )
        if self.burst < 1:
            raise KeyStoreError(f"burst must be a positive integer, not {self.burst}")


@dataclasses.dataclass(frozen=True)
class StoredKey:
    """One entry of the keys file. `rotated_to` names the id of the key that replaces this one."""

    id: str
    name: str
    sha256: str = dataclasses.field(repr=False)
    scopes: tuple[str, ...]
    created: datetime
    expires: datetime | None = None
    revoked: datetime | None = None
    rotated_to: str | None = None
    rate_limit: KeyRateLimit | None = None
    write_quota: QuotaOverride = NO_QUOTA_OVERRIDE

    def is_live(self, now: datetime) -> bool:
        """Whether this key authenticates at `now`."""
        return self.revoked is None and (self.expires is None or now < self.expires)

    def state(self, now: datetime) -> KeyState:
        if self.revoked is not None:
            return "revoked"
        if not self.is_live(now):
            return "expired"
        return "rotating" if self.rotated_to is not None else "active"

    def summary(self, now: datetime) -> dict[str, Any]:
        """What `aegis keys list --json` shows: everything but the hash."""
        return {
            "name": self.name,
            "id": self.id,
            "scopes": list(self.scopes),
            "created": format_time(self.created),
            "age_s": max(0, int((now - self.created).total_seconds())),
            "expires": format_optional(self.expires),
            "revoked": format_optional(self.revoked),
            "state": self.state(now),
            "rotated_to": self.rotated_to,
            "rate": self.rate_limit.rate_per_s if self.rate_limit else None,
            "burst": self.rate_limit.burst if self.rate_limit else None,
            "quota": self.write_quota.as_dict(),
        }


@dataclasses.dataclass(frozen=True)
class KeyMatch:
    """An authenticated key: who it speaks for, which entry matched, and its own rate limit if any."""

    principal: Principal
    key_id: str
    rate_limit: KeyRateLimit | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def format_optional(moment: datetime | None) -> str | None:
    return format_time(moment) if moment is not None else None


def parse_duration(text: str) -> timedelta:
    """`30d`, `12h`, `90m` or `45s`."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise KeyStoreError(f"{text!r} is not a duration like 30d, 12h, 90m or 45s")
    return timedelta(**{_DURATION_UNITS[match.group(2)]: int(match.group(1))})


def parse_expiry(text: str) -> datetime | timedelta:
    """An RFC 3339 time with an explicit offset, or a duration counted from when the key is issued."""
    if _DURATION.fullmatch(text):
        return parse_duration(text)
    if RFC3339.fullmatch(text):
        return datetime.fromisoformat(text).astimezone(UTC)
    raise KeyStoreError(
        f"expiry {text!r} is neither an RFC 3339 time (2026-12-31T23:59:59Z)"
        " nor a duration like 30d, 12h or 90m"
    )


def utc_now() -> datetime:
    return datetime.now(UTC)
