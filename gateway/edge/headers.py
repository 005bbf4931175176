"""A bound on the number of request header lines: over it, 431 and the connection closed.

The bytes of a request head are bounded before it is parsed (the HTTP protocol, `gateway/edge/
connections.py`); a head within them can still hold thousands of short lines, which every layer that
looks for a header would walk.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.edge.responses import CLOSE_CONNECTION, send_json_error


class HeaderCountMiddleware:
    def __init__(self, app: ASGIApp, *, max_headers: int) -> None:
        self.app = app
        self.max_headers = max_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and len(scope["headers"]) > self.max_headers:
            await send_json_error(
                scope,
                send,
                status=431,
                message="Request Header Fields Too Large",
                headers=CLOSE_CONNECTION,
            )
            return
        await self.app(scope, receive, send)
