"""POST /mcp: streamable HTTP with JSON responses, stateless (no Mcp-Session-Id)."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

from starlette.types import Receive, Scope, Send

from gateway.asgi_body import ClientGone, read_body
from gateway.errors import InvalidRequestState, InvalidToolCall, MalformedToolCall, ServiceUnavailable
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
from gateway.mcp._modern import (
    HEADER_MISMATCH,
    UNSUPPORTED_PROTOCOL_VERSION,
    Envelope,
    complete,
    declined_approval_wait,
    discover_result,
    envelope_of,
    input_required,
    unsupported_version,
)
from gateway.mcp._protocol import (
    MODERN_VERSIONS,
    SUPPORTED_VERSIONS,
    TOOL_ERROR_VERSIONS,
    VERSION_HEADER,
    initialize_result,
    negotiate,
)
from gateway.mcp._refused import named_tool_calls
from gateway.observability.request_id import client_request_id_of, current_traceparent, request_id_of
from gateway.vocabulary import PRINCIPAL_STATE_KEY, CallContext, HeldForApproval

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
        era = _Era(version=version, envelope=None)
        try:
            if version is not None and version not in SUPPORTED_VERSIONS:
                raise unsupported_version(version)
            if version in MODERN_VERSIONS:
                envelope = envelope_of(message, scope["headers"])
                era = _Era(version=version, envelope=envelope)
                context = dataclasses.replace(
                    context, traceparent=envelope.traceparent, request_state=_request_state(message)
                )
        except JsonRpcError as refused:
            if message.method == "tools/call":
                await self.handler.refuse_call(
                    context,
                    message.params.get("name"),
                    message.params.get("arguments", {}),
                    rule=_REFUSAL_RULES.get(refused.code, "mcp.invalid_envelope"),
                )
            refusal = error_body(message.id, _naming(refused, context.request_id))
            return _status(refused, modern=True), refusal, []
        traced = current_traceparent.set(context.traceparent)
        try:
            return await self._dispatch(message, context, era)
        finally:
            current_traceparent.reset(traced)

    async def _dispatch(
        self, request: Request, context: CallContext, era: _Era
    ) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
        try:
            return 200, result_body(request.id, await self._result(request, context, era)), []
        except JsonRpcError as error:
            failure = error
        except InvalidToolCall as exc:
            failure = JsonRpcError(INVALID_PARAMS, str(exc))
        except ServiceUnavailable as exc:
            failure = JsonRpcError(INTERNAL_ERROR, f"Internal error: {exc}")
        except Exception:
            log.exception("internal error handling %s", request.method)
            failure = JsonRpcError(INTERNAL_ERROR, "Internal error")
        status = _status(failure, modern=era.envelope is not None)
        return status, error_body(request.id, _naming(failure, context.request_id)), []

    async def _result(self, request: Request, context: CallContext, era: _Era) -> dict[str, Any]:
        params = request.params
        envelope = era.envelope
        if request.method == "tools/list":
            if "cursor" in params:
                raise JsonRpcError(INVALID_PARAMS, "Invalid params: unknown cursor")
            tools = {"tools": await self.handler.list_tools(context)}
            return tools if envelope is None else complete(tools, cacheable=True)
        if request.method == "tools/call":
            answer = await self._call(request, context, era)
            if isinstance(answer, HeldForApproval):
                return answer.result if envelope is None else input_required(answer, envelope.capabilities)
            return answer if envelope is None else complete(answer)
        if envelope is not None and request.method == "server/discover":
            return discover_result()
        if envelope is None and request.method == "initialize":
            return initialize_result(negotiate(params))
        if envelope is None and request.method == "ping":
            return {}
        raise JsonRpcError(METHOD_NOT_FOUND, f"Method not found: {request.method[:64]}")

    async def _call(
        self, request: Request, context: CallContext, era: _Era
    ) -> dict[str, Any] | HeldForApproval:
        name, arguments = request.params.get("name"), request.params.get("arguments", {})
        if era.envelope is not None and (action := declined_approval_wait(request.params)) is not None:
            await self.handler.refuse_call(context, name, arguments, rule=f"mcp.approval_wait_{action}")
            return _tool_error(
                f"Not run: the user chose {action!r} instead of waiting for the approval; it stays open,"
                " and calling again resumes the wait",
                context.request_id,
            )
        try:
            return await self.handler.call_tool(context, name, arguments)
        except (MalformedToolCall, InvalidRequestState):
            raise
        except InvalidToolCall as invalid:
            if era.version not in TOOL_ERROR_VERSIONS:
                raise
            return _tool_error(str(invalid), context.request_id)


@dataclasses.dataclass(frozen=True)
class _Era:
    """How a request speaks: the version its header names (None: none, taken as before 2025-06-18) and,
    for 2026-07-28, its envelope."""

    version: str | None
    envelope: Envelope | None


_REFUSAL_RULES = {
    UNSUPPORTED_PROTOCOL_VERSION: "mcp.unsupported_version",
    HEADER_MISMATCH: "mcp.header_mismatch",
}
# 2026-07-28 answers protocol errors with an HTTP status of their own; earlier revisions with 200.
_MODERN_STATUS = {
    PARSE_ERROR: 400,
    INVALID_REQUEST: 400,
    INVALID_PARAMS: 400,
    HEADER_MISMATCH: 400,
    UNSUPPORTED_PROTOCOL_VERSION: 400,
    METHOD_NOT_FOUND: 404,
}


def _status(error: JsonRpcError, *, modern: bool) -> int:
    return _MODERN_STATUS.get(error.code, 200) if modern else 200


def _request_state(request: Request) -> str | None:
    state = request.params.get("requestState") if request.method == "tools/call" else None
    if state is not None and not isinstance(state, str):
        raise JsonRpcError(INVALID_PARAMS, 'Invalid params: "requestState" must be a string')
    return state


def _tool_error(message: str, request_id: str) -> dict[str, Any]:
    """A call refused for its input, as a result the model reads and can correct (SEP-1303)."""
    return {
        "content": [{"type": "text", "text": f"{message}. Request id: {request_id}."}],
        "structuredContent": {"error": message, "request_id": request_id},
        "isError": True,
    }


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
