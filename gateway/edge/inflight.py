"""A cap on requests in flight, and a share of it per key: over either, 503 with Retry-After instead of
an unbounded queue.

Mounted after authentication and the body read, so a request counts only once the client has sent all
of it: a client that never finishes its request cannot hold the cap, and the share bounds how much of
it one key's slow calls can.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.edge.events import SecurityEvents
from gateway.edge.responses import send_unavailable
from gateway.observability.metrics import Metrics
from gateway.vocabulary import PRINCIPAL_STATE_KEY


class InFlightLimitMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        max_in_flight: int,
        max_per_key: int,
        events: SecurityEvents,
        metrics: Metrics,
        protected: tuple[str, ...],
    ) -> None:
        self.app = app
        self.max_in_flight = max_in_flight
        self.max_per_key = max_per_key
        self.events = events
        self.metrics = metrics
        self.protected = protected
        self._in_flight = 0
        self._per_key: dict[str, int] = {}  # only keys with requests in flight: at most max_in_flight

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.protected:
            await self.app(scope, receive, send)
            return
        key = str(scope["state"][PRINCIPAL_STATE_KEY].id)  # KeyError: mounted before auth, a bug
        held = self._per_key.get(key, 0)
        if self._in_flight >= self.max_in_flight or held >= self.max_per_key:
            reason = "in_flight.cap" if self._in_flight >= self.max_in_flight else "in_flight.key_share"
            await self.events.record("overloaded", scope=scope, reason=reason, principal=key, repeating=True)
            await send_unavailable(scope, send, message="Service Unavailable: too many requests in flight")
            return
        self._per_key[key] = held + 1
        self._in_flight += 1
        self.metrics.in_flight.set(self._in_flight)
        try:
            await self.app(scope, receive, send)
        finally:
            self._in_flight -= 1
            self.metrics.in_flight.set(self._in_flight)
            left = self._per_key.pop(key) - 1
            if left:
                self._per_key[key] = left
