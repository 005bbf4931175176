"""Run the app under uvicorn with JSON logs, over TLS when a certificate is configured."""

from __future__ import annotations

import asyncio
import errno
import logging
import socket
from collections.abc import Callable

import uvicorn

from gateway.app import create_app
from gateway.config import Settings, is_loopback
from gateway.edge.connections import ConnectionLimits, edge_protocol
from gateway.errors import ConfigError
from gateway.observability.logs import configure_logging
from gateway.parts import build_parts

LISTEN_BACKLOG = 2048  # uvicorn's own default
log = logging.getLogger(__name__)


def serve(settings: Settings, *, announce: Callable[[], None] | None = None) -> None:
    """Serve until stopped. The port is bound and the parts are built and started before `announce`
    runs, so that nothing is announced for a gateway that cannot start (a port in use, an audit log
    another holds, an OPA that cannot run); such a failure is raised as the error it is, for the
    command line to say in one line, never logged as a traceback by the server."""
    configure_logging()
    settings.check_bind()  # refuses an unsafe bind before anything is bound
    listener = _listen(settings)
    try:
        parts = build_parts(settings)
    except BaseException:
        listener.close()
        raise
    app = create_app(settings, parts)
    if not settings.tls and not is_loopback(settings.bind_host):
        log.warning(
            "UNSAFE: serving plain HTTP on a non-loopback address (--allow-insecure-bind); keys and "
            "repository data cross the network unencrypted unless a proxy or mesh terminates TLS",
            extra={"bind_host": settings.bind_host},
        )
    limits = ConnectionLimits(
        header_timeout_s=settings.header_timeout_s,
        max_header_bytes=settings.max_header_bytes,
        max_body_bytes=settings.largest_body_bytes,
        max_per_address=settings.max_connections_per_address,
        trusted_proxies=settings.trusted_proxies,
    )
    config = uvicorn.Config(
        app,
        http=edge_protocol(limits, parts.metrics.connections_closed_early),
        host=settings.bind_host,
        port=settings.bind_port,
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
        proxy_headers=False,
        ws="none",  # no WebSocket: an Upgrade request is answered as plain HTTP, never parked
        ssl_certfile=str(settings.tls_cert) if settings.tls_cert else None,
        ssl_keyfile=str(settings.tls_key) if settings.tls_key else None,
    )
    server = uvicorn.Server(config)
    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        try:
            runner.run(parts.start())
        except BaseException:
            runner.run(parts.aclose())
            listener.close()
            raise
        if announce is not None:
            announce()
        runner.run(server.serve(sockets=[listener]))


def _listen(settings: Settings) -> socket.socket:
    """The gateway's listening socket, listening already: the port is the gateway's before anything is
    announced, and a second gateway on it is refused here."""
    family = socket.AF_INET6 if ":" in settings.bind_host else socket.AF_INET
    listener = socket.socket(family, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((settings.bind_host, settings.bind_port))
        listener.listen(LISTEN_BACKLOG)
    except OSError as exc:
        listener.close()
        why = (
            "is in use (another gateway?)"
            if exc.errno == errno.EADDRINUSE
            else f"cannot be bound: {exc.strerror}"
        )
        raise ConfigError(
            f"cannot listen on {settings.bind_host}:{settings.bind_port}: it {why}; set AEGIS_BIND to a free"
            " HOST:PORT"
        ) from exc
    return listener
