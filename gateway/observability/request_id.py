"""Request ids: taken from a well-formed X-Request-ID, else generated; echoed on every response."""

from __future__ import annotations

import contextvars
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = b"x-request-id"
_WELL_FORMED = re.compile(rb"[A-Za-z0-9._:-]{1,128}")

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")


def request_id_of(scope: Scope) -> str:
    """The request id bound to this HTTP scope by RequestIdMiddleware."""
    value: object = scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else current_request_id.get()


class RequestIdMiddleware:
    """Binds a request id to the scope and the logging context, and echoes it as X-Request-ID."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _choose_request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        token = current_request_id.set(request_id)
        header = (REQUEST_ID_HEADER, request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_request_id.reset(token)


def _choose_request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER and _WELL_FORMED.fullmatch(value):
            return bytes(value).decode("ascii")
    return uuid.uuid4().hex
