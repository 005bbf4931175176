"""The gateway out of file descriptors, through real processes: its calls to Gitea fail for want of a
socket, which says nothing about Gitea, so the circuit breaker stays closed and the first call after
the descriptors come back reaches Gitea at once, not after the breaker's cooldown."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_slow_clients import connect, head, open_slow_head, read_response
from tests.processes import UNLIMITED, Simulator, Upstream, start_gateway

pytestmark = pytest.mark.e2e

POLICY = "defaults: {read: allow, write: deny}\n"
THRESHOLD = 2
COOLDOWN_S = 60
IDLE_CONNECTIONS = 200  # far more than the descriptors the gateway is left
INFO = {"owner": "acme", "repo": "app"}


@contextlib.contextmanager
def closing_proxy(simulator: Simulator) -> Iterator[Upstream]:
    """The simulator behind a proxy that closes each connection after its response (HTTP/1.0), so that
    every call of the gateway's to Gitea needs a new socket rather than a pooled one."""

    class Forward(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            upstream = httpx.get(
                simulator.url + self.path, headers={"Authorization": self.headers["Authorization"]}
            )
            self.send_response(upstream.status_code)
            for name in ("content-type", "x-total-count"):
                if name in upstream.headers:
                    self.send_header(name, upstream.headers[name])
            self.send_header("Content-Length", str(len(upstream.content)))
            self.end_headers()
            self.wfile.write(upstream.content)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Forward)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield Upstream(url=f"http://127.0.0.1:{server.server_port}", token=simulator.token)
    finally:
        server.shutdown()
        server.server_close()


def call(connection: Any, key: str) -> str:
    """One get_repository_info on `connection`: "" when it succeeded, else its error (without the
    request id)."""
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "get_repository_info", "arguments": INFO},
        }
    ).encode()
    connection.sendall(head(key, content_length=len(body)) + body)
    status, _, raw = read_response(connection)
    assert status == 200
    assert "result" in json.loads(raw), raw
    result = json.loads(raw)["result"]
    return "" if not result.get("isError") else str(result["content"][0]["text"]).partition(". Request id")[0]


def circuit_open(connection: Any) -> float:
    """aegis_gitea_circuit_open, read on `connection` (no new one can be accepted meanwhile)."""
    connection.sendall(b"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    status, _, raw = read_response(connection)
    assert status == 200
    [sample] = [line for line in raw.decode().splitlines() if line.startswith("aegis_gitea_circuit_open ")]
    return float(sample.rsplit(" ", 1)[1])


def open_files_of(process_id: int) -> int:
    return len(os.listdir(f"/proc/{process_id}/fd"))


def test_running_out_of_file_descriptors_does_not_open_the_gitea_breaker(
    simulator: Simulator, tmp_path: Path, opa_bin: str
) -> None:
    env = {
        **UNLIMITED,
        "AEGIS_GITEA_BREAKER_FAILURES": str(THRESHOLD),
        "AEGIS_GITEA_BREAKER_COOLDOWN": str(COOLDOWN_S),
        "AEGIS_MAX_CONNECTIONS_PER_ADDRESS": "1000",  # one address may take every descriptor here
        "AEGIS_HEADER_TIMEOUT": "120",  # the idle connections stay until the test closes them
        # An audit fsync opens a descriptor of its own: with none left, every call would be refused
        # for want of its audit entry (failing closed) before the breaker could be seen.
        "AEGIS_AUDIT_FSYNC": "false",
    }
    with closing_proxy(simulator) as upstream:
        gateway = start_gateway(tmp_path / "gw", policy=POLICY, upstream=upstream, env=env)
        try:
            with connect(gateway) as held:
                assert call(held, gateway.key) == ""  # accepted, kept alive, and Gitea reachable
                pid = gateway.process.pid
                budget = open_files_of(pid) + 20
                resource.prlimit(pid, resource.RLIMIT_NOFILE, (budget, budget))
                with ExitStack() as idle:
                    for _ in range(IDLE_CONNECTIONS):  # the rest wait in the listen backlog
                        idle.enter_context(open_slow_head(gateway))
                    deadline = time.monotonic() + 10
                    while open_files_of(pid) < budget and time.monotonic() < deadline:
                        time.sleep(0.05)
                    assert open_files_of(pid) == budget
                    failed = [call(held, gateway.key) for _ in range(THRESHOLD * 2)]
                    assert failed == ["Gitea request failed: gateway overloaded"] * (THRESHOLD * 2)
                    assert circuit_open(held) == 0
                deadline = time.monotonic() + 10
                while open_files_of(pid) >= budget - 10 and time.monotonic() < deadline:
                    time.sleep(0.05)  # until the gateway has seen the idle connections close
                started = time.monotonic()
                assert call(held, gateway.key) == ""  # at once: no cooldown to wait out
                assert time.monotonic() - started < COOLDOWN_S / 4
                assert circuit_open(held) == 0
        finally:
            gateway.stop()
