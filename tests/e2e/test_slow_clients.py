"""Slow and greedy clients, through the real HTTP endpoint on raw sockets: a body or a request head that
never arrives, one key holding the in-flight cap, one address holding every file descriptor, oversized
heads. None of them may take the gateway from other clients."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.edge.connections import LINGER_S
from tests.e2e.test_edge_limits import OTHER_ADDRESS, READ
from tests.processes import UNLIMITED, Gateway, SilentUpstream, Simulator, Upstream, create_key, start_gateway

pytestmark = pytest.mark.e2e

POLICY = "defaults: {read: allow, write: deny}\n"
PING = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()
SOCKET_TIMEOUT_S = 5.0


@pytest.fixture
def gateway_with(simulator: Simulator, tmp_path: Path, opa_bin: str) -> Iterator[Any]:
    started: list[Gateway] = []

    def start(env: dict[str, str], upstream: Simulator | Upstream | None = None) -> Gateway:
        gw = start_gateway(tmp_path / "gw", policy=POLICY, upstream=upstream or simulator, env=env)
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.stop()


def connect(gateway: Gateway, source: str = "127.0.0.1") -> socket.socket:
    port = int(gateway.base_url.rsplit(":", 1)[1])
    return socket.create_connection(("127.0.0.1", port), timeout=SOCKET_TIMEOUT_S, source_address=(source, 0))


def head(key: str, *, content_length: int = len(PING), extra: bytes = b"") -> bytes:
    return (
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Accept: application/json\r\nAuthorization: Bearer %s\r\nContent-Length: %d\r\n%s\r\n"
        % (key.encode(), content_length, extra)
    )


def open_slow_body(gateway: Gateway, key: str) -> socket.socket:
    """A complete, authenticated request head, then only the first bytes of its body."""
    connection = connect(gateway)
    connection.sendall(head(key) + PING[:5])
    return connection


def open_slow_head(gateway: Gateway, source: str = "127.0.0.1") -> socket.socket:
    connection = connect(gateway, source)
    connection.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return connection


def read_response(connection: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response, and not a byte more: a pipelined response that arrived with it stays on the
    connection for the next call (the head is read a byte at a time, the body to its length)."""
    raw_head = b""
    while not raw_head.endswith(b"\r\n\r\n"):
        byte = connection.recv(1)
        if not byte:
            raise ConnectionError(f"closed before a response head: {raw_head!r}")
        raw_head += byte
    status_line, *lines = raw_head[:-4].decode("latin-1").split("\r\n")
    headers = {name.strip().lower(): value.strip() for name, _, value in (ln.partition(":") for ln in lines)}
    body = b""
    while len(body) < int(headers.get("content-length", "0")):
        chunk = connection.recv(int(headers["content-length"]) - len(body))
        if not chunk:
            raise ConnectionError(f"closed within a response body: {raw_head!r}")
        body += chunk
    return int(status_line.split()[1]), headers, body


def is_closed(connection: socket.socket) -> bool:
    """True when the peer closed the connection (EOF or reset); raises TimeoutError if it stays open."""
    try:
        return connection.recv(65536) == b""
    except ConnectionResetError:
        return True


def post(gateway: Gateway, key: str, *, source: str = "127.0.0.1", body: Any = None) -> httpx.Response:
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=SOCKET_TIMEOUT_S) as http:
        return http.post(
            gateway.url,
            content=PING if body is None else json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Authorization": f"Bearer {key}",
            },
        )


def second_key(gateway: Gateway) -> str:
    key = create_key(gateway.keys_file, name="other-agent")
    return key


def audit_events(gateway: Gateway, event: str) -> list[dict[str, Any]]:
    entries = [json.loads(line) for line in gateway.audit_log.read_text().splitlines()]
    return [entry for entry in entries if entry["event"] == event]


# Slow bodies and the in-flight cap


def test_slow_bodies_of_one_key_do_not_stop_another_key(gateway_with: Any) -> None:
    gateway = gateway_with({**UNLIMITED, "AEGIS_MAX_IN_FLIGHT": "4", "AEGIS_BODY_TIMEOUT": "30"})
    other = second_key(gateway)
    with ExitStack() as stack:
        for _ in range(6):  # more than the whole in-flight cap, all from one key
            stack.enter_context(open_slow_body(gateway, gateway.key))
        time.sleep(0.5)  # every head is in and authenticated
        assert post(gateway, other).status_code == 200
        assert post(gateway, gateway.key).status_code == 200  # a slow body holds no in-flight slot


def test_a_slow_body_gets_408_and_its_connection_is_closed(gateway_with: Any) -> None:
    gateway = gateway_with({"AEGIS_BODY_TIMEOUT": "1"})
    started = time.monotonic()
    with open_slow_body(gateway, gateway.key) as connection:
        status, headers, body = read_response(connection)
        waited = time.monotonic() - started
        assert (status, headers["connection"]) == (408, "close")
        assert json.loads(body)["error"]["data"]["request_id"] == headers["x-request-id"]
        assert is_closed(connection)
    assert 0.9 <= waited < 4
    [event] = audit_events(gateway, "body_timeout")
    assert (event["principal"], event["reasons"][0]["rule"]) == ("e2e-agent", "edge.body.timeout")


def test_one_key_cannot_hold_more_than_its_share_of_the_in_flight_cap(gateway_with: Any) -> None:
    upstream = SilentUpstream()
    try:
        gateway = gateway_with(
            {"AEGIS_MAX_IN_FLIGHT": "4", "AEGIS_MAX_IN_FLIGHT_PER_KEY": "2", "AEGIS_GITEA_TIMEOUT": "4"},
            upstream=Upstream(upstream.url),
        )
        other = second_key(gateway)
        with ThreadPoolExecutor(2) as pool:
            hanging = [pool.submit(post, gateway, gateway.key, body=READ) for _ in range(2)]
            deadline = time.monotonic() + 10
            while len(upstream.connections) < 2 and time.monotonic() < deadline:
                time.sleep(0.05)
            refused = post(gateway, gateway.key)
            assert (refused.status_code, refused.headers["retry-after"]) == (503, "1")
            assert post(gateway, other).status_code == 200  # the cap has room left for other keys
            assert all(future.result().status_code == 200 for future in hanging)
    finally:
        upstream.close()
    [event] = audit_events(gateway, "overloaded")
    assert (event["principal"], event["reasons"][0]["rule"]) == ("e2e-agent", "edge.in_flight.key_share")


# Slow heads, connections per address, oversized heads


@pytest.mark.parametrize("kept_alive", [False, True], ids=["first-request", "next-request"])
def test_a_slow_head_is_closed_after_the_header_deadline(gateway_with: Any, kept_alive: bool) -> None:
    gateway = gateway_with({"AEGIS_HEADER_TIMEOUT": "1"})
    with connect(gateway) as connection:
        if kept_alive:  # a request first, then a head that trickles on the same connection
            connection.sendall(head(gateway.key) + PING)
            assert read_response(connection)[0] == 200
        started = time.monotonic()
        connection.sendall(b"POST /mcp HTTP/1.1\r\n")
        time.sleep(0.5)
        connection.sendall(b"Host: 127.0.0.1\r\n")
        assert is_closed(connection)
    assert 0.9 <= time.monotonic() - started < 4


def open_files_of(process_id: int) -> int:
    return len(os.listdir(f"/proc/{process_id}/fd"))


def test_connections_over_the_per_address_cap_do_not_stop_other_addresses(gateway_with: Any) -> None:
    gateway = gateway_with(
        {"AEGIS_MAX_CONNECTIONS_PER_ADDRESS": "16", "AEGIS_HEADER_TIMEOUT": "60", **UNLIMITED}
    )
    pid = gateway.process.pid
    budget = open_files_of(pid) + 100  # what a small file limit leaves a busy gateway
    resource.prlimit(pid, resource.RLIMIT_NOFILE, (budget, budget))
    with ExitStack() as stack:
        for _ in range(300):  # one address opening more connections than the gateway has files
            stack.enter_context(open_slow_head(gateway))
        time.sleep(0.5)
        assert post(gateway, gateway.key, source=OTHER_ADDRESS).status_code == 200
        with open_slow_head(gateway) as over_the_cap:
            assert is_closed(over_the_cap)
    assert open_files_of(pid) < budget


@pytest.mark.parametrize(
    "extra",
    [
        pytest.param(b"X-Big: " + b"a" * (1 << 20) + b"\r\n", id="1-MiB-header"),
        pytest.param(b"".join(b"X-%d: a\r\n" % n for n in range(5000)), id="5000-header-lines"),
        pytest.param(b"".join(b"X-%d: a\r\n" % n for n in range(150)), id="150-short-header-lines"),
    ],
)
def test_an_oversized_request_head_is_refused(gateway_with: Any, extra: bytes) -> None:
    gateway = gateway_with({})
    with connect(gateway) as connection:
        try:
            connection.sendall(head(gateway.key, extra=extra) + PING)
            status: int | None = read_response(connection)[0]
        except (ConnectionError, BrokenPipeError):
            status = None  # closed (and reset) while the head was still being sent
    assert status in (431, None)
    assert post(gateway, gateway.key).status_code == 200


def test_a_head_growing_past_the_bound_in_pieces_is_answered_431(gateway_with: Any) -> None:
    gateway = gateway_with({"AEGIS_MAX_HEADER_BYTES": "16384"})
    with connect(gateway) as connection:
        connection.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ")
        for _ in range(5):  # one header line of 20 KiB, never ended, in reads of 4 KiB
            connection.sendall(b"a" * 4096)
            time.sleep(0.05)
        status, headers, _ = read_response(connection)
        assert (status, headers.get("connection")) == (431, "close")
        assert is_closed(connection)


def test_a_head_within_the_bound_is_served_whatever_follows_it_in_the_same_read(gateway_with: Any) -> None:
    gateway = gateway_with({"AEGIS_MAX_HEADER_BYTES": "16384"})
    body = PING + b" " * (200 << 10)  # JSON may end in white space; the read is far over the bound
    pipelined = head(gateway.key) + PING
    with connect(gateway) as connection:
        connection.sendall(head(gateway.key, content_length=len(body)) + body + pipelined)
        assert read_response(connection)[0] == 200
        assert read_response(connection)[0] == 200


def test_blank_lines_before_a_head_do_not_stretch_its_bound(gateway_with: Any) -> None:
    gateway = gateway_with({"AEGIS_MAX_HEADER_BYTES": "16384"})
    extra = b"X-Big: " + b"a" * (60 << 10) + b"\r\n"
    with connect(gateway) as connection:
        connection.sendall(b"\r\n\r\n" + head(gateway.key, extra=extra) + PING)
        status, headers, _ = read_response(connection)
        assert (status, headers.get("connection")) == (431, "close")


CHUNKED = (
    b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAccept: application/json\r\n"
)


def test_a_refused_request_closes_its_connection_before_its_body_is_read(gateway_with: Any) -> None:
    gateway = gateway_with({})
    with connect(gateway) as connection:  # no key: refused before the body is read
        connection.sendall(CHUNKED + b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")
        assert read_response(connection)[0] == 401
        assert is_closed(connection)


def test_a_refused_request_s_small_body_is_read_and_dropped_and_the_connection_goes_on(
    gateway_with: Any,
) -> None:
    """A client may send its next request on the connection as soon as it has the answer: a body within
    the bound is read past and dropped, so that the next request is served, not lost."""
    gateway = gateway_with({})
    with connect(gateway) as connection:
        connection.sendall(CHUNKED + b"Content-Length: %d\r\n\r\n" % len(PING))  # no key
        assert read_response(connection)[0] == 401  # answered before the body is sent
        connection.sendall(PING + head(gateway.key) + PING)
        assert read_response(connection)[0] == 200


def test_a_refusal_reaches_a_client_whose_body_is_still_arriving(gateway_with: Any) -> None:
    """The refusal is answered before the body is read. The body already sent, unread on the server's
    end, must not make that end reset the connection, and with it the answer the client has not read."""
    gateway = gateway_with({})
    body = b"x" * (1 << 20)  # twice over the body bound: the connection ends
    with connect(gateway) as connection:  # no key
        connection.sendall(CHUNKED + b"Content-Length: %d\r\n\r\n" % (2 * len(body)) + body)
        time.sleep(0.5)  # answered, and the rest of the body arrives after the answer
        connection.sendall(body)
        assert read_response(connection)[0] == 401
        assert is_closed(connection)


def seconds_until_reset(connection: socket.socket, within: float) -> float | None:
    """Send a byte every 0.1 s until the peer resets the connection; None if it does not within `within`."""
    start = time.monotonic()
    while time.monotonic() - start < within:
        try:
            connection.sendall(b"x")
        except (BrokenPipeError, ConnectionResetError):
            return time.monotonic() - start
        time.sleep(0.1)
    return None


def test_the_rest_of_a_refused_request_is_dropped_for_a_while_only(gateway_with: Any) -> None:
    gateway = gateway_with({})
    with connect(gateway) as connection:  # no key
        connection.sendall(CHUNKED + b"Content-Length: 2000000\r\n\r\n")  # over the body bound
        assert read_response(connection)[0] == 401
        dropped_for = seconds_until_reset(connection, LINGER_S + SOCKET_TIMEOUT_S)
        assert dropped_for is not None and LINGER_S / 2 < dropped_for < LINGER_S + 1


def test_trailers_past_the_bound_close_the_connection(gateway_with: Any) -> None:
    gateway = gateway_with({"AEGIS_MAX_HEADER_BYTES": "16384"})
    auth = b"Authorization: Bearer %s\r\n" % gateway.key.encode()
    with connect(gateway) as connection:
        connection.sendall(CHUNKED + auth + b"Transfer-Encoding: chunked\r\n\r\n")
        connection.sendall(b"%x\r\n%s\r\n0\r\nX-Trailer: " % (len(PING), PING))
        with contextlib.suppress(ConnectionError):  # closed while the trailer is still being sent
            for _ in range(640):  # 10 MiB of one trailer line, over 8 x the 1 MiB body bound + a head's
                connection.sendall(b"a" * (16 << 10))
        assert is_closed(connection)


def test_a_pipelined_request_whose_body_comes_later_is_served_after_the_first(gateway_with: Any) -> None:
    gateway = gateway_with({})
    with connect(gateway) as connection:
        connection.sendall(head(gateway.key) + PING + head(gateway.key))  # the second's body not yet
        assert read_response(connection)[0] == 200  # answered while the second waits for its body
        connection.sendall(PING)
        assert read_response(connection)[0] == 200


def test_a_head_within_the_limits_is_served(gateway_with: Any) -> None:
    gateway = gateway_with({})
    extra = b"".join(b"X-%d: %s\r\n" % (n, b"a" * 100) for n in range(80))
    with connect(gateway) as connection:
        connection.sendall(head(gateway.key, extra=extra) + PING)
        assert read_response(connection)[0] == 200


def test_a_body_framed_both_ways_is_refused_at_once_and_closed(gateway_with: Any) -> None:
    gateway = gateway_with({})
    with connect(gateway) as connection:
        connection.sendall(head(gateway.key, extra=b"Transfer-Encoding: chunked\r\n") + PING)
        status, headers, _ = read_response(connection)
        assert (status, headers.get("connection")) == (400, "close")
        assert is_closed(connection)
