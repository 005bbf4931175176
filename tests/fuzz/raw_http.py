"""Send bytes that no HTTP client library would write, and read the one response they get.

Example:
    reply = exchange(("127.0.0.1", 8080), b"POST /mcp HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
"""

from __future__ import annotations

import contextlib
import socket

from tests.fuzz.invariants import Reply

TIMEOUT_S = 10.0


class NoResponseError(AssertionError):
    """The server closed the connection, or went silent, without answering."""


def exchange(address: tuple[str, int], request: bytes, *, timeout_s: float = TIMEOUT_S) -> Reply:
    """Send `request` on a new connection; return the final (non-1xx) response, its body read by length.
    Raises NoResponseError when no answer comes within `timeout_s` of silence."""
    with socket.create_connection(address, timeout=timeout_s) as connection:
        # The server may answer, and close, before reading all of it: then read that answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            connection.sendall(request)
        stream = _Stream(connection)
        while True:
            status, headers = _head(stream)
            if status >= 200:
                break
        length = headers.get("content-length")
        body = stream.read_exactly(int(length)) if length is not None else stream.read_to_end()
        return Reply(status, headers, body)


class _Stream:
    def __init__(self, connection: socket.socket) -> None:
        self._connection = connection
        self._buffer = b""

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
            chunk = self._connection.recv(65536)
        except TimeoutError:
            timeout = self._connection.gettimeout()
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
