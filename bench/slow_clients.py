"""A fault run against slow and greedy clients: is a normal client served while they hold connections?

    python -m bench.slow_clients [--slow-bodies 200] [--slow-heads 1000] [--calls 50]
                                 [--open-files 1024] [--addresses 1]

One gateway with its default limits and `--open-files` open files serves the demo Gitea. One valid key
opens `--slow-bodies` requests whose body never completes; `--slow-heads` connections send a request head
that never completes. Both come from `--addresses` loopback addresses (127.0.1.x), so that one address
(the per-address cap closes most at once) or many (they stay open until their deadlines) can be tried.
Meanwhile a client from 127.0.0.2 with its own key makes `--calls` calls one after another; the run
reports how many were served and how fast, and how many slow connections were still open.
"""

from __future__ import annotations

import argparse
import dataclasses
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

from bench._processes import free_port, stop, wait_ready
from bench.run import gateway_environment
from gateway.demo import spawn_simulator
from gateway.edge.keys import create_key

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
    parser.add_argument("--open-files", type=int, default=1024)
    parser.add_argument("--addresses", type=int, default=1)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="aegis-bench-slow-") as scratch:
        load = Load(args.slow_bodies, args.slow_heads, args.calls, args.open_files, args.addresses)
        print(json.dumps(fault_run(Path(scratch), load), indent=2))
    return 0


@dataclasses.dataclass(frozen=True)
class Load:
    slow_bodies: int
    slow_heads: int
    calls: int
    open_files: int
    addresses: int

    def source(self, n: int) -> str:
        return f"127.0.1.{n % self.addresses + 1}"


def fault_run(home: Path, load: Load) -> dict[str, object]:
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
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (load.open_files, load.open_files)),
        )
    try:
        wait_ready(gateway, f"http://127.0.0.1:{port}/readyz", home / "gateway.log")
        with ExitStack() as held:
            bodies = [
                held.enter_context(_slow_body(port, greedy, load.source(n))) for n in range(load.slow_bodies)
            ]
            heads = [held.enter_context(_slow_head(port, load.source(n))) for n in range(load.slow_heads)]
            time.sleep(0.5)
            served, latencies = _normal_calls(port, normal, load.calls)
            return {
                **dataclasses.asdict(load),
                "slow_bodies_still_open": sum(not _closed(connection) for connection in bodies),
                "slow_heads_still_open": sum(not _closed(connection) for connection in heads),
                "normal_calls_served": served,
                "normal_call_ms_median": round(statistics.median(latencies), 1) if latencies else None,
                "normal_call_ms_max": round(max(latencies), 1) if latencies else None,
            }
    finally:
        stop(gateway)
        simulator.terminate()
        simulator.wait()


def _slow_body(port: int, key: str, source: str) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), source_address=(source, 0))
    connection.sendall(
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Accept: application/json\r\n"
        b'Authorization: Bearer %s\r\nContent-Length: 100\r\n\r\n{"jsonrpc"' % key.encode()
    )
    return connection


def _slow_head(port: int, source: str) -> socket.socket:
    connection = socket.create_connection(("127.0.0.1", port), source_address=(source, 0))
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


if __name__ == "__main__":
    raise SystemExit(main())
