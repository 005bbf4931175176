"""Run the app under uvicorn with JSON logs."""

from __future__ import annotations

import uvicorn

from gateway.app import create_app
from gateway.config import Settings
from gateway.observability.logs import configure_logging


def serve(settings: Settings) -> None:
    configure_logging()
    app = create_app(settings)
    config = uvicorn.Config(
        app,
        host=settings.bind_host,
        port=settings.bind_port,
        log_config=None,
        access_log=False,
        lifespan="on",
        server_header=False,
        proxy_headers=False,
    )
    uvicorn.Server(config).run()
