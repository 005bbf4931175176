"""The `requestState` of a call held for approval: what a 2026-07-28 client echoes when it retries.

The client holds it, so it is attacker-controlled input: it is sealed with HMAC-SHA256 under the
gateway's key and binds the approval it names to the principal, the tool, the digest of the normalized
arguments and the bundle revision, with a short expiry. Nothing of a state is parsed before its seal
verifies. The server side keeps it single-use: the approval it names lets the call run once. Replicas
must share the key (AEGIS_REQUEST_STATE_KEY), so a state sealed by one opens on another; a state sealed
under another key says so (its key id travels beside the body, under the seal).
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
NOT_ISSUED = "Invalid requestState: not one this gateway issued"


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
        payload = {"exp": int(self._clock() + self._ttl_s), **dataclasses.asdict(held)}
        body = _b64(json.dumps(payload, sort_keys=True, separators=(",", ":")).encode("utf-8"))
        return f"{self._key_id}.{body}.{_b64(self._mac(self._key_id, body))}"

    def open(self, token: Any) -> HeldCall:
        """The held call `token` names, once its seal verifies and it has not expired."""
        if not isinstance(token, str) or len(token) > MAX_STATE_CHARS or not token.isascii():
            raise InvalidRequestState(NOT_ISSUED)
        parts = token.split(".")
        if len(parts) != 3:
            raise InvalidRequestState(NOT_ISSUED)
        key_id, body, mac = parts
        try:
            sealed = hmac.compare_digest(_unb64(mac), self._mac(key_id, body))
        except (ValueError, binascii.Error):
            sealed = False
        if not sealed:
            if key_id != self._key_id:
                raise InvalidRequestState(
                    "Invalid requestState: sealed under another key (replicas must share the gateway's"
                    " request-state key); call again without it"
                )
            raise InvalidRequestState("Invalid requestState: its seal does not verify")
        payload = json.loads(_unb64(body))  # sealed by this gateway: its own JSON
        if payload["exp"] <= self._clock():
            raise InvalidRequestState("Invalid requestState: expired; call again without it")
        return HeldCall(**{field.name: payload[field.name] for field in dataclasses.fields(HeldCall)})

    def _mac(self, key_id: str, body: str) -> bytes:
        message = f"{_FORMAT}.{key_id}.{body}".encode("ascii")
        return hmac.new(self._key, message, hashlib.sha256).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
