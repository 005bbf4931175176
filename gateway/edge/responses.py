"""Errors the edge answers before the MCP layer: JSON-RPC shaped, generic, carrying the request id."""

from __future__ import annotations

import logging
import math
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Scope, Send

from gateway.mcp import JsonRpcError, error_body
from gateway.observability.metrics import Metrics
from gateway.observability.request_id import request_id_of

EDGE_ERROR_CODE = -32000
# For refusals that leave the request unread (a body that did not come or is too large, a head over
# bounds): the server closes the connection after the answer.
CLOSE_CONNECTION = [(b"connection", b"close")]
log = logging.getLogger(__name__)


async def send_json_error(
    scope: Scope, send: Send, *, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = _edge_error(message, request_id_of(scope))
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def retry_after(seconds: float) -> list[tuple[bytes, bytes]]:
    """A Retry-After header of whole seconds, never 0 (a client told 0 would retry at once)."""
    return [(b"retry-after", str(max(1, math.ceil(seconds))).encode())]


async def send_unavailable(scope: Scope, send: Send, *, message: str, retry_after_s: float = 1.0) -> None:
    await send_json_error(scope, send, status=503, message=message, headers=retry_after(retry_after_s))


async def refuse_for_backend_failure(scope: Scope, send: Send, *, metrics: Metrics, backend: str) -> None:
    """A limit backend (Redis) that could not answer: counted, logged with its cause, and the request
    refused with 503. A limit is never waived because its backend is down. Call from an except block."""
    metrics.limit_backend_errors.inc()
    log.error("%s failed; refusing the request", backend, exc_info=True)
    await send_unavailable(scope, send, message="Service Unavailable")


async def send_too_many_requests(scope: Scope, send: Send, *, retry_after_s: float) -> None:
    await send_json_error(
        scope, send, status=429, message="Too Many Requests", headers=retry_after(retry_after_s)
    )


async def json_error_handler(request: Request, exc: Exception) -> Response:
    """Starlette handler for 404, 405 and unhandled errors: the same JSON shape, no internals."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    body = _edge_error(HTTPStatus(status).phrase, request_id_of(request.scope))
    if isinstance(exc, HTTPException):
        headers = dict(exc.headers or {})
    else:  # answered outside RequestIdMiddleware, which would otherwise add the header
        headers = {"x-request-id": request_id_of(request.scope)}
    return Response(body, status_code=status, headers=headers, media_type="application/json")


def _edge_error(message: str, request_id: str) -> bytes:
    """The JSON-RPC error the MCP layer would give (no id: the request was never parsed)."""
    return error_body(None, JsonRpcError(EDGE_ERROR_CODE, message, {"request_id": request_id}))
