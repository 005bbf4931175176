"""The HTTP/1.1 protocol the gateway serves: uvicorn's httptools protocol with bounds on what a connection
may hold before its request has arrived.

- A request head must be complete within `header_timeout_s` of its first byte (of the connection, for
  the first request), else the connection is closed: a head sent a byte at a time holds nothing long.
- A head may be `max_header_bytes` long. httptools has no such bound of its own (it gathers a header
  line however long it grows), so the bytes of a head are counted as they arrive, before the parser
  sees them, and a longer head is answered 431 and closed. A read that brings the end of one head may
  also bring the start of the next request (pipelining); that start is not counted, so a head is held
  to the bound plus at most one read.
- What follows a head is bounded too: a message's body with its chunk framing and trailers (which
  httptools gathers like header lines) may take `MESSAGE_BYTES_PER_BODY_BYTE` times `max_body_bytes`
  plus a head's bound; more closes the connection.
- A response sent before its request was read whole (a refusal) leaves the rest of the body to drop.
  A declared body within `max_body_bytes` is read past and the connection goes on: a client may send
  its next request as soon as it has the answer (it was told nothing else), and a closed connection
  would lose it. A larger or chunked one ends the connection: the gateway half-closes it and, for
  `LINGER_S` at most and within the message's bound, reads what is left and drops it unparsed. A
  socket closed with unread bytes, or receiving bytes after its close, resets the connection, and a
  reset can destroy the response the client has not read yet. Over TLS, which has no half-close, the
  connection is closed at once.
- One client address (an IPv6 /64) may hold `max_per_address` connections; more are closed as soon as
  they are accepted, so that one address cannot take every file descriptor. Trusted proxies, which
  carry many clients, are not capped.

httptools rather than h11: parsing a typical request head cost 65 us with h11 against 2 us with
httptools, and h11 writes the response too (docs/performance.md).
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
from typing import Any, ClassVar

from prometheus_client import Counter
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from gateway.edge._client_ip import budget_subject
from gateway.edge.forwarded import is_trusted_proxy
from gateway.vocabulary import Network


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConnectionLimits:
    header_timeout_s: float
    max_header_bytes: int
    max_body_bytes: int
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


HEAD_ENDS = (b"\r\n\r\n", b"\n\n")  # llhttp also takes bare line feeds
BLANK_LINES = b"\r\n"  # llhttp skips empty lines before a request line
MESSAGE_BYTES_PER_BODY_BYTE = 8  # room for chunk framing: "1\r\nx\r\n" carries one byte in six
LINGER_S = 2.0  # how long the rest of a refused request is still read, and dropped


class EdgeProtocol(HttpToolsProtocol):
    """Configured through `edge_protocol`: uvicorn creates one instance per connection itself."""

    limits: ClassVar[ConnectionLimits]
    per_address: ClassVar[ConnectionsPerAddress]
    closed_early: ClassVar[Counter]  # by reason

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._counted_as: str | None = None
        self._in_head = True  # the next bytes belong to a request head; else to its message's body
        self._head_bytes = 0
        self._head_tail = b""  # the last bytes of the head so far: its end may straddle two reads
        self._body_left = 0  # what the rest of the message may still take, in bytes
        self._small_body = False  # the message declared a Content-Length within max_body_bytes
        self._linger_timer: asyncio.TimerHandle | None = None  # set while a refused request is dropped

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
        if self._linger_timer is not None:
            self._linger_timer.cancel()
        if self._counted_as is not None:
            self.per_address.release(self._counted_as)
            self._counted_as = None
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._in_head:  # the first bytes of a head, or more of it
            self._await_head()
            if not self._head_fits(data):
                self._refuse_head()
                return
        else:
            self._body_left -= len(data)
            if self._body_left < 0:
                self.closed_early.labels(reason="message_too_large").inc()
                self.transport.close()
                return
            if self._linger_timer is not None:  # the rest of a refused request
                return
        super().data_received(data)

    def on_headers_complete(self) -> None:
        self._in_head, self._head_bytes, self._head_tail = False, 0, b""
        limits = self.limits
        self._small_body = _declared_length(self.headers) <= limits.max_body_bytes
        self._body_left = MESSAGE_BYTES_PER_BODY_BYTE * limits.max_body_bytes + limits.max_header_bytes
        self._stop_head_timer()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_head = True

    def on_response_complete(self) -> None:
        # Answered before its request was read whole (a refusal): a small rest is read past, a larger
        # one ends the connection. A pipelined request queued behind this response is another's.
        refused = not self.pipeline and self.cycle is not None and self.cycle.more_body
        if refused and not self._small_body:
            self.closed_early.labels(reason="body_unread").inc()
            self._drop_the_rest()
        super().on_response_complete()

    def _drop_the_rest(self) -> None:
        if self.transport.is_closing():  # the client asked for the close itself
            return
        if self.transport.can_write_eof():
            self.transport.write_eof()  # after the response, which the buffer may still hold
            self._linger_timer = self.loop.call_later(LINGER_S, self.transport.close)
        else:
            self.transport.close()

    def _head_fits(self, data: bytes) -> bool:
        """Count `data` into the head; False when the head grows past its bound."""
        bound = self.limits.max_header_bytes
        if self._head_bytes == 0:  # blank lines before a head are skipped, and not a head's end
            data = data.lstrip(BLANK_LINES)
        if self._head_bytes + len(data) <= bound:
            self._head_bytes += len(data)
            self._head_tail = (self._head_tail + data)[-3:]
            return True
        window = self._head_tail + data  # the head may end in this read, before the bound
        start = self._head_bytes - len(self._head_tail)
        ends = [window.find(end) + len(end) for end in HEAD_ENDS if end in window]
        return bool(ends) and start + min(ends) <= bound

    def _refuse_head(self) -> None:
        self.closed_early.labels(reason="header_too_large").inc()
        reason = b"Request Header Fields Too Large"
        self.transport.write(
            b"HTTP/1.1 431 %s\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: %d\r\n"
            b"connection: close\r\n\r\n%s" % (reason, len(reason), reason)
        )
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


def _declared_length(headers: list[tuple[bytes, bytes]]) -> float:
    """The message's Content-Length; infinite when it has none (chunked) or one that does not parse
    (httptools refuses such a message on its own)."""
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.isdigit() else math.inf
    return math.inf


def edge_protocol(limits: ConnectionLimits, closed_early: Counter) -> type[EdgeProtocol]:
    """A protocol class for uvicorn's `http=` bound to `limits`, with a count of connections per address
    of its own; `closed_early` counts the connections it closes, by reason."""

    class BoundEdgeProtocol(EdgeProtocol):
        pass

    BoundEdgeProtocol.limits = limits
    BoundEdgeProtocol.per_address = ConnectionsPerAddress(limits.max_per_address)
    BoundEdgeProtocol.closed_early = closed_early
    return BoundEdgeProtocol
