"""What every limit backend offers."""

from __future__ import annotations

import dataclasses
from typing import Protocol


@dataclasses.dataclass(frozen=True, kw_only=True)
class Bucket:
    """A token bucket: `burst` requests at once, refilled at `rate_per_s`."""

    rate_per_s: float
    burst: int

    def __post_init__(self) -> None:
        if not self.rate_per_s > 0 or self.burst < 1:
            raise ValueError(f"a bucket needs rate_per_s > 0 and burst >= 1, got {self}")


@dataclasses.dataclass(frozen=True)
class Verdict:
    allowed: bool
    retry_after_s: float = 0.0


@dataclasses.dataclass(frozen=True)
class WindowCount:
    """Events counted in a window that opened at the first event; `reset_in_s` until it closes."""

    count: int
    reset_in_s: float


class LimitBackend(Protocol):
    async def take(self, key: str, bucket: Bucket) -> Verdict:
        """Take one token from the bucket `key`, or say how long until one is available."""
        ...

    async def count_event(self, key: str, window_s: float) -> WindowCount:
        """Count one event in the window of `key`, opening a window of `window_s` if none is open."""
        ...

    async def peek(self, key: str) -> WindowCount:
        """The open window of `key` without counting (count 0 when none is open)."""
        ...

    async def ping(self) -> None:
        """Raise LimitBackendError when the backend cannot answer."""
        ...

    async def aclose(self) -> None: ...
