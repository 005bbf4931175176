"""Free loopback ports for the servers the tests start.

A probed port is free only until somebody else binds it. Run serially, the only other binders are the
kernel's ephemeral ports of outgoing connections; run on several pytest-xdist workers, another worker
probes at the same moment. So each worker hands out ports from a block of its own below the ephemeral
range, in turn, probing each: no two workers share a port, and no outgoing connection is given one.
"""

from __future__ import annotations

import itertools
import os
import socket
from collections.abc import Iterator
from pathlib import Path

LOWEST = 10_000
EPHEMERAL_RANGE = Path("/proc/sys/net/ipv4/ip_local_port_range")


def free_port() -> int:
    """A loopback port nobody listens on, from this worker's block."""
    for port in _PORTS:
        if _bindable(port):
            return port
    raise RuntimeError("no free loopback port left in this test worker's block")


def _block() -> range:
    """This worker's ports: the span between LOWEST and the ephemeral range, cut in one block per worker
    (one block when pytest runs without workers)."""
    ephemeral_low = int(EPHEMERAL_RANGE.read_text().split()[0])
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    worker = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))
    size = (ephemeral_low - LOWEST) // workers
    first = LOWEST + worker * size
    return range(first, first + size)


def _cycle(block: range) -> Iterator[int]:
    """The block in turn, starting where this process's id points (two pytest runs by hand start apart),
    once round."""
    start = os.getpid() % len(block)
    return itertools.chain(block[start:], block[:start])


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


_PORTS = _cycle(_block())
