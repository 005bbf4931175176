"""HTTP/1.1 over a plain socket: whole requests that no client library would write (`exchange`), and
posts on one kept-alive connection (`KeepAlive`), at a small fraction of a client library's cost per
request (the fuzz suite sends tens of thousands).

Example:
    reply = exchange(("127.0.0.1", 8080), b"POST /mcp HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
    reply = KeepAlive(("127.0.0.1", 8080)).post(b"/mcp", [(b"content-type", b"application/json")], b"{}")
"""

from __future__ import annotations

import contextlib
import select
import socket
from typing import TYPE_CHECKING

from tests.fuzz.invariants import Reply

if TYPE_CHECKING:
    from tests.fuzz.strategies import HeaderList

TIMEOUT_S = 10.0


class NoResponseError(AssertionError):
    """The server closed the connection, or went silent, without answering."""


def exchange(address: tuple[str, int], request: bytes, *, timeout_s: float = TIMEOUT_S) -> Reply:
    """Send `request` on a new connection; return the final (non-1xx) response, its body read by length.
    Raises NoResponseError when no answer comes within `timeout_s` of silence."""
    with socket.create_connection(address, timeout=timeout_s) as connection:
        _send(connection, request)
        return _response(_Stream(connection))


class KeepAlive:
    """One connection kept open across posts, as a client library keeps it; opened again when the server
    has closed it (after an answer saying `Connection: close`, or while it was idle). Stricter than a
    client library: an answer must be framed by one Content-Length, and nothing may follow it unasked."""

    def __init__(self, address: tuple[str, int], *, timeout_s: float = TIMEOUT_S) -> None:
        self._address = address
        self._timeout_s = timeout_s
        self._stream: _Stream | None = None

    def post(self, target: bytes, headers: HeaderList, body: bytes) -> Reply:
        """POST `body` with `headers` as given (a Host header added only when they have none, and the
        body's Content-Length); raises NoResponseError when the server closes or stays silent instead."""
        lines = [b"POST " + target + b" HTTP/1.1"]
        if not any(name.lower() == b"host" for name, _ in headers):
            lines.append(b"Host: %s:%d" % (self._address[0].encode(), self._address[1]))
        lines += [name + b": " + value for name, value in headers]
        lines.append(b"Content-Length: %d" % len(body))
        stream = self._open()
        try:
            _send(stream.connection, b"\r\n".join(lines) + b"\r\n\r\n" + body)
            reply = _response(stream)
            closing = reply.headers.get("connection", "").lower() == "close"
            assert closing or "content-length" in reply.headers, f"no Content-Length, kept alive: {reply}"
            assert not stream.unread, f"bytes after the answer: {stream.unread[:200]!r}"
        except BaseException:
            self.close()  # half written or half read: no later post may read out of step
            raise
        if closing:
            self.close()
        return reply

    def close(self) -> None:
        if self._stream is not None:
            self._stream.connection.close()
            self._stream = None

    def _open(self) -> _Stream:
        if self._stream is not None and select.select([self._stream.connection], [], [], 0)[0]:
            unasked = b""  # readable while idle: the server closed it, or wrote what nobody asked for
            with contextlib.suppress(ConnectionResetError):
                unasked = self._stream.connection.recv(65536)
            self.close()
            assert not unasked, f"the server wrote while the connection was idle: {unasked[:200]!r}"
        if self._stream is None:
            self._stream = _Stream(socket.create_connection(self._address, timeout=self._timeout_s))
        return self._stream


def _send(connection: socket.socket, request: bytes) -> None:
    # The server may answer, and close, before reading all of it: then read that answer.
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
        connection.sendall(request)


def _response(stream: _Stream) -> Reply:
    """The final (non-1xx) response, its body read by length (the gateway gives every answer one), else
    to the end of the connection."""
    while True:
        status, headers = _head(stream)
        if status >= 200:
            break
    length = headers.get("content-length")
    body = stream.read_exactly(int(length)) if length is not None else stream.read_to_end()
    return Reply(status, headers, body)


class _Stream:
    def __init__(self, connection: socket.socket) -> None:
        self.connection = connection
        self._buffer = b""

    @property
    def unread(self) -> bytes:
        return self._buffer

    def read_until(self, marker: bytes) -> bytes:
        while marker not in self._buffer:
            self._fill()
        found, _, self._buffer = self._buffer.partition(marker)
        return found

    def read_exactly(self, size: int) -> bytes:
        while len(self._buffer) < size:
            self._fill()
        found, self._buffer = self._buffer[:size], self._buffer[size:]
        return found

    def read_to_end(self) -> bytes:
        try:
            while True:
                self._fill()
        except NoResponseError:
            found, self._buffer = self._buffer, b""
            return found

    def _fill(self) -> None:
        try:
            chunk = self.connection.recv(65536)
        except TimeoutError:
            timeout = self.connection.gettimeout()
            raise NoResponseError(f"no answer within {timeout}s; received {self._buffer[:200]!r}") from None
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            raise NoResponseError(f"connection closed; received {self._buffer[:200]!r}")
        self._buffer += chunk


def _head(stream: _Stream) -> tuple[int, dict[str, str]]:
    status_line, *lines = stream.read_until(b"\r\n\r\n").split(b"\r\n")
    _, status, *_ = status_line.split(b" ", 2)
    headers = {}
    for line in lines:
        name, _, value = line.partition(b":")
        headers[name.decode("latin-1").strip().lower()] = value.decode("latin-1").strip()
    return int(status), headers
