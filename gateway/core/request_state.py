"""The `requestState` of a call held for approval: what a 2026-07-28 client echoes when it retries.

The client holds it, so it is attacker-controlled input: it is sealed with HMAC-SHA256 under the
gateway's key and binds the approval it names to the principal, the tool, the digest of the normalized
arguments and the bundle revision, with a short expiry. The server side keeps it single-use: the
approval it names lets the call run once. Replicas must share the key (AEGIS_REQUEST_STATE_KEY), so a
state sealed by one opens on another; a state sealed under another key says so.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

from gateway.errors import InvalidRequestState

_FORMAT = "aegis-rs1"
MAX_STATE_CHARS = 2048


@dataclasses.dataclass(frozen=True)
class HeldCall:
    """What a sealed state binds: the approval and the exact call it was asked for."""

    approval_id: str
    principal: str
    tool: str
    args_sha256: str
    revision: str


class RequestStates:
    """Example:
    states = RequestStates(key=b"...32 bytes or more...", ttl_s=600)
    token = states.seal(held)
    held = states.open(token)  # raises InvalidRequestState
    """

    def __init__(self, *, key: bytes, ttl_s: float, clock: Callable[[], float] = time.time) -> None:
        if len(key) < 32:
            raise ValueError("a request-state key needs at least 32 bytes")
        self._key = key
        self._key_id = hashlib.sha256(b"aegis request-state key id\0" + key).hexdigest()[:12]
        self._ttl_s = ttl_s
        self._clock = clock

    def seal(self, held: HeldCall) -> str:
        payload = {
            "v": _FORMAT,
            "kid": self._key_id,
            "exp": int(self._clock() + self._ttl_s),
            **dataclasses.asdict(held),
        }
        body = _b64(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8"))
        return f"{body}.{_b64(self._mac(body))}"

    def open(self, token: Any) -> HeldCall:
        """The held call `token` names, once its seal, format and expiry check out."""
        if not isinstance(token, str) or len(token) > MAX_STATE_CHARS or token.count(".") != 1:
            raise InvalidRequestState("Invalid requestState: not one this gateway issued")
        body, mac = token.split(".")
        try:
            payload = json.loads(_unb64(body))
            given = _unb64(mac)
        except (ValueError, binascii.Error):
            raise InvalidRequestState("Invalid requestState: not one this gateway issued") from None
        if not hmac.compare_digest(given, self._mac(body)):
            if isinstance(payload, dict) and payload.get("kid") not in (None, self._key_id):
                raise InvalidRequestState(
                    "Invalid requestState: sealed under another key (replicas must share"
                    " AEGIS_REQUEST_STATE_KEY); call again without it"
                )
            raise InvalidRequestState("Invalid requestState: its seal does not verify")
        if payload.get("exp", 0) <= self._clock():
            raise InvalidRequestState("Invalid requestState: expired; call again without it")
        fields = {field.name for field in dataclasses.fields(HeldCall)}
        return HeldCall(**{name: str(payload[name]) for name in fields})

    def _mac(self, body: str) -> bytes:
        return hmac.new(self._key, f"{_FORMAT}.{body}".encode("ascii"), hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    if not text.isascii():
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
