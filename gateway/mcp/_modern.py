"""Revision 2026-07-28: the per-request envelope, and the shape of its results.

Every request carries its protocol version and the client's capabilities in `params._meta` and mirrors
its method (for tools/call also the tool's name) in the Mcp-Method and Mcp-Name headers. The headers are
checked against the body before anything reads either: a proxy that routes or limits by a header must
never see one call while the gateway runs another.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import Iterable, Mapping
from typing import Any

from gateway.mcp._jsonrpc import INVALID_PARAMS, JsonRpcError, Request
from gateway.mcp._protocol import CAPABILITIES, INSTRUCTIONS, SERVER_INFO, SUPPORTED_VERSIONS, VERSION_HEADER
from gateway.vocabulary import HeldForApproval

PROTOCOL_VERSION_META = "io.modelcontextprotocol/protocolVersion"
CLIENT_CAPABILITIES_META = "io.modelcontextprotocol/clientCapabilities"
SERVER_INFO_META = "io.modelcontextprotocol/serverInfo"
HEADER_MISMATCH = -32020
UNSUPPORTED_PROTOCOL_VERSION = -32022
METHOD_HEADER = b"mcp-method"
NAME_HEADER = b"mcp-name"
NAME_PARAMS = {"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}
# The tool list depends on the caller and on the policy, which may be reloaded: private, and fresh for
# a minute (every call is decided again, so a stale list shows a tool, never grants one).
LIST_TTL_MS = 60_000
APPROVAL_INPUT = "aegis_approval"
_ROUTING_HEADERS = {
    VERSION_HEADER: "MCP-Protocol-Version",
    METHOD_HEADER: "Mcp-Method",
    NAME_HEADER: "Mcp-Name",
}
_HEADER_SAFE = re.compile(r"[\x20-\x7e]*")
_SENTINEL = re.compile(r"=\?base64\?(.*)\?=")
_TRACEPARENT = re.compile(r"(?!ff)[0-9a-f]{2}-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}")


@dataclasses.dataclass(frozen=True)
class Envelope:
    version: str
    capabilities: Mapping[str, Any]
    traceparent: str | None  # W3C trace context, when the client sent a well-formed one


def unsupported_version(requested: str) -> JsonRpcError:
    return JsonRpcError(
        UNSUPPORTED_PROTOCOL_VERSION,
        "Unsupported protocol version",
        {"supported": list(SUPPORTED_VERSIONS), "requested": requested[:64]},
    )


def envelope_of(request: Request, headers: Iterable[tuple[bytes, bytes]]) -> Envelope:
    """The request's envelope, once the routing headers agree with the body; raises JsonRpcError."""
    routing: dict[bytes, str] = {}
    for name, value in headers:
        if name in _ROUTING_HEADERS:
            if name in routing:
                raise _mismatch(f"{_ROUTING_HEADERS[name]} appears more than once")
            routing[name] = value.decode("latin-1")
            if not _HEADER_SAFE.fullmatch(routing[name]):
                raise _mismatch(f"{_ROUTING_HEADERS[name]} holds characters a header value may not")
    meta = request.params.get("_meta")
    if not isinstance(meta, dict) or not {PROTOCOL_VERSION_META, CLIENT_CAPABILITIES_META} <= meta.keys():
        raise JsonRpcError(
            INVALID_PARAMS,
            f"Invalid params: params._meta must carry {PROTOCOL_VERSION_META!r}"
            f" and {CLIENT_CAPABILITIES_META!r}",
        )
    version = meta[PROTOCOL_VERSION_META]
    if routing.get(VERSION_HEADER) != version:
        raise _mismatch("MCP-Protocol-Version does not match the protocol version in params._meta")
    if routing.get(METHOD_HEADER) != request.method:
        raise _mismatch("Mcp-Method does not match the request's method")
    name_param = NAME_PARAMS.get(request.method)
    if name_param is not None and _decoded(routing.get(NAME_HEADER)) != request.params.get(name_param):
        raise _mismatch(f"Mcp-Name does not match the request's {name_param!r}")
    capabilities = meta[CLIENT_CAPABILITIES_META]
    if not isinstance(capabilities, dict):
        raise JsonRpcError(INVALID_PARAMS, f"Invalid params: {CLIENT_CAPABILITIES_META!r} must be an object")
    traceparent = meta.get("traceparent")
    if not (isinstance(traceparent, str) and _TRACEPARENT.fullmatch(traceparent)):
        traceparent = None
    return Envelope(version=version, capabilities=capabilities, traceparent=traceparent)


def complete(result: Mapping[str, Any], *, cacheable: bool = False) -> dict[str, Any]:
    """A final result as this revision shapes it: its type, the server's identity and, for lists and
    discovery, the caching hints."""
    shaped = {"resultType": "complete", **result}
    if cacheable:
        shaped.update(ttlMs=LIST_TTL_MS, cacheScope="private")
    shaped["_meta"] = {**(result.get("_meta") or {}), SERVER_INFO_META: SERVER_INFO}
    return shaped


def discover_result() -> dict[str, Any]:
    return complete(
        {
            "supportedVersions": list(SUPPORTED_VERSIONS),
            "capabilities": CAPABILITIES,
            "instructions": INSTRUCTIONS,
        },
        cacheable=True,
    )


def input_required(held: HeldForApproval, capabilities: Mapping[str, Any]) -> dict[str, Any]:
    """A call held for approval, as a multi-round-trip interim result: the sealed state to retry it
    with and, where the client can ask its user, a form telling them whom to ask."""
    result: dict[str, Any] = {"resultType": "input_required", "requestState": held.request_state}
    if _asks_forms(capabilities.get("elicitation")):
        message = (
            f"Aegis holds this call for human approval {held.approval_id} (expires {held.expires}). Ask an"
            f" approver to run `aegis approvals approve {held.approval_id}`, then accept to retry it; it runs"
            " once, and only if approved."
        )
        form = {"mode": "form", "message": message, "requestedSchema": {"type": "object", "properties": {}}}
        result["inputRequests"] = {APPROVAL_INPUT: {"method": "elicitation/create", "params": form}}
    result["_meta"] = {SERVER_INFO_META: SERVER_INFO}
    return result


def declined_approval_wait(params: Mapping[str, Any]) -> str | None:
    """The action ("decline" or "cancel") by which the user answered the approval form, if not accept."""
    responses = params.get("inputResponses")
    answer = responses.get(APPROVAL_INPUT) if isinstance(responses, dict) else None
    action = answer.get("action") if isinstance(answer, dict) else None
    return action if action in ("decline", "cancel") else None


def _asks_forms(elicitation: Any) -> bool:
    """Whether the client takes form elicitations: `{}` (forms only, as first specified) or `form`."""
    return isinstance(elicitation, dict) and (not elicitation or "form" in elicitation)


def _decoded(value: str | None) -> str | None:
    """A header value, its base64 sentinel form decoded; None when it is absent or the form is broken."""
    match = _SENTINEL.fullmatch(value) if value is not None else None
    if match is None:
        return value
    payload = match.group(1)
    try:
        decoded = base64.b64decode(payload, validate=True)
        canonical = base64.b64encode(decoded).decode("ascii") == payload
        return decoded.decode("utf-8") if canonical else None
    except (binascii.Error, UnicodeDecodeError):
        return None


def _mismatch(message: str) -> JsonRpcError:
    return JsonRpcError(HEADER_MISMATCH, f"Header mismatch: {message}")
