"""Shared budgets of the edge: token buckets (rate limits) and failure windows (auth throttling).

Two backends behave alike: `MemoryBackend` for one replica, `RedisBackend` for several replicas that
must share one budget. A backend that cannot answer raises LimitBackendError; callers fail closed.

Example:
    backend = MemoryBackend()
    verdict = await backend.take("ip:10.0.0.7", Bucket(rate_per_s=20, burst=40))
    if not verdict.allowed: ...  # answer 429 with Retry-After: verdict.retry_after_s
"""

from typing import TYPE_CHECKING

from gateway.edge.limits._backend import Bucket, LimitBackend, Verdict, WindowCount
from gateway.edge.limits._memory import MemoryBackend

if TYPE_CHECKING:
    from gateway.edge.limits._redis import RedisBackend

__all__ = ["Bucket", "LimitBackend", "MemoryBackend", "RedisBackend", "Verdict", "WindowCount"]


def __getattr__(name: str) -> object:
    """The Redis client is imported only where it is used: a gateway without AEGIS_REDIS_URL, and every
    command, starts without it."""
    if name == "RedisBackend":
        from gateway.edge.limits._redis import RedisBackend

        return RedisBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
