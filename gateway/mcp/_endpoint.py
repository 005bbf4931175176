"""POST /mcp: streamable HTTP with JSON responses, stateless (no Mcp-Session-Id)."""

from __future__ import annotations

import logging
from typing import Any

from starlette.types import Receive, Scope, Send

from gateway.asgi_body import ClientGone, read_body
from gateway.errors import InvalidToolCall, ServiceUnavailable
from gateway.mcp._handler import ToolHandler
from gateway.mcp._jsonrpc import (
    INTERNAL_ERROR,
    INVALID_PARAMS,
    INVALID_REQUEST,
    METHOD_NOT_FOUND,
    PARSE_ERROR,
    ClientReply,
    JsonRpcError,
    Notification,
    Request,
    error_body,
    parse_message,
    request_id_or_none,
    result_body,
)
from gateway.mcp._protocol import (
    SUPPORTED_VERSIONS,
    VERSION_HEADER,
    initialize_result,
    negotiate,
)
from gateway.mcp._refused import named_tool_calls
from gateway.observability.request_id import client_request_id_of, request_id_of
from gateway.vocabulary import PRINCIPAL_STATE_KEY, CallContext

log = logging.getLogger(__name__)
JSON_TYPES = (b"application/json", b"application/*", b"*/*")


class McpEndpoint:
    """The ASGI app behind /mcp. Authentication happened before; the principal is in scope state."""

    def __init__(self, *, handler: ToolHandler, max_body_bytes: int) -> None:
        self.handler = handler
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            status, body, headers = await self._respond(scope, receive)
        except ClientGone:
            return  # nothing to answer, and a truncated body is never executed
        await _send(send, status, body, headers)

    async def _respond(self, scope: Scope, receive: Receive) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        if scope["method"] != "POST":
            status, error, _ = _http_error(scope, 405, INVALID_REQUEST, "Method Not Allowed: use POST")
            return status, error, [(b"allow", b"POST")]
        headers = _headers(scope)
        if headers.get(b"content-type", b"").split(b";")[0].strip().lower() != b"application/json":
            return _http_error(scope, 415, INVALID_REQUEST, "Unsupported Media Type: use application/json")
        accept = headers.get(b"accept")
        if accept is not None and not any(kind in accept.lower() for kind in JSON_TYPES):
            return _http_error(
                scope, 406, INVALID_REQUEST, "Not Acceptable: the client must accept application/json"
            )
        body = await read_body(receive, self.max_body_bytes)
        if body is None:
            return _http_error(scope, 413, INVALID_REQUEST, "Payload Too Large")
        context = CallContext(
            principal=scope.get("state", {}).get(PRINCIPAL_STATE_KEY),
            request_id=request_id_of(scope),
            client_ip=scope["client"][0] if scope.get("client") else None,
            client_request_id=client_request_id_of(scope),
        )
        try:
            message = parse_message(body)
        except JsonRpcError as invalid:
            rule = "jsonrpc.parse_error" if invalid.code == PARSE_ERROR else "jsonrpc.invalid_request"
            for name, arguments in named_tool_calls(body):
                await self.handler.refuse_call(context, name, arguments, rule=rule)
            return 400, error_body(request_id_or_none(body), _naming(invalid, context.request_id)), []
        if isinstance(message, ClientReply | Notification):
            return 202, b"", []
        raw_version = headers.get(VERSION_HEADER)
        version = raw_version.decode("latin-1") if raw_version is not None else None
        if message.method != "initialize" and version is not None and version not in SUPPORTED_VERSIONS:
            if message.method == "tools/call":
                await self.handler.refuse_call(
                    context,
                    message.params.get("name"),
                    message.params.get("arguments", {}),
                    rule="mcp.unsupported_version",
                )
            unsupported = JsonRpcError(
                INVALID_REQUEST, f"Bad Request: unsupported MCP-Protocol-Version {version[:40]!r}"
            )
            return 400, error_body(message.id, _naming(unsupported, context.request_id)), []
        return 200, await self._dispatch(message, context), []

    async def _dispatch(self, request: Request, context: CallContext) -> bytes:
        try:
            return result_body(request.id, await self._result(request, context))
        except JsonRpcError as error:
            failure = error
        except InvalidToolCall as exc:
            failure = JsonRpcError(INVALID_PARAMS, str(exc))
        except ServiceUnavailable as exc:
            failure = JsonRpcError(INTERNAL_ERROR, f"Internal error: {exc}")
        except Exception:
            log.exception("internal error handling %s", request.method)
            failure = JsonRpcError(INTERNAL_ERROR, "Internal error")
        return error_body(request.id, _naming(failure, context.request_id))

    async def _result(self, request: Request, context: CallContext) -> dict[str, Any]:
        params = request.params
        if request.method == "initialize":
            return initialize_result(negotiate(params))
        if request.method == "ping":
            return {}
        if request.method == "tools/list":
            if "cursor" in params:
                raise JsonRpcError(INVALID_PARAMS, "Invalid params: unknown cursor")
            return {"tools": await self.handler.list_tools(context)}
        if request.method == "tools/call":
            return await self.handler.call_tool(context, params.get("name"), params.get("arguments", {}))
        raise JsonRpcError(METHOD_NOT_FOUND, f"Method not found: {request.method[:64]}")


def _naming(error: JsonRpcError, request_id: str) -> JsonRpcError:
    """`error` with the request id in its data, so that a client can quote it to an operator."""
    data = error.data if isinstance(error.data, dict) else {}
    return JsonRpcError(error.code, error.message, {**data, "request_id": request_id})


def _headers(scope: Scope) -> dict[bytes, bytes]:
    return {name: value for name, value in scope["headers"]}


def _http_error(
    scope: Scope, status: int, code: int, message: str
) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    return status, error_body(None, _naming(JsonRpcError(code, message), request_id_of(scope))), []


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    base = [(b"content-length", str(len(body)).encode())]
    if body:
        base.append((b"content-type", b"application/json"))
    await send({"type": "http.response.start", "status": status, "headers": base + headers})
    await send({"type": "http.response.body", "body": body})
