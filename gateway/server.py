"""Run the app under uvicorn with JSON logs, over TLS when a certificate is configured."""

from __future__ import annotations

import logging

import uvicorn

from gateway.app import create_app
from gateway.config import Settings, is_loopback
from gateway.edge.connections import ConnectionLimits, edge_protocol
from gateway.observability.logs import configure_logging
from gateway.parts import build_parts

log = logging.getLogger(__name__)


def serve(settings: Settings) -> None:
    configure_logging()
    parts = build_parts(settings)  # refuses an unsafe bind before anything listens
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
        max_per_address=settings.max_connections_per_address,
        trusted_proxies=settings.trusted_proxies,
    )
    config = uvicorn.Config(
        app,
        http=edge_protocol(limits, parts.metrics.connections_closed_early),
        h11_max_incomplete_event_size=settings.max_header_bytes,
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
    uvicorn.Server(config).run()
