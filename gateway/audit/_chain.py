"""The hashing rules of the chain, shared by the writer and the verifier."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

GENESIS_HASH = "0" * 64
ENTRY_FIELDS = (
    "seq", "ts", "event", "request_id", "decision_id", "bundle_revision", "principal", "tool", "repo",
    "path", "args_sha256", "outcome", "reasons", "duration_ms", "prev_hash", "entry_hash",
)  # fmt: skip
SECURITY_EVENTS = (
    "auth_failure",
    "auth_throttled",
    "rate_limited",
    "overloaded",
    "origin_rejected",
    "body_timeout",
)
CLIENT_REQUEST_ID = "client_request_id"
# Fields of one kind of event beyond ENTRY_FIELDS: (required, optional). A tool call's `output`
# summary is optional so that logs written before it existed still verify; `approval` and `write`
# appear on writes only; `client_request_id` on requests that carried a well-formed X-Request-ID of
# their own. An approver's decision and a rollback are entries of their own.
EVENT_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "tool_call": ((), ("output", "approval", "write", CLIENT_REQUEST_ID)),
    **{event: (("client_ip", "repeats_left_out"), (CLIENT_REQUEST_ID,)) for event in SECURITY_EVENTS},
    "approval_decided": (("approval",), ()),
    "rollback": (("rollback",), ()),
}


def client_request_id_field(value: str | None) -> dict[str, str]:
    """The `client_request_id` field of an entry: the client's own request id, when it sent one."""
    return {CLIENT_REQUEST_ID: value} if value is not None else {}


def canonical_json(value: Any) -> bytes:
    """Keys sorted, no whitespace, UTF-8: the bytes every hash in the chain is taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 hex of the entry's canonical JSON without its own `entry_hash` field."""
    body = {key: value for key, value in entry.items() if key != "entry_hash"}
    return hashlib.sha256(canonical_json(body)).hexdigest()
