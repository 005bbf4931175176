"""A fault run against slow and greedy clients: is a normal client served while they hold connections?

    python -m bench.slow_clients [--slow-bodies 200] [--slow-heads 1000] [--calls 50]

One gateway with its default limits and 1,024 open files (as on many hosts) serves the demo Gitea. One
valid key opens `--slow-bodies` requests whose body never completes; one address opens `--slow-heads`
connections whose request head never completes. Meanwhile a second client, from another loopback
address and with its own key, makes `--calls` calls one after another; the run reports how many were
served and how fast, and how many of the slow connections the gateway had closed.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path

import httpx

from bench._processes import free_port, stop
from bench.run import gateway_environment
from gateway.demo import spawn_simulator
from gateway.edge.keys import create_key

OPEN_FILES = 1024
CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "get_repository_info", "arguments": {"owner": "acme", "repo": "app"}},
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.slow_clients", description=__doc__.splitlines()[0])
    parser.add_argument("--slow-bodies", type=int, default=200)
    parser.add_argument("--slow-heads", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="aegis-bench-slow-") as scratch:
        print(json.dumps(fault_run(Path(scratch), args.slow_bodies, args.slow_heads, args.calls), indent=2))
    return 0


def fault_run(home: Path, slow_bodies: int, slow_heads: int, calls: int) -> dict[str, object]:
    simulator, upstream = spawn_simulator(home / "gitea", home / "gitea.token")
    keys_file = home / "keys.json"
    greedy, normal = create_key(keys_file, name="greedy"), create_key(keys_file, name="normal")
    port = free_port()
    env = gateway_environment(
        upstream=upstream,
        token=(home / "gitea.token").read_text().strip(),
        keys_file=keys_file,
        home=home,
        port=port,
    )
    with (home / "gateway.log").open("wb") as out:
        gateway = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "serve"],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES)),
        )
    try:
        _wait_ready(port)
        with ExitStack() as held:
            bodies = [held.enter_context(_slow_body(port, greedy)) for _ in range(slow_bodies)]
            heads = [held.enter_context(_slow_head(port)) for _ in range(slow_heads)]
            time.sleep(0.5)
            served, latencies = _normal_calls(port, normal, calls)
            return {
                "slow_bodies_opened": len(bodies),
                "slow_heads_opened": len(heads),
                "slow_heads_closed_by_gateway": sum(_closed(connection) for connection in heads),
                "normal_calls": calls,
                "normal_calls_served": served,
                "normal_call_ms_median": round(statistics.median(latencies), 1) if latencies else None,
                "normal_call_ms_max": round(max(latencies), 1) if latencies else None,
            }
    finally:
        stop(gateway)
        simulator.terminate()
        simulator.wait()


def _slow_body(port: int, key: str) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port))
    connection.sendall(
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Accept: application/json\r\n"
        b'Authorization: Bearer %s\r\nContent-Length: 100\r\n\r\n{"jsonrpc"' % key.encode()
    )
    return connection


def _slow_head(port: int) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port))
    connection.sendall(b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    return connection


def _closed(connection: socket.socket) -> bool:
    connection.setblocking(False)
    try:
        return connection.recv(1) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


def _normal_calls(port: int, key: str, calls: int) -> tuple[int, list[float]]:
    served, latencies = 0, []
    transport = httpx.HTTPTransport(local_address="127.0.0.2")
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    with httpx.Client(transport=transport, timeout=10) as client:
        for _ in range(calls):
            started = time.perf_counter()
            try:
                response = client.post(f"http://127.0.0.1:{port}/mcp", json=CALL, headers=headers)
            except httpx.HTTPError:
                continue
            if response.status_code == 200 and "result" in response.json():
                served += 1
                latencies.append((time.perf_counter() - started) * 1000)
    return served, latencies


def _wait_ready(port: int) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz").status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError("the gateway did not become ready")


if __name__ == "__main__":
    raise SystemExit(main())
