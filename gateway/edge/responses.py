"""Errors the edge answers before the MCP layer: JSON-RPC shaped, generic, carrying the request id."""

from __future__ import annotations

import json

from starlette.types import Scope, Send

from gateway.observability.request_id import request_id_of

EDGE_ERROR_CODE = -32000


async def send_json_error(
    scope: Scope, send: Send, *, status: int, message: str, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": None,
            "error": {
                "code": EDGE_ERROR_CODE,
                "message": message,
                "data": {"request_id": request_id_of(scope)},
            },
        }
    ).encode()
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
