"""Start the servers of a benchmark run as separate processes on loopback, and stop them."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

READY_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def pinned(cores: set[int] | None) -> dict[str, Any]:
    """Popen arguments that start a process (and every child it spawns) on `cores` only."""
    if not cores:
        return {}
    chosen = set(cores)
    return {"preexec_fn": lambda: os.sched_setaffinity(0, chosen)}


@contextlib.contextmanager
def running(
    argv: Sequence[str],
    *,
    ready_url: str,
    log: Path,
    env: Mapping[str, str] | None = None,
    cores: set[int] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `argv` (a Python module invocation, on `cores` when given) until the block ends; wait until
    `ready_url` answers below 500."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, *argv],
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            **pinned(cores),
        )
    try:
        wait_ready(process, ready_url, log)
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen[str] | subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if the process has not exited within 15 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def peak_rss_kib(pid: int) -> int:
    """VmHWM of a live process: its peak resident set size."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


def wait_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    """Until `url` answers below 500; raises when `process` exits first (with the end of its log) or by
    the deadline."""
    deadline = time.monotonic() + READY_TIMEOUT_S
    with httpx.Client(timeout=1.0) as client:  # one client: making one costs more than a request
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(f"{process.args!r} exited:\n{log.read_text(errors='replace')[-3000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if client.get(url).status_code < 500:
                    return
            time.sleep(0.1)
    raise RuntimeError(f"{process.args!r} not ready after {READY_TIMEOUT_S}s")
