"""A lean HTTP/1.1 client for the OPA beside the gateway: its private unix socket, or plain HTTP on the
pod's loopback. Keep-alive connections, a finite timeout per exchange, bounded bodies.

Every call asks OPA once, so this hop is on the hot path; aiohttp's general machinery cost about 0.3 ms
of CPU per decision more than these few reads and writes (docs/performance.md). It speaks only what
OPA's server answers: a status line, headers, and a body framed by Content-Length or chunked encoding.
Anything else is a failed request, never a guess. Gitea, which may be anywhere, keeps aiohttp.
"""

from __future__ import annotations

import asyncio
import contextlib
import urllib.parse
from collections.abc import Mapping
from pathlib import Path

from gateway.outbound import DEFAULT_MAX_BODY_BYTES, BodyTooLarge, HttpResponse, RequestFailed

MAX_HEAD_BYTES = 64 << 10
MAX_HEADERS = 100


class LocalHttp:
    """Example:
    wire = LocalHttp(unix_socket=Path("opa.sock"), timeout_s=2)
    response = await wire.request("POST", "/v1/data/aegis/authz/decision", body=b'{"input":{}}')
    """

    def __init__(
        self,
        *,
        timeout_s: float,
        unix_socket: Path | None = None,
        address: tuple[str, int] | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        max_connections: int = 64,
    ) -> None:
        if (unix_socket is None) == (address is None):
            raise ValueError("give either a unix socket or a host and port")
        self._unix_socket = unix_socket
        self._address = address
        self._host = b"localhost" if address is None else address[0].encode("idna")
        self._timeout_s = timeout_s
        self._max_body = max_body_bytes
        self._slots = asyncio.Semaphore(max_connections)
        self._idle: list[_Connection] = []

    @classmethod
    def for_url(cls, url: str, *, timeout_s: float, unix_socket: Path | None = None) -> LocalHttp | None:
        """The client for OPA at `url` (or its `unix_socket`), or None when `url` is not plain HTTP."""
        if unix_socket is not None:
            return cls(timeout_s=timeout_s, unix_socket=unix_socket)
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or not parts.hostname or parts.path not in ("", "/"):
            return None
        return cls(timeout_s=timeout_s, address=(parts.hostname, parts.port or 80))

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: bytes | None = None,
        content_type: str | None = None,
    ) -> HttpResponse:
        """`path` must already be percent-encoded. Raises RequestFailed, TimeoutError or BodyTooLarge."""
        target = path + ("?" + urllib.parse.urlencode(params) if params else "")
        head = [f"{method} {target} HTTP/1.1\r\n".encode("ascii"), b"Host: " + self._host + b"\r\n"]
        if content_type:
            head.append(f"Content-Type: {content_type}\r\n".encode("ascii"))
        head.append(b"Content-Length: %d\r\n\r\n" % len(body or b""))
        message = b"".join(head) + (body or b"")
        async with self._slots, asyncio.timeout(self._timeout_s):
            while self._idle:  # a kept-alive connection OPA may have closed since: one fresh try then
                with contextlib.suppress(_Stale):
                    return await self._exchange(self._idle.pop(), message, reused=True)
            return await self._exchange(await self._open(), message, reused=False)

    async def aclose(self) -> None:
        while self._idle:
            self._idle.pop().close()

    async def _open(self) -> _Connection:
        try:
            if self._unix_socket is not None:
                reader, writer = await asyncio.open_unix_connection(self._unix_socket, limit=MAX_HEAD_BYTES)
            else:
                assert self._address is not None
                reader, writer = await asyncio.open_connection(*self._address, limit=MAX_HEAD_BYTES)
        except OSError as exc:
            raise RequestFailed(str(exc), exc.errno) from exc
        return _Connection(reader, writer)

    async def _exchange(self, connection: _Connection, message: bytes, *, reused: bool) -> HttpResponse:
        keep = False
        try:
            connection.writer.write(message)
            try:
                status_line = await connection.reader.readuntil(b"\r\n")
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                # Nothing of an answer came: a kept-alive connection OPA had closed, safe to try again.
                if reused and not getattr(exc, "partial", b""):
                    raise _Stale from None
                raise RequestFailed("OPA closed the connection before answering") from None
            response, keep = await connection.read_response(status_line, self._max_body)
            return response
        except asyncio.IncompleteReadError:
            raise RequestFailed("OPA closed the connection mid-response") from None
        except (asyncio.LimitOverrunError, ValueError) as exc:
            raise RequestFailed(f"malformed response from OPA: {exc}") from None
        except OSError as exc:
            raise RequestFailed(str(exc), exc.errno) from exc
        finally:
            if keep:
                self._idle.append(connection)
            else:
                connection.close()


class _Stale(Exception):
    """A kept-alive connection had been closed by OPA before this request reached it."""


class _Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def close(self) -> None:
        self.writer.close()

    async def read_response(self, status_line: bytes, max_body: int) -> tuple[HttpResponse, bool]:
        """The response that `status_line` begins, and whether the connection may carry another
        request."""
        version, _, rest = status_line.partition(b" ")
        if version not in (b"HTTP/1.1", b"HTTP/1.0"):
            raise ValueError("not an HTTP/1.x status line")
        status = int(rest[:3])
        headers: dict[str, str] = {}
        for _ in range(MAX_HEADERS + 1):
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            name, colon, value = line.decode("latin-1").partition(":")
            if not colon:
                raise ValueError("a header line without a colon")
            headers[name.strip().lower()] = value.strip()
        else:
            raise ValueError(f"more than {MAX_HEADERS} headers")
        keep = version == b"HTTP/1.1" and headers.get("connection", "").lower() != "close"
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunked(max_body)
        elif "content-length" in headers:
            length = int(headers["content-length"])
            if length < 0:
                raise ValueError("a negative Content-Length")
            if length > max_body:
                raise BodyTooLarge
            body = await self.reader.readexactly(length)
        else:  # framed by the end of the connection
            body = await self._until_closed(max_body)
            keep = False
        return HttpResponse(status=status, headers=headers, body=body), keep

    async def _until_closed(self, max_body: int) -> bytes:
        body = bytearray()
        while chunk := await self.reader.read(1 << 16):
            body += chunk
            if len(body) > max_body:
                raise BodyTooLarge
        return bytes(body)

    async def _chunked(self, max_body: int) -> bytes:
        body = bytearray()
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).split(b";", 1)[0].strip(), 16)
            if size < 0:
                raise ValueError("a negative chunk size")
            if size == 0:
                while await self.reader.readuntil(b"\r\n") != b"\r\n":  # trailers
                    pass
                return bytes(body)
            if len(body) + size > max_body:
                raise BodyTooLarge
            body += await self.reader.readexactly(size)
            if await self.reader.readexactly(2) != b"\r\n":
                raise ValueError("a chunk not ended by CRLF")
