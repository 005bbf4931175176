"""Run the app under uvicorn with JSON logs, over TLS when a certificate is configured."""

from __future__ import annotations

import logging

import uvicorn

from gateway.app import create_app
from gateway.config import Settings, is_loopback
from gateway.observability.logs import configure_logging

log = logging.getLogger(__name__)


def serve(settings: Settings) -> None:
    configure_logging()
    app = create_app(settings)  # refuses an unsafe bind before anything listens
    if not settings.tls and not is_loopback(settings.bind_host):
        log.warning(
            "UNSAFE: serving plain HTTP on a non-loopback address (--allow-insecure-bind); keys and "
            "repository data cross the network unencrypted unless a proxy or mesh terminates TLS",
            extra={"bind_host": settings.bind_host},
        )
    config = uvicorn.Config(
        app,
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
