"""``python -m gitea_simulator serve``: run the simulator under uvicorn.

``--port 0`` picks a free port; once the server accepts connections one line
``gitea-simulator listening on http://HOST:PORT`` is printed (and flushed) on stdout.

Example::

    python -m gitea_simulator serve --state /tmp/gitea --seed-demo --port 0 --token-file /tmp/gitea-token \\
        --token-scopes write:issue,write:repository,read:user
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import uvicorn

from ._app import create_app
from ._demo import DEMO_USER
from ._errors import SimulatorError
from ._seed import add_token, read_demo_token, seed_demo, write_secret

__all__ = ["READY_PREFIX", "main"]

READY_PREFIX: Final = "gitea-simulator listening on "
DEFAULT_PORT: Final = 3000


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m gitea_simulator", description="Gitea API v1 simulator")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve a state directory over HTTP")
    serve.add_argument("--state", type=Path, required=True, help="state directory (repos/ and meta.json)")
    serve.add_argument(
        "--seed-demo", action="store_true", help="seed the demo data when the directory is empty"
    )
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT, help="port to bind; 0 picks a free one")
    serve.add_argument("--token-file", type=Path, help="write the demo API token to this file (mode 0600)")
    serve.add_argument(
        "--token-scopes",
        metavar="SCOPES",
        help="with --token-file: write a new token of the demo user with these comma-separated Gitea scopes",
    )
    serve.add_argument(
        "--request-log", type=Path, help="append every request received to this JSON-lines file"
    )
    return parser


def _prepare(state: Path, *, seed: bool, token_file: Path | None, token_scopes: str | None) -> None:
    if token_scopes is not None and token_file is None:
        raise SimulatorError("--token-scopes needs --token-file")
    token = None
    if seed and (not state.exists() or not any(state.iterdir())):
        token = seed_demo(state).token
    if token_file is None:
        return
    if token_scopes is not None:
        token = add_token(state, user=DEMO_USER, scopes=token_scopes.split(","), name="cli")
    write_secret(token_file, (token or read_demo_token(state)) + "\n")


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted connections only when the socket says
    # TCP, and without it every answer waits ~40 ms (Nagle against delayed ACKs).
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SimulatorError(f"cannot bind {host}:{port}: {exc}") from exc
    return sock


class _Server(uvicorn.Server):
    """A uvicorn server that announces its URL once it accepts connections."""

    def __init__(self, config: uvicorn.Config, *, url: str) -> None:
        super().__init__(config)
        self.url = url

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started:
            print(f"{READY_PREFIX}{self.url}", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    state: Path = args.state.resolve()
    try:
        _prepare(state, seed=args.seed_demo, token_file=args.token_file, token_scopes=args.token_scopes)
        sock = _bind(args.host, args.port)
    except (SimulatorError, OSError) as exc:
        print(f"gitea-simulator: {exc}", file=sys.stderr)
        return 2
    host = f"[{args.host}]" if ":" in args.host else args.host
    url = f"http://{host}:{sock.getsockname()[1]}"
    config = uvicorn.Config(
        create_app(state, request_log=args.request_log), log_level="warning", access_log=False, lifespan="off"
    )
    asyncio.run(_Server(config, url=url).serve(sockets=[sock]))
    return 0
