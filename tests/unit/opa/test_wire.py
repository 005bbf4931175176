"""The lean HTTP client to OPA against small servers on a unix socket that answer as scripted: framing,
keep-alive and its loss, bounds, timeouts, and answers that are not HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from gateway.opa._wire import LocalHttp
from gateway.outbound import BodyTooLarge, RequestFailed

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    """A unix-socket server running `handler` per connection; counts connections and requests."""

    def __init__(self, path: Path, handler: Handler) -> None:
        self.path = path
        self.handler = handler
        self.connections = 0
        self.requests: list[bytes] = []

    async def __aenter__(self) -> Server:
        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            self.connections += 1
            try:
                await self.handler(reader, writer)
            finally:
                writer.close()

        self._server = await asyncio.start_unix_server(serve, path=str(self.path))
        return self

    async def __aexit__(self, *_: object) -> None:
        self._server.close()

    async def read_request(self, reader: asyncio.StreamReader) -> bytes | None:
        """One request (head and Content-Length body), or None at the end of the connection."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        lines = head.split(b"\r\n")
        length = next(int(line[15:]) for line in lines if line.lower().startswith(b"content-length:"))
        request = head + await reader.readexactly(length)
        self.requests.append(request)
        return request


def answer(body: bytes, *, extra: bytes = b"") -> bytes:
    return b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n%s\r\n%s" % (
        len(body),
        extra,
        body,
    )


@pytest.fixture
def socket_path(tmp_path: Path) -> Path:
    return tmp_path / "opa.sock"


async def test_keeps_one_connection_alive_across_requests(socket_path: Path) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (request := await server.read_request(reader)) is not None:
            writer.write(answer(b'{"result":' + request.rsplit(b"\r\n\r\n", 1)[1] + b"}"))

    async with Server(socket_path, handler) as server:
        wire = LocalHttp(unix_socket=socket_path, timeout_s=2)
        for number in range(3):
            body = b"%d" % number
            response = await wire.request("POST", "/v1/data/x", body=body, content_type="application/json")
            assert (response.status, response.body) == (200, b'{"result":%d}' % number)
        await wire.aclose()
    assert server.connections == 1
    assert server.requests[0].startswith(b"POST /v1/data/x HTTP/1.1\r\nHost: localhost\r\n")
    assert b"Content-Type: application/json\r\nContent-Length: 1\r\n\r\n0" in server.requests[0]


async def test_reads_a_chunked_body_and_sends_the_query_string(socket_path: Path) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        writer.write(b"5\r\nhello\r\n6;x=y\r\n world\r\n0\r\n\r\n")
        await server.read_request(reader)

    async with Server(socket_path, handler) as server:
        wire = LocalHttp(unix_socket=socket_path, timeout_s=2)
        response = await wire.request("GET", "/health", params={"bundles": "true"})
        assert response.body == b"hello world"
        await wire.aclose()
    assert server.requests[0].startswith(b"GET /health?bundles=true HTTP/1.1\r\n")


async def test_a_connection_closed_while_idle_is_replaced_and_the_request_served(socket_path: Path) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(answer(b"{}"))  # then the connection ends, as OPA's idle timeout would end it

    async with Server(socket_path, handler) as server:
        wire = LocalHttp(unix_socket=socket_path, timeout_s=2)
        assert (await wire.request("POST", "/a", body=b"{}")).status == 200
        await asyncio.sleep(0.05)
        assert (await wire.request("POST", "/b", body=b"{}")).status == 200
        await wire.aclose()
    assert server.connections == 2


async def test_connection_close_is_honoured(socket_path: Path) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await server.read_request(reader) is not None:
            writer.write(answer(b"{}", extra=b"Connection: close\r\n"))

    async with Server(socket_path, handler) as server:
        wire = LocalHttp(unix_socket=socket_path, timeout_s=2)
        await wire.request("POST", "/a", body=b"{}")
        await wire.request("POST", "/a", body=b"{}")
        await wire.aclose()
    assert server.connections == 2


@pytest.mark.parametrize(
    "reply",
    [
        b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + b"x" * 100,
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + (b"40\r\n" + b"x" * 64 + b"\r\n") * 2,
    ],
)
async def test_a_body_over_the_bound_is_refused(socket_path: Path, reply: bytes) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(reply)
        await writer.drain()

    async with Server(socket_path, handler) as server:
        wire = LocalHttp(unix_socket=socket_path, timeout_s=2, max_body_bytes=99)
        with pytest.raises(BodyTooLarge):
            await wire.request("POST", "/a", body=b"{}")
        assert not wire._idle  # the rest of that body is never read as the next response


@pytest.mark.parametrize(
    "reply",
    [
        b"SSH-2.0-OpenSSH\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nno colon here\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",  # and then the connection ends
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 101 + b"\r\n",
    ],
)
async def test_an_answer_not_well_formed_fails_the_request(socket_path: Path, reply: bytes) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(reply)
        await writer.drain()

    async with Server(socket_path, handler) as server:
        wire = LocalHttp(unix_socket=socket_path, timeout_s=2)
        with pytest.raises(RequestFailed):
            await wire.request("POST", "/a", body=b"{}")
        assert not wire._idle


async def test_an_answer_that_never_comes_times_out_and_its_connection_is_dropped(socket_path: Path) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        await asyncio.sleep(5)

    async with Server(socket_path, handler) as server:
        wire = LocalHttp(unix_socket=socket_path, timeout_s=0.2)
        with pytest.raises(TimeoutError):
            await wire.request("POST", "/a", body=b"{}")
        assert not wire._idle


async def test_no_server_is_a_failed_request(socket_path: Path) -> None:
    wire = LocalHttp(unix_socket=socket_path, timeout_s=1)
    with pytest.raises(RequestFailed):
        await wire.request("POST", "/a", body=b"{}")


def test_https_and_prefixed_urls_are_left_to_the_general_client() -> None:
    assert LocalHttp.for_url("https://opa:8181", timeout_s=1) is None
    assert LocalHttp.for_url("http://opa:8181/prefix", timeout_s=1) is None
    assert LocalHttp.for_url("http://127.0.0.1:8181", timeout_s=1) is not None


async def test_a_body_ended_by_the_end_of_the_connection_is_read_whole_and_bounded(socket_path: Path) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\n\r\n" + b"x" * 100)
        await writer.drain()
        await asyncio.sleep(0.05)  # the rest in a later read
        writer.write(b"y" * 100)

    async with Server(socket_path, handler) as server:
        whole = LocalHttp(unix_socket=socket_path, timeout_s=2)
        assert (await whole.request("POST", "/a", body=b"{}")).body == b"x" * 100 + b"y" * 100
        bounded = LocalHttp(unix_socket=socket_path, timeout_s=2, max_body_bytes=150)
        with pytest.raises(BodyTooLarge):
            await bounded.request("POST", "/a", body=b"{}")


async def test_an_answer_cut_short_on_a_kept_alive_connection_is_not_asked_again(socket_path: Path) -> None:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await server.read_request(reader)
        writer.write(answer(b"{}"))
        await server.read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n")  # then the connection ends

    async with Server(socket_path, handler) as server:
        wire = LocalHttp(unix_socket=socket_path, timeout_s=2)
        await wire.request("POST", "/a", body=b"{}")
        with pytest.raises(RequestFailed):
            await wire.request("POST", "/b", body=b"{}")
    assert len(server.requests) == 2  # the second query reached OPA once
