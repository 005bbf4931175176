"""Budgets kept in this process: exact for one replica, shared with none."""

from __future__ import annotations

import time
from collections.abc import Callable

from gateway.edge.limits._backend import Bucket, Verdict, WindowCount

DEFAULT_MAX_KEYS = 100_000
EVICT_TO = 0.9


class MemoryBackend:
    """Token buckets and failure windows in dictionaries bounded to `max_keys` entries each.

    When a dictionary is full, idle entries go first (a full bucket, a closed window: forgetting them
    changes nothing); then the oldest entries, which at worst gives their owners a fresh budget, down to
    `EVICT_TO` of the bound so that the sweep is not repeated for every new key.
    """

    def __init__(
        self, *, clock: Callable[[], float] = time.monotonic, max_keys: int = DEFAULT_MAX_KEYS
    ) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: dict[str, tuple[float, float, Bucket]] = {}  # key -> (tokens, updated, bucket)
        self._windows: dict[str, tuple[int, float]] = {}  # key -> (count, closes_at)

    async def take(self, key: str, bucket: Bucket) -> Verdict:
        now = self._clock()
        tokens, updated, _ = self._buckets.get(key, (float(bucket.burst), now, bucket))
        tokens = min(float(bucket.burst), tokens + (now - updated) * bucket.rate_per_s)
        verdict = Verdict(True) if tokens >= 1 else Verdict(False, (1 - tokens) / bucket.rate_per_s)
        if verdict.allowed:
            tokens -= 1
        if key not in self._buckets and len(self._buckets) >= self._max_keys:
            self._evict_buckets(now)
        self._buckets[key] = (tokens, now, bucket)
        return verdict

    async def count_event(self, key: str, window_s: float) -> WindowCount:
        now = self._clock()
        count, closes_at = self._windows.get(key, (0, now))
        if closes_at <= now:
            count, closes_at = 0, now + window_s
        if key not in self._windows and len(self._windows) >= self._max_keys:
            self._evict_windows(now)
        self._windows[key] = (count + 1, closes_at)
        return WindowCount(count + 1, closes_at - now)

    async def peek(self, key: str) -> WindowCount:
        now = self._clock()
        count, closes_at = self._windows.get(key, (0, now))
        return WindowCount(count, closes_at - now) if closes_at > now else WindowCount(0, 0.0)

    async def ping(self) -> None:
        """Always answers: it lives in this process."""

    async def aclose(self) -> None:
        self._buckets.clear()
        self._windows.clear()

    def _evict_buckets(self, now: float) -> None:
        for key, (tokens, updated, bucket) in list(self._buckets.items()):
            if tokens + (now - updated) * bucket.rate_per_s >= bucket.burst:
                del self._buckets[key]
        while len(self._buckets) > self._max_keys * EVICT_TO:
            del self._buckets[next(iter(self._buckets))]

    def _evict_windows(self, now: float) -> None:
        for key, (_, closes_at) in list(self._windows.items()):
            if closes_at <= now:
                del self._windows[key]
        while len(self._windows) > self._max_keys * EVICT_TO:
            del self._windows[next(iter(self._windows))]
