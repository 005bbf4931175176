"""The hashing rules of the chain, shared by the writer and the verifier."""

from __future__ import annotations

import hashlib
import json
import time
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
# A Gitea webhook delivery refused at the receiver (forged, unsigned, replayed, oversized, malformed, too
# slow), or accepted but dropped for a full queue: security events too, with what the delivery claimed.
WEBHOOK_EVENTS = ("webhook_refused", "webhook_dropped")
WEBHOOK = "webhook"  # {"delivery": its X-Gitea-Delivery, "event": its X-Gitea-Event}, each None if malformed
CLIENT_REQUEST_ID = "client_request_id"
TRACEPARENT = "traceparent"  # the W3C trace context a 2026-07-28 client sent in the call's `_meta`
CREDENTIAL_ID = "credential_id"  # which credential of the principal: an API key's id, a token's jti
DECISION_INPUT = (
    "decision_input"  # the OPA input of a call's decision but its arguments: what replay decides again
)
AUTOMATION = "automation"  # the job run a call is a step of (job, trigger, delivery or slot, step)
ARGS = "args"  # a tool's target arguments: in clear, or as {"sha256": ...} where the policy says so
INTENT_EVENT = "write_intent"
INTENT_SEQ = "intent_seq"
REPLICA = "replica"  # every entry of a replica's own chain names it (AEGIS_REPLICA_ID); a lone gateway's none
# Fields of one kind of event beyond ENTRY_FIELDS: (required, optional). A tool call's `output`
# summary is optional so that logs written before it existed still verify; `approval` and `write`
# appear on writes only; `client_request_id` on requests that carried a well-formed X-Request-ID of
# their own; `traceparent` on calls whose client sent one; `credential_id` on the calls, approvals and
# rollbacks of a principal whose credential has an id, and `args` on calls whose arguments validated
# (logs written before either existed still verify). An approver's decision and a rollback are
# entries of their own. A write to Gitea is preceded by its `write_intent` entry, which its outcome
# names by `intent_seq`. `audit_gap` records
# a time the log could not be written; `repaired`, a torn last line `aegis audit repair` moved aside;
# `checkpoint`, the signed head of the entry before it (also copied to a sink outside the log);
# `segment_start` opens each segment after the first; `retention`, the removal of old segments;
# `policy_loaded`, a policy revision that began to serve (its YAML and bundle are archived by revision);
# `automation_run`, one run of an automation job with the outcome of each step (each step's call has an
# entry of its own that names the run).
EVENT_FIELDS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "tool_call": (
        (),
        (
            "output",
            "approval",
            "write",
            CLIENT_REQUEST_ID,
            TRACEPARENT,
            INTENT_SEQ,
            CREDENTIAL_ID,
            ARGS,
            DECISION_INPUT,
            AUTOMATION,
        ),
    ),
    **{event: (("client_ip", "repeats_left_out"), (CLIENT_REQUEST_ID,)) for event in SECURITY_EVENTS},
    **{event: (("client_ip", "repeats_left_out", WEBHOOK), (CLIENT_REQUEST_ID,)) for event in WEBHOOK_EVENTS},
    "approval_decided": (("approval",), (CREDENTIAL_ID,)),
    "rollback": (("rollback",), (INTENT_SEQ, CREDENTIAL_ID)),
    INTENT_EVENT: (
        (),
        (
            CLIENT_REQUEST_ID,
            TRACEPARENT,
            "approval",
            "rollback",
            CREDENTIAL_ID,
            ARGS,
            DECISION_INPUT,
            AUTOMATION,
        ),
    ),
    "audit_gap": (("gap",), ()),
    "repaired": (("repair",), ()),
    "checkpoint": (("checkpoint",), ()),
    "segment_start": (("segment",), ()),
    "retention": (("retention",), ()),
    "policy_loaded": (("policy",), ()),
    "automation_run": ((AUTOMATION,), ()),
}


HASH_FIELD = "entry_hash"


def canonical_json(value: Any) -> bytes:
    """Keys sorted, no whitespace, UTF-8: the bytes every hash in the chain is taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(entry: Mapping[str, Any]) -> str:
    """SHA-256 hex of the entry's canonical JSON without its own `entry_hash` field."""
    body = {key: value for key, value in entry.items() if key != HASH_FIELD}
    return hashlib.sha256(canonical_json(body)).hexdigest()


def hashed_line(entry: Mapping[str, Any]) -> tuple[str, bytes]:
    """The hash of an entry (without `entry_hash`) and its line with the hash in its place, from one
    encoding: the members that sort before `entry_hash` and those after are encoded apart, the hash
    taken over both joined, and the line is the two with the hash's member between them. Equal to
    `canonical_json({**entry, "entry_hash": entry_hash(entry)})`, at half the cost."""
    before = canonical_json({key: value for key, value in entry.items() if key < HASH_FIELD})[1:-1]
    after = canonical_json({key: value for key, value in entry.items() if key > HASH_FIELD})[1:-1]
    digest = hashlib.sha256(b"{" + b",".join(part for part in (before, after) if part) + b"}").hexdigest()
    member = b'"entry_hash":"' + digest.encode("ascii") + b'"'
    return digest, b"{" + b",".join(part for part in (before, member, after) if part) + b"}"


def timestamp() -> str:
    """Now, UTC, to the millisecond: the `ts` of an entry."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1000):03d}Z"


def field_problem(entry: Mapping[str, Any]) -> str | None:
    """What is wrong with the fields of a whole entry for its kind of event, or None. The writer checks
    every entry with it before writing, and `verify` every line, so that an entry the verifier would
    refuse is never written."""
    event = entry.get("event")
    required, optional = EVENT_FIELDS.get(event, ((), ())) if isinstance(event, str) else ((), ())
    missing = [name for name in (*ENTRY_FIELDS, *required) if name not in entry]
    if not missing and event not in EVENT_FIELDS:
        return f"unknown event {str(event)[:40]!r}"
    if missing:
        return f"missing fields: {', '.join(missing)}"
    unknown = sorted(set(entry) - {*ENTRY_FIELDS, *required, *optional, REPLICA})
    if unknown:
        return f"unknown fields: {', '.join(unknown)}"
    return None
