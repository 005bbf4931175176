"""Tokens no issuer signed, for the tests that show they are refused: unsigned (`alg: none`), and HS256
keyed with something public (the issuer's public key: the classic algorithm-confusion attack)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import jwt


def unsigned(claims: dict[str, Any]) -> str:
    """An `alg: none` token: header and claims, no signature."""
    return jwt.encode(claims, key="", algorithm="none")


def hmac_signed(claims: dict[str, Any], secret: bytes, kid: str) -> str:
    """An HS256 token keyed with `secret` (the issuer's public key, in the classic confusion attack),
    made by hand: PyJWT itself refuses a public key as an HMAC secret."""
    header = _segment({"alg": "HS256", "typ": "JWT", "kid": kid})
    signing_input = f"{header}.{_segment(claims)}".encode()
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    return f"{signing_input.decode()}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def _segment(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()
