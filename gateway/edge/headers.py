"""Request heads the gateway refuses before anything reads them: too many header lines (431), and a body
framed two ways (400). Both answers close the connection.

The bytes of a request head are bounded before it is parsed (the HTTP protocol, `gateway/edge/
connections.py`); a head within them can still hold thousands of short lines, which every layer that
looks for a header would walk. A request with both `Transfer-Encoding` and `Content-Length` is how
requests are smuggled past a proxy that reads the other one (RFC 9112, section 6.1): a parser that goes
by `Transfer-Encoding` waits for chunks a client that meant `Content-Length` never sends. (httptools
refuses such a head itself; this check keeps the refusal whatever parser serves.)
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.edge.responses import CLOSE_CONNECTION, send_json_error


class RequestHeadMiddleware:
    def __init__(self, app: ASGIApp, *, max_headers: int) -> None:
        self.app = app
        self.max_headers = max_headers

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = scope["headers"]
        if len(headers) > self.max_headers:
            await _refuse(scope, send, 431, "Request Header Fields Too Large")
            return
        names = {name for name, _ in headers}
        if b"transfer-encoding" in names and b"content-length" in names:
            await _refuse(scope, send, 400, "Bad Request: both Transfer-Encoding and Content-Length")
            return
        await self.app(scope, receive, send)


async def _refuse(scope: Scope, send: Send, status: int, message: str) -> None:
    await send_json_error(scope, send, status=status, message=message, headers=CLOSE_CONNECTION)
