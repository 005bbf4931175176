"""The limit backends keep the same contract: memory in-process, Redis shared by replicas."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest

from gateway.edge.limits import Bucket, LimitBackend, MemoryBackend, RedisBackend
from gateway.errors import LimitBackendError
from tests.redis_server import RedisServer


@pytest.fixture(params=["memory", "redis"])
async def backend(request: pytest.FixtureRequest) -> AsyncIterator[LimitBackend]:
    if request.param == "memory":
        chosen: LimitBackend = MemoryBackend()
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        chosen = RedisBackend.from_url(server.url, prefix=f"test:{uuid.uuid4().hex}:")
    yield chosen
    await chosen.aclose()


async def test_bucket_allows_its_burst_then_refuses_with_retry_after(backend: LimitBackend) -> None:
    bucket = Bucket(rate_per_s=2, burst=3)
    verdicts = [await backend.take("k", bucket) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert 0.3 < verdicts[-1].retry_after_s <= 0.5  # one token at 2/s is at most 0.5 s away


async def test_bucket_refills_at_its_rate(backend: LimitBackend) -> None:
    bucket = Bucket(rate_per_s=10, burst=1)
    assert (await backend.take("k", bucket)).allowed
    assert not (await backend.take("k", bucket)).allowed
    await asyncio.sleep(0.15)
    assert (await backend.take("k", bucket)).allowed


async def test_buckets_of_different_keys_are_independent(backend: LimitBackend) -> None:
    bucket = Bucket(rate_per_s=0.01, burst=1)
    assert (await backend.take("a", bucket)).allowed
    assert not (await backend.take("a", bucket)).allowed
    assert (await backend.take("b", bucket)).allowed


async def test_window_counts_events_until_it_closes(backend: LimitBackend) -> None:
    assert (await backend.peek("w")).count == 0
    counts = [(await backend.count_event("w", 0.3)).count for _ in range(3)]
    assert counts == [1, 2, 3]
    window = await backend.peek("w")
    assert window.count == 3 and 0 < window.reset_in_s <= 0.3
    await asyncio.sleep(0.4)
    assert (await backend.peek("w")).count == 0
    assert (await backend.count_event("w", 0.3)).count == 1


def test_a_bucket_needs_a_positive_rate_and_burst() -> None:
    with pytest.raises(ValueError, match="rate_per_s > 0 and burst >= 1"):
        Bucket(rate_per_s=0, burst=1)
    with pytest.raises(ValueError, match="rate_per_s > 0 and burst >= 1"):
        Bucket(rate_per_s=1, burst=0)


async def test_replicas_sharing_redis_share_one_budget(redis_server: RedisServer) -> None:
    prefix = f"test:{uuid.uuid4().hex}:"
    replicas = [RedisBackend.from_url(redis_server.url, prefix=prefix) for _ in range(3)]
    bucket = Bucket(rate_per_s=0.001, burst=10)
    verdicts = await asyncio.gather(*(replicas[i % 3].take("shared", bucket) for i in range(40)))
    assert sum(v.allowed for v in verdicts) == 10
    for replica in replicas:
        await replica.aclose()


async def test_unreachable_redis_raises_instead_of_allowing() -> None:
    from tests.ports import free_port

    backend = RedisBackend.from_url(f"redis://127.0.0.1:{free_port()}/0", timeout_s=0.2)
    with pytest.raises(LimitBackendError, match="redis failed"):
        await backend.take("k", Bucket(rate_per_s=1, burst=1))
    with pytest.raises(LimitBackendError, match="redis unreachable"):
        await backend.ping()
    await backend.aclose()


async def test_memory_backend_stays_bounded_and_forgets_idle_entries_first() -> None:
    now = [0.0]
    backend = MemoryBackend(clock=lambda: now[0], max_keys=3)
    slow = Bucket(rate_per_s=0.001, burst=1)
    fast = Bucket(rate_per_s=1000, burst=1)
    assert (await backend.take("busy", slow)).allowed  # stays empty: must be kept
    for key in ("idle-1", "idle-2"):
        await backend.take(key, fast)
    now[0] = 1.0  # the fast buckets are full again, hence idle
    await backend.take("new", fast)
    assert not (await backend.take("busy", slow)).allowed  # still remembered as empty
