"""Request ids: the gateway draws its own for every request and echoes it as X-Request-ID. A client's own
X-Request-ID, when well formed, is kept beside it (`client_request_id`, in logs and audit entries), never in
its place: a client could otherwise give two calls one id, or its call the id of another's."""

from __future__ import annotations

import contextvars
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = b"x-request-id"
_WELL_FORMED = re.compile(rb"[A-Za-z0-9._:-]{1,128}")

current_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
current_client_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "client_request_id", default=None
)
# The W3C trace context of the MCP request being served, when its client sent one in `_meta`.
current_traceparent: contextvars.ContextVar[str | None] = contextvars.ContextVar("traceparent", default=None)


def request_id_of(scope: Scope) -> str:
    """The request id bound to this HTTP scope by RequestIdMiddleware."""
    value: object = scope.get("state", {}).get("request_id")
    return value if isinstance(value, str) else current_request_id.get()


def client_request_id_of(scope: Scope) -> str | None:
    """The client's own well-formed X-Request-ID of this HTTP scope, if it sent one."""
    value: object = scope.get("state", {}).get("client_request_id")
    return value if isinstance(value, str) else None


class RequestIdMiddleware:
    """Binds a fresh request id (and the client's own, if well formed) to the scope and the logging
    context, and echoes the request id as X-Request-ID."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = uuid.uuid4().hex
        client_request_id = _client_request_id(scope)
        state = scope.setdefault("state", {})
        state["request_id"], state["client_request_id"] = request_id, client_request_id
        token = current_request_id.set(request_id)
        client_token = current_client_request_id.set(client_request_id)
        header = (REQUEST_ID_HEADER, request_id.encode("ascii"))

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            current_client_request_id.reset(client_token)
            current_request_id.reset(token)


def _client_request_id(scope: Scope) -> str | None:
    """The first X-Request-ID, if it is 1 to 128 of `A-Z a-z 0-9 . _ : -`; anything else is not kept."""
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            return bytes(value).decode("ascii") if _WELL_FORMED.fullmatch(value) else None
    return None
