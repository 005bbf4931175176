"""Explorer sessions: a short-lived token signed with a key of this process, minted once a reviewer has
presented an admin API key on the login form, and carried by an HttpOnly, SameSite=Strict cookie.

The token names the key's id and an expiry, never the key: a copied cookie is worth one session, not
the key. Every request checks the signature, the expiry, and that the key is still live with the
`admin` scope, so revoking the key ends its sessions. The signing key lives in memory only: a restart
ends every session.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable

from gateway.edge.keys import KeyMatch, KeyStore

SESSION_COOKIE = "aegis_explorer"
SESSION_TTL_S = 3600
COOKIE_PATH = "/admin/explorer"


class Sessions:
    """Example:
    sessions = Sessions(keys)
    cookie = sessions.mint(match)          # after the login form's key authenticated
    match = sessions.verify(cookie)        # the live key behind it, or None
    """

    def __init__(
        self, keys: KeyStore, *, ttl_s: int = SESSION_TTL_S, clock: Callable[[], float] = time.time
    ) -> None:
        self._keys = keys
        self._ttl_s = ttl_s
        self._clock = clock
        self._secret = secrets.token_bytes(32)

    def __repr__(self) -> str:
        return f"Sessions(ttl_s={self._ttl_s}, secret=***)"

    def mint(self, match: KeyMatch) -> str:
        payload = f"{match.key_id}.{int(self._clock()) + self._ttl_s}"
        return f"{payload}.{self._sign(payload)}"

    def verify(self, token: str | None) -> KeyMatch | None:
        """The live key a token was minted for, while the token holds and has not expired."""
        if not token or token.count(".") != 2:
            return None
        payload, signature = token.rsplit(".", 1)
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        key_id, expires = payload.split(".")
        if not expires.isdigit() or int(expires) <= self._clock():
            return None
        return self._keys.live(key_id)

    def cookie(self, token: str, *, secure: bool) -> str:
        """The Set-Cookie value: HttpOnly, SameSite=Strict, only for the explorer's paths, Secure over TLS."""
        flags = f"Path={COOKIE_PATH}; Max-Age={self._ttl_s}; HttpOnly; SameSite=Strict"
        return f"{SESSION_COOKIE}={token}; {flags}" + ("; Secure" if secure else "")

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._secret, payload.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def cleared_cookie(*, secure: bool) -> str:
    return f"{SESSION_COOKIE}=; Path={COOKIE_PATH}; Max-Age=0; HttpOnly; SameSite=Strict" + (
        "; Secure" if secure else ""
    )
