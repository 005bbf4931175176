"""A round-robin TCP proxy on loopback, in front of gateway replicas (the replica benchmark's balancer).

    python -m bench.round_robin PORT BACKEND_PORT [BACKEND_PORT ...]

Each accepted connection goes to the next backend in turn, and its bytes are copied both ways until
either side closes. The balance is per connection, not per request: wrk keeps its connections open,
so with c connections and n backends each backend holds c/n of them for the whole run. Nothing is
parsed or buffered beyond one read; the proxy runs as its own process, with one backend as with two,
so its cost is in every figure measured through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sys
from collections.abc import Sequence

CHUNK = 64 * 1024


async def serve(port: int, backends: Sequence[int]) -> None:
    turns = itertools.cycle(backends)
    server = await asyncio.start_server(
        lambda reader, writer: _relay(next(turns), reader, writer), "127.0.0.1", port, backlog=1024
    )
    async with server:
        await server.serve_forever()


async def _relay(
    backend: int, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
) -> None:
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", backend)
    except OSError:
        client_writer.close()
        return
    await asyncio.gather(_copy(client_reader, writer), _copy(reader, client_writer))


async def _copy(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy until EOF or a connection error, then close `writer`: its side sees the connection end, and
    the copy the other way ends with it."""
    with contextlib.suppress(ConnectionError), contextlib.closing(writer):
        while data := await reader.read(CHUNK):
            writer.write(data)
            await writer.drain()


if __name__ == "__main__":
    asyncio.run(serve(int(sys.argv[1]), [int(port) for port in sys.argv[2:]]))
