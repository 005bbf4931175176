"""Strict JSON-RPC 2.0 framing: one object per POST, no batches, no duplicate keys, bounded depth."""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
MAX_DEPTH = 32

RequestId = str | int


class JsonRpcError(Exception):
    """An error to answer with; `message` and `data` go to the client, so they must be safe to show."""

    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data


@dataclasses.dataclass(frozen=True)
class Request:
    id: RequestId
    method: str
    params: dict[str, Any]


@dataclasses.dataclass(frozen=True)
class Notification:
    method: str


@dataclasses.dataclass(frozen=True)
class ClientReply:
    """A response from the client to a request of ours; the gateway sends none, so it is acknowledged only."""


Message = Request | Notification | ClientReply


def parse_message(body: bytes) -> Message:
    try:
        document = strict_loads(body)
    except _DuplicateKey as exc:
        raise JsonRpcError(INVALID_REQUEST, f"Invalid Request: duplicate key {exc.key!r}") from None
    except (ValueError, RecursionError):
        raise JsonRpcError(PARSE_ERROR, "Parse error: body is not valid UTF-8 JSON") from None
    if isinstance(document, list):
        raise JsonRpcError(INVALID_REQUEST, "Invalid Request: batches are not supported")
    if not isinstance(document, dict):
        raise JsonRpcError(INVALID_REQUEST, "Invalid Request: expected a JSON object")
    _check_nodes(document)
    if document.get("jsonrpc") != "2.0":
        raise JsonRpcError(INVALID_REQUEST, 'Invalid Request: "jsonrpc" must be "2.0"')
    if "method" not in document:
        if "id" in document and ("result" in document or "error" in document):
            return ClientReply()
        raise JsonRpcError(INVALID_REQUEST, 'Invalid Request: "method" is missing')
    method = document["method"]
    if not isinstance(method, str):
        raise JsonRpcError(INVALID_REQUEST, 'Invalid Request: "method" must be a string')
    params = document.get("params", {})
    if not isinstance(params, dict):
        raise JsonRpcError(INVALID_REQUEST, 'Invalid Request: "params" must be an object')
    if "id" not in document:
        return Notification(method=method)
    request_id = document["id"]
    if isinstance(request_id, bool) or not isinstance(request_id, str | int):
        raise JsonRpcError(INVALID_REQUEST, 'Invalid Request: "id" must be a string or an integer')
    return Request(id=request_id, method=method, params=params)


def request_id_or_none(body: bytes) -> RequestId | None:
    """Best effort: the id of a request that failed validation, so the error can name it."""
    try:
        document = strict_loads(body)
    except (ValueError, RecursionError):
        return None
    request_id = document.get("id") if isinstance(document, dict) else None
    if isinstance(request_id, str):
        return None if _SURROGATE.search(request_id) else request_id
    return request_id if isinstance(request_id, int) and not isinstance(request_id, bool) else None


def result_body(request_id: RequestId, result: Any) -> bytes:
    return _encode({"jsonrpc": "2.0", "id": request_id, "result": result})


_SURROGATE = re.compile("[\ud800-\udfff]")


def error_body(request_id: RequestId | None, error: JsonRpcError) -> bytes:
    payload: dict[str, Any] = {"code": error.code, "message": error.message}
    if error.data is not None:
        payload["data"] = error.data
    return _encode({"jsonrpc": "2.0", "id": request_id, "error": payload})


def _encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _reject_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key in document:
            raise _DuplicateKey(key)
        document[key] = value
    return document


def strict_loads(body: bytes) -> Any:
    """JSON as RFC 8259 has it: UTF-8 only (json.loads would sniff UTF-16 and UTF-32 from bytes), no
    NaN or Infinity, no duplicate keys."""
    return json.loads(
        body.decode("utf-8"), object_pairs_hook=_reject_duplicate_keys, parse_constant=_reject_constant
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _check_nodes(document: Any) -> None:
    """Refuse nesting deeper than MAX_DEPTH and strings holding a lone surrogate (a `\\ud800` escape),
    which no UTF-8 text can carry: passed on, they would fail wherever the string is encoded again."""
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise JsonRpcError(INVALID_REQUEST, f"Invalid Request: nested deeper than {MAX_DEPTH} levels")
        if isinstance(node, dict):
            strings = [*node.keys(), *(value for value in node.values() if isinstance(value, str))]
            children = [value for value in node.values() if isinstance(value, dict | list)]
        elif isinstance(node, list):
            strings = [item for item in node if isinstance(item, str)]
            children = [item for item in node if isinstance(item, dict | list)]
        else:
            strings, children = [node] if isinstance(node, str) else [], []
        if any(_SURROGATE.search(string) for string in strings):
            raise JsonRpcError(PARSE_ERROR, "Parse error: a string holds a lone surrogate")
        stack.extend((child, depth + 1) for child in children)
