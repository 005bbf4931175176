"""JWT access-token validation: signature by the issuer's published key, with an allowed algorithm, for
this resource, from this issuer, within its lifetime.

Checked, each raising TokenRefused with the reason: the header names an allowed public-key algorithm
(never `none`, never HMAC) and a key id the issuer publishes; the key's own `alg`, when it states one,
is the header's; the signature verifies; `iss` equals the configured issuer exactly; `aud` contains the
gateway's resource URL (RFC 8707); `exp` is present and not past, `nbf` and `iat` not in the future,
each with `leeway_s` of clock skew.
"""

from __future__ import annotations

import binascii
import json
from typing import Any

import jwt

from gateway.edge.oauth._jwks import JwksCache
from gateway.errors import TokenRefused

KEY_TYPE_OF = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}  # by an algorithm's first two letters
# PyJWT's refusals, most specific first, as the reasons the logs and metrics carry.
_REASONS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.ExpiredSignatureError, "expired"),
    (jwt.ImmatureSignatureError, "not_yet_valid"),
    (jwt.InvalidAudienceError, "audience"),
    (jwt.InvalidIssuerError, "issuer"),
    (jwt.MissingRequiredClaimError, "claims"),
    (jwt.InvalidSignatureError, "signature"),
    (jwt.InvalidKeyError, "key"),
    (jwt.InvalidAlgorithmError, "algorithm"),
)


class TokenValidator:
    """Example:
    validator = TokenValidator(
        jwks=jwks,
        issuer="https://id.example.com/",
        resource="https://aegis.example.com/mcp",
        algorithms=("RS256",),
        leeway_s=30,
    )
    claims = await validator.claims(token)  # or TokenRefused(reason)
    """

    def __init__(
        self,
        *,
        jwks: JwksCache,
        issuer: str,
        resource: str,
        algorithms: tuple[str, ...],
        leeway_s: float,
    ) -> None:
        if not algorithms:
            raise ValueError("no algorithm allowed: every token would be refused")
        self._jwks = jwks
        self._issuer = issuer
        self._resource = resource
        self._algorithms = frozenset(algorithms)
        self._leeway_s = leeway_s

    async def claims(self, token: str) -> dict[str, Any]:
        """The token's claims once every check holds. Raises TokenRefused, or JwksUnavailable when the
        issuer's keys cannot be had."""
        header = _header(token)
        algorithm = header.get("alg")
        if not isinstance(algorithm, str) or algorithm not in self._algorithms:
            raise TokenRefused("algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise TokenRefused("unknown_key")
        signing = await self._jwks.key(kid)
        if signing.algorithm not in (None, algorithm):
            raise TokenRefused("algorithm")
        if KEY_TYPE_OF.get(algorithm[:2]) != signing.key_type:
            raise TokenRefused("key")
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=signing.key,
                algorithms=[algorithm],
                audience=self._resource,
                issuer=self._issuer,
                leeway=self._leeway_s,
                options={"require": ["exp", "iss", "aud"], "verify_iat": True, "verify_nbf": True},
            )
        except jwt.InvalidTokenError as exc:
            raise TokenRefused(_reason_of(exc)) from exc
        return claims


def _header(token: str) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except (jwt.DecodeError, binascii.Error, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise TokenRefused("malformed") from exc
    return header


def _reason_of(exc: jwt.InvalidTokenError) -> str:
    for kind, reason in _REASONS:
        if isinstance(exc, kind):
            return reason
    return "malformed"
