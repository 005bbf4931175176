"""The delivery queue: bounded, its workers survive a failing handler, and a stop reports (logs and
counts) every delivery it leaves unprocessed."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import generate_latest

from gateway.automation import Delivery, DeliveryQueue
from gateway.observability.metrics import Metrics


def delivery(number: int) -> Delivery:
    return Delivery(id=f"d-{number}", event="push", payload={"n": number}, received_at=0.0)


def sample(metrics: Metrics, name: str) -> float:
    for line in generate_latest(metrics.registry).decode().splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


async def test_a_full_queue_refuses_and_the_workers_drain_it() -> None:
    metrics, handled, release = Metrics.create(), [], asyncio.Event()

    async def handle(item: Delivery) -> None:
        await release.wait()
        handled.append(item.id)

    queue = DeliveryQueue(capacity=2, workers=1, handle=handle, metrics=metrics)
    queue.start()
    assert [queue.offer(delivery(n)) for n in range(2)] == [True, True]
    await asyncio.sleep(0)  # the worker takes the first: one place is free again
    assert [queue.offer(delivery(n)) for n in range(2, 4)] == [True, False]
    assert sample(metrics, "aegis_automation_queue_depth") == 2
    release.set()
    assert await queue.stop(timeout_s=5) == []
    assert handled == ["d-0", "d-1", "d-2"]


async def test_a_handler_that_raises_is_logged_and_counted_and_the_worker_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics, handled = Metrics.create(), []

    async def handle(item: Delivery) -> None:
        if item.id == "d-0":
            raise RuntimeError("job failed")
        handled.append(item.id)

    queue = DeliveryQueue(capacity=10, workers=1, handle=handle, metrics=metrics)
    queue.start()
    queue.offer(delivery(0))
    queue.offer(delivery(1))
    assert await queue.stop(timeout_s=5) == []
    assert handled == ["d-1"]
    assert sample(metrics, "aegis_automation_handler_failures_total") == 1
    [failure] = [record for record in caplog.records if record.msg == "automation handler failed"]
    assert failure.exc_info is not None and failure.__dict__["delivery"] == "d-0"


async def test_a_stop_past_its_timeout_cancels_and_reports_what_was_left(
    caplog: pytest.LogCaptureFixture,
) -> None:
    metrics, started = Metrics.create(), asyncio.Event()

    async def handle(item: Delivery) -> None:
        started.set()
        await asyncio.Event().wait()  # never finishes

    queue = DeliveryQueue(capacity=10, workers=1, handle=handle, metrics=metrics)
    queue.start()
    for number in range(3):
        queue.offer(delivery(number))
    await started.wait()
    with caplog.at_level(logging.ERROR):
        left = await queue.stop(timeout_s=0.05)
    assert [item.id for item in left] == ["d-0", "d-1", "d-2"]
    assert sample(metrics, "aegis_automation_unprocessed_total") == 3
    logged = [
        r.__dict__["delivery"]
        for r in caplog.records
        if r.msg == "automation delivery left unprocessed at stop"
    ]
    assert logged == ["d-0", "d-1", "d-2"]
    assert queue.offer(delivery(9)) is False  # stopped: nothing more is taken


def test_a_queue_needs_room_and_a_worker() -> None:
    async def handle(item: Delivery) -> None:
        pass

    with pytest.raises(ValueError, match="capacity and workers >= 1"):
        DeliveryQueue(capacity=0, workers=1, handle=handle, metrics=Metrics.create())
