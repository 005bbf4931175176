"""A bounded queue of accepted deliveries and the worker tasks that hand them to the handler.

`offer` never waits: a full queue refuses, and the receiver answers 503 and audits the drop. A handler
that raises is logged and counted, and its worker takes the next delivery. `stop` lets the workers
finish within a timeout, then cancels them and reports every delivery left unprocessed (logged one by
one, counted), so none is lost in silence.

Example:
    queue = DeliveryQueue(capacity=100, workers=4, handle=runner.handle, metrics=metrics)
    queue.start()
    accepted = queue.offer(delivery)
    left = await queue.stop(timeout_s=10)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from gateway.automation._events import Delivery, DeliveryHandler
from gateway.observability.metrics import Metrics

DEFAULT_STOP_TIMEOUT_S = 10.0
log = logging.getLogger(__name__)


class DeliveryQueue:
    def __init__(self, *, capacity: int, workers: int, handle: DeliveryHandler, metrics: Metrics) -> None:
        if capacity < 1 or workers < 1:
            raise ValueError(f"a queue needs capacity and workers >= 1, got {capacity} and {workers}")
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue(maxsize=capacity)
        self._worker_count = workers
        self._handle = handle
        self._metrics = metrics
        self._workers: list[asyncio.Task[None]] = []
        self._handling: dict[int, Delivery] = {}  # worker number -> the delivery it is handling
        self._stopping = False

    def offer(self, delivery: Delivery) -> bool:
        """Queue `delivery` for a worker; False when the queue is full or stopping (the caller counts
        and audits the drop)."""
        if self._stopping:
            return False
        try:
            self._queue.put_nowait(delivery)
        except asyncio.QueueFull:
            return False
        self._metrics.automation_queue_depth.set(self._queue.qsize())
        return True

    def start(self) -> None:
        """Start the workers (on the running loop); once is enough."""
        if not self._workers:
            self._workers = [
                asyncio.create_task(self._work(number), name=f"automation-worker-{number}")
                for number in range(self._worker_count)
            ]

    async def stop(self, timeout_s: float = DEFAULT_STOP_TIMEOUT_S) -> list[Delivery]:
        """Refuse new deliveries, wait up to `timeout_s` for the queued ones to be handled, then cancel
        the workers; returns the deliveries left unprocessed (being handled, or still queued)."""
        self._stopping = True
        if self._workers:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await self._queue.join()
        # No await from here to the cancellation: no worker can take a delivery in between.
        left = list(self._handling.values())
        while not self._queue.empty():
            left.append(self._queue.get_nowait())
            self._queue.task_done()
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        self._metrics.automation_queue_depth.set(0)
        for delivery in left:
            log.error(
                "automation delivery left unprocessed at stop",
                extra={"delivery": delivery.id, "gitea_event": delivery.event},
            )
        self._metrics.automation_unprocessed.inc(len(left))
        return left

    async def _work(self, number: int) -> None:
        while True:
            delivery = await self._queue.get()
            self._metrics.automation_queue_depth.set(self._queue.qsize())
            self._handling[number] = delivery
            try:
                await self._handle(delivery)
            except Exception:  # a handler's failure is the delivery's, never the worker's
                self._metrics.automation_handler_failures.inc()
                log.error(
                    "automation handler failed",
                    exc_info=True,
                    extra={"delivery": delivery.id, "gitea_event": delivery.event},
                )
            finally:
                del self._handling[number]
                self._queue.task_done()
