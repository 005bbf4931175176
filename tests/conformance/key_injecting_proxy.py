"""A loopback reverse proxy that adds the gateway API key and forwards everything else unchanged.

The conformance suite's client has no way to send an API key; this proxy lets it reach an authenticated
gateway without weakening the gateway. Host and Origin pass through as sent, so the DNS-rebinding
scenario still tests the gateway's own checks. It counts the statuses the gateway answered, so that a test
can tell a refusal of the gateway's own limits (429) from a scenario's verdict.
"""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

import httpx
import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "content-length", "authorization"})


class KeyInjectingProxy:
    def __init__(self, *, upstream: str, key: str) -> None:
        self.upstream = upstream.rstrip("/")
        self.key = key
        self.statuses: Counter[int] = Counter()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        request = Request(scope, receive)
        headers = [(k, v) for k, v in request.headers.items() if k not in HOP_BY_HOP]
        headers.append(("authorization", f"Bearer {self.key}"))
        async with httpx.AsyncClient(timeout=30) as client:
            upstream = await client.request(
                request.method,
                self.upstream + request.url.path,
                params=request.query_params,
                headers=headers,
                content=await request.body(),
            )
        self.statuses[upstream.status_code] += 1
        response_headers = {k: v for k, v in upstream.headers.items() if k not in HOP_BY_HOP}
        await Response(upstream.content, upstream.status_code, response_headers)(scope, receive, send)


class ProxyServer:
    """Runs the proxy under uvicorn in a background thread on 127.0.0.1:port."""

    def __init__(self, proxy: KeyInjectingProxy, port: int) -> None:
        config = uvicorn.Config(proxy, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=lambda: asyncio.run(self.server.serve()), daemon=True)

    def __enter__(self) -> ProxyServer:
        self.thread.start()
        while not self.server.started:
            threading.Event().wait(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
