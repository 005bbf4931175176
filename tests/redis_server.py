"""A real redis-server for tests (Debian's package, installed by scripts/setup --with-redis)."""

from __future__ import annotations

import dataclasses
import shutil
import socket
import subprocess
import time
from pathlib import Path

from bench._processes import stop
from tests.ports import free_port

START_TIMEOUT_S = 10.0


@dataclasses.dataclass
class RedisServer:
    url: str
    port: int
    process: subprocess.Popen[bytes]

    def stop(self) -> None:
        stop(self.process)


def start_redis(workdir: Path) -> RedisServer:
    """redis-server on a free loopback port, without persistence, in `workdir`."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server not found: run ./scripts/setup --with-redis")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    process = subprocess.Popen(
        [
            binary,
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(workdir),
            "--protected-mode",
            "yes",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                conn.sendall(b"PING\r\n")
                if conn.recv(16).startswith(b"+PONG"):
                    return RedisServer(url=f"redis://127.0.0.1:{port}/0", port=port, process=process)
        except OSError:
            time.sleep(0.05)
    stop(process)
    raise RuntimeError(f"redis-server did not answer on port {port}")
