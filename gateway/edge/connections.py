"""The HTTP/1.1 protocol the gateway serves: uvicorn's h11 protocol with bounds on what a connection may
hold before its request has arrived.

- A request head must be complete within `header_timeout_s` of its first byte (of the connection, for
  the first request), else the connection is closed: a head sent a byte at a time holds nothing long.
- A head may be `max_header_bytes` long; h11 refuses a longer one before it is parsed, answered 431.
- One client address (an IPv6 /64) may hold `max_per_address` connections; more are closed as soon as
  they are accepted, so that one address cannot take every file descriptor. Trusted proxies, which
  carry many clients, are not capped.

h11 rather than httptools: httptools puts no bound on the size of a request head.
"""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any, ClassVar

import h11
from prometheus_client import Counter
from uvicorn.protocols.http.h11_impl import H11Protocol

from gateway.edge._client_ip import budget_subject
from gateway.edge.forwarded import is_trusted_proxy
from gateway.vocabulary import Network


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConnectionLimits:
    header_timeout_s: float
    max_header_bytes: int
    max_per_address: int
    trusted_proxies: tuple[Network, ...] = ()


class ConnectionsPerAddress:
    """Open connections by client address; an address at the cap is refused another."""

    def __init__(self, cap: int) -> None:
        self._cap = cap
        self._open: dict[str, int] = {}  # only addresses with open connections

    def acquire(self, subject: str) -> bool:
        held = self._open.get(subject, 0)
        if held >= self._cap:
            return False
        self._open[subject] = held + 1
        return True

    def release(self, subject: str) -> None:
        left = self._open.pop(subject) - 1
        if left:
            self._open[subject] = left


class EdgeH11Protocol(H11Protocol):
    """Configured through `edge_protocol`: uvicorn creates one instance per connection itself."""

    limits: ClassVar[ConnectionLimits]
    per_address: ClassVar[ConnectionsPerAddress]
    closed_early: ClassVar[Counter]  # by reason

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._counted_as: str | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        peer = self.client[0] if self.client else None
        if peer is not None and not is_trusted_proxy(peer, self.limits.trusted_proxies):
            subject = budget_subject(peer)
            if not self.per_address.acquire(subject):
                self.closed_early.labels(reason="per_address").inc()
                transport.close()
                return
            self._counted_as = subject
        self._await_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        if self._counted_as is not None:
            self.per_address.release(self._counted_as)
            self._counted_as = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:  # the first bytes of a head, or more of it
            self._await_head()
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the head is complete (or refused)
            self._stop_head_timer()

    def send_400_response(self, msg: str) -> None:
        if len(self.conn.trailing_data[0]) <= self.limits.max_header_bytes:
            super().send_400_response(msg)
            return
        # h11 refused a head that outgrew its buffer bound: say which bound.
        self.closed_early.labels(reason="header_too_large").inc()
        reason = b"Request Header Fields Too Large"
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"connection", b"close")]
        self.transport.write(self.conn.send(h11.Response(status_code=431, headers=headers, reason=reason)))
        self.transport.write(self.conn.send(h11.Data(data=reason)))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()

    def _await_head(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.limits.header_timeout_s, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.closed_early.labels(reason="header_timeout").inc()
            self.transport.close()


def edge_protocol(limits: ConnectionLimits, closed_early: Counter) -> type[EdgeH11Protocol]:
    """A protocol class for uvicorn's `http=` bound to `limits`, with a count of connections per address
    of its own; `closed_early` counts the connections it closes, by reason."""

    class BoundEdgeH11Protocol(EdgeH11Protocol):
        pass

    BoundEdgeH11Protocol.limits = limits
    BoundEdgeH11Protocol.per_address = ConnectionsPerAddress(limits.max_per_address)
    BoundEdgeH11Protocol.closed_early = closed_early
    return BoundEdgeH11Protocol
