"""A cap on requests in flight: over it, 503 with Retry-After instead of an unbounded queue."""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.edge.events import SecurityEvents
from gateway.edge.responses import send_unavailable
from gateway.observability.metrics import Metrics


class InFlightLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_in_flight: int,
        events: SecurityEvents,
        metrics: Metrics,
        protected: tuple[str, ...],
    ) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.events = events
        self.metrics = metrics
        self.protected = protected
        self._in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.protected:
            await self.app(scope, receive, send)
            return
        if self._in_flight >= self.max_in_flight:
            await self.events.record("overloaded", scope=scope, reason="in_flight.cap", repeating=True)
            await send_unavailable(scope, send, message="Service Unavailable: too many requests in flight")
            return
        self._in_flight += 1
        self.metrics.in_flight.set(self._in_flight)
        try:
            await self.app(scope, receive, send)
        finally:
            self._in_flight -= 1
            self.metrics.in_flight.set(self._in_flight)
