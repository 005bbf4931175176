"""The issuer's signing keys (its JWKS), cached, refreshed when old and when a token names a key not seen.

A token signed by a key the cache does not hold triggers one refetch (an issuer that rotated its keys),
at most once per `min_refresh_s`, so that tokens with made-up key ids cannot make the gateway hammer
the issuer. Every failure to fetch or read the set raises JwksUnavailable: no key, no token accepted.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import jwt

from gateway.errors import JwksUnavailable, TokenRefused
from gateway.outbound import BodyTooLarge, HttpSession, RequestFailed

MAX_JWKS_BYTES = 64 << 10
PUBLIC_KEY_TYPES = frozenset({"RSA", "EC", "OKP"})  # never "oct": a symmetric key is no public key
Fetch = Callable[[], Awaitable[bytes]]
log = logging.getLogger("gateway.edge.oauth")


@dataclasses.dataclass(frozen=True)
class SigningKey:
    """One published key: the public key, its type (`kty`), and the algorithm its JWK restricts it
    to, if it names one."""

    key: Any
    key_type: str
    algorithm: str | None


class JwksCache:
    """Example:
    jwks = JwksCache(fetch=http_fetch(session), max_age_s=300, min_refresh_s=30)
    signing = await jwks.key("2024-rotation")  # SigningKey, or TokenRefused("unknown_key")
    """

    def __init__(
        self,
        *,
        fetch: Fetch,
        max_age_s: float,
        min_refresh_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._fetch = fetch
        self._max_age_s = max_age_s
        self._min_refresh_s = min_refresh_s
        self._clock = clock
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()

    async def key(self, kid: str) -> SigningKey:
        """The signing key `kid` names. Raises TokenRefused("unknown_key") when the issuer does not
        publish it, JwksUnavailable when the set cannot be had."""
        async with self._lock:
            if self._fetched_at is None or self._age() >= self._max_age_s:
                await self._refresh()
            elif kid not in self._keys and self._age() >= self._min_refresh_s:
                await self._refresh()  # perhaps rotated since
            found = self._keys.get(kid)
        if found is None:
            raise TokenRefused("unknown_key")
        return found

    def _age(self) -> float:
        return self._clock() - (self._fetched_at or 0.0)

    async def _refresh(self) -> None:
        try:
            keys = _signing_keys(await self._fetch())
        except JwksUnavailable:
            # Forget the old set: past its age, or asked for a key it lacks, it is not to be trusted.
            self._keys, self._fetched_at = {}, None
            raise
        self._keys, self._fetched_at = keys, self._clock()
        log.info("issuer signing keys fetched", extra={"keys": sorted(keys)})


def http_fetch(session: HttpSession) -> Fetch:
    """Fetch the JWKS with `session` (whose base URL is the JWKS URI): 200 and a bounded body, or
    JwksUnavailable."""

    async def fetch() -> bytes:
        try:
            response = await session.request("GET", "")
        except (RequestFailed, TimeoutError, BodyTooLarge) as exc:
            raise JwksUnavailable(f"JWKS fetch failed: {type(exc).__name__}: {exc}") from exc
        if response.status != 200:
            raise JwksUnavailable(f"JWKS fetch answered HTTP {response.status}")
        return response.body

    return fetch


def _signing_keys(body: bytes) -> dict[str, SigningKey]:
    """The set's public signature keys by key id; symmetric keys, keys for encryption, keys without
    an id and keys PyJWT cannot use are left out. A set with none left is unusable."""
    try:
        document = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise JwksUnavailable("JWKS is not JSON") from exc
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise JwksUnavailable("JWKS has no keys array")
    keys: dict[str, SigningKey] = {}
    for entry in entries:
        if (
            not isinstance(entry, dict)
            or entry.get("use", "sig") != "sig"
            or entry.get("kty") not in PUBLIC_KEY_TYPES
        ):
            continue
        kid = entry.get("kid")
        if not isinstance(kid, str) or not kid:
            continue
        try:
            public = jwt.PyJWK(entry).key
        except (jwt.PyJWKError, jwt.InvalidKeyError):
            log.warning("JWKS entry skipped: unusable key", extra={"kid": kid})
            continue
        algorithm = entry.get("alg")
        keys[kid] = SigningKey(
            key=public, key_type=entry["kty"], algorithm=algorithm if isinstance(algorithm, str) else None
        )
    if not keys:
        raise JwksUnavailable("JWKS holds no usable signing key")
    return keys
