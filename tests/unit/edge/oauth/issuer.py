"""A pretend authorization server for tests in process: its own RSA keys (made with `cryptography`),
tokens it signs with PyJWT, and the JWKS it publishes, fetched the way the gateway fetches it.

Example:
    issuer = Issuer()
    token = issuer.token(exp_in=-60)  # expired
    oauth = issuer.resource_server()
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from gateway.edge.oauth import JwksCache, OAuthResourceServer
from gateway.errors import JwksUnavailable
from gateway.oauth_config import OAuthSettings

ISSUER = "https://id.example.test/"
RESOURCE = "http://127.0.0.1:8080/mcp"
JWKS_URI = "https://id.example.test/jwks"
SETTINGS = OAuthSettings(
    issuer=ISSUER,
    resource=RESOURCE,
    jwks_uri=JWKS_URI,
    authorization_servers=(ISSUER,),
    algorithms=("RS256",),
    roles_claim="roles",
)
OAUTH_ENV = {
    "AEGIS_OAUTH_ISSUER": ISSUER,
    "AEGIS_OAUTH_RESOURCE": RESOURCE,
    "AEGIS_OAUTH_JWKS_URI": JWKS_URI,
    "AEGIS_OAUTH_ALGORITHMS": "RS256",
    "AEGIS_OAUTH_ROLES_CLAIM": "roles",
}


def new_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Issuer:
    """Publishes the public halves of `keys`; `current` signs. `down` makes every fetch fail."""

    def __init__(self) -> None:
        self.keys: dict[str, rsa.RSAPrivateKey] = {}
        self.current = self.rotate()
        self.fetches = 0
        self.down = False

    def rotate(self, *, retire: bool = False) -> str:
        """A new signing key, published from now on; `retire` stops publishing the others."""
        kid = f"key-{secrets.token_hex(4)}"
        if retire:
            self.keys.clear()
        self.keys[kid] = new_rsa_key()
        self.current = kid
        return kid

    def jwks(self) -> dict[str, Any]:
        return {
            "keys": [
                {**json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())), "kid": kid, "use": "sig"}
                for kid, key in self.keys.items()
            ]
        }

    async def fetch(self) -> bytes:
        self.fetches += 1
        if self.down:
            raise JwksUnavailable("issuer down")
        return json.dumps(self.jwks()).encode()

    def claims(self, *, exp_in: float = 300, **overrides: Any) -> dict[str, Any]:
        """Good claims for RESOURCE, changed by `overrides`; an override of None leaves the claim out."""
        now = int(time.time())
        claims = {
            "iss": ISSUER,
            "aud": [RESOURCE],
            "sub": "alice",
            "iat": now,
            "exp": now + int(exp_in),
            "scope": "tools:read openid",
            "roles": ["maintainer"],
        }
        claims.update(overrides)
        return {name: value for name, value in claims.items() if value is not None}

    def token(self, *, kid: str | None = None, exp_in: float = 300, **overrides: Any) -> str:
        """A token signed with the current key (or `kid`'s), of `claims(exp_in, **overrides)`."""
        kid = kid or self.current
        return jwt.encode(
            self.claims(exp_in=exp_in, **overrides), self.keys[kid], algorithm="RS256", headers={"kid": kid}
        )

    def cache(self, *, max_age_s: float = 300, min_refresh_s: float = 0) -> JwksCache:
        return JwksCache(fetch=self.fetch, max_age_s=max_age_s, min_refresh_s=min_refresh_s)

    def forged(self) -> str:
        """Good claims under the current key id, signed by another key."""
        return jwt.encode(self.claims(), new_rsa_key(), algorithm="RS256", headers={"kid": self.current})

    def resource_server(self, *, settings: OAuthSettings = SETTINGS) -> OAuthResourceServer:
        return OAuthResourceServer(settings=settings, jwks=self.cache())
