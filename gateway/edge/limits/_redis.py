"""Budgets kept in Redis, shared by every replica that uses the same Redis and key prefix.

Each operation is one Lua script, so it is atomic however many replicas race; time is Redis's own
clock (TIME), so replicas with skewed clocks still share one budget.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import cast

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
from redis.exceptions import RedisError

from gateway.edge.limits._backend import Bucket, Verdict, WindowCount
from gateway.errors import LimitBackendError

DEFAULT_PREFIX = "aegis:"
DEFAULT_TIMEOUT_S = 0.5

_TAKE = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'updated')
local tokens = tonumber(state[1])
local updated = tonumber(state[2])
if tokens == nil or updated == nil then
  tokens = burst
  updated = now
end
tokens = math.min(burst, tokens + math.max(0, now - updated) * rate)
local allowed = 0
local retry = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  retry = (1 - tokens) / rate
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'updated', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate * 1000) + 1000)
return {allowed, tostring(retry)}
"""

_COUNT = """
local count = redis.call('INCR', KEYS[1])
if count == 1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return {count, redis.call('PTTL', KEYS[1])}
"""

_PEEK = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
return {count, redis.call('PTTL', KEYS[1])}
"""


class RedisBackend:
    """Example:
    backend = RedisBackend.from_url("redis://127.0.0.1:6379/0")
    """

    def __init__(self, client: aioredis.Redis, *, prefix: str = DEFAULT_PREFIX) -> None:
        self._client = client
        self._prefix = prefix
        self._take = client.register_script(_TAKE)
        self._count = client.register_script(_COUNT)
        self._peek = client.register_script(_PEEK)

    @classmethod
    def from_url(
        cls, url: str, *, prefix: str = DEFAULT_PREFIX, timeout_s: float = DEFAULT_TIMEOUT_S
    ) -> RedisBackend:
        client = aioredis.Redis.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry_on_timeout=False
        )
        return cls(client, prefix=prefix)

    async def take(self, key: str, bucket: Bucket) -> Verdict:
        allowed, retry = await self._run(self._take, key, bucket.rate_per_s, bucket.burst)
        return Verdict(allowed == "1", float(retry))

    async def count_event(self, key: str, window_s: float) -> WindowCount:
        count, ttl_ms = await self._run(self._count, key, max(1, round(window_s * 1000)))
        return WindowCount(int(count), max(0, int(ttl_ms)) / 1000)

    async def peek(self, key: str) -> WindowCount:
        count, ttl_ms = await self._run(self._peek, key)
        return WindowCount(int(count), max(0, int(ttl_ms)) / 1000) if int(ttl_ms) > 0 else WindowCount(0, 0.0)

    async def ping(self) -> None:
        try:
            await cast("Awaitable[object]", self._client.ping())  # typed as sync-or-async
        except (RedisError, OSError) as exc:
            raise LimitBackendError(f"redis unreachable: {type(exc).__name__}") from exc

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _run(self, script: AsyncScript, key: str, *args: float | int) -> list[str]:
        try:
            result = await script(keys=[self._prefix + key], args=list(args))
        except (RedisError, OSError) as exc:
            raise LimitBackendError(f"redis failed: {type(exc).__name__}") from exc
        if not isinstance(result, list) or len(result) != 2:
            raise LimitBackendError("redis answered a malformed result")
        return [item.decode() if isinstance(item, bytes) else str(item) for item in result]
