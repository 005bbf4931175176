"""A validated token's claims as the gateway's Principal: who (a configured claim, `sub` by default),
which roles (a configured claim, perhaps nested: `realm_access.roles`), and which gateway scopes its
OAuth scopes grant (through the configured map; an OAuth scope the map does not name grants nothing).

The principal's id is `oauth:<claim value>`: API key names cannot hold a colon, so a token can never
speak as a key, and audit entries and policies tell the two kinds apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.errors import TokenRefused
from gateway.vocabulary import Principal

PRINCIPAL_PREFIX = "oauth:"
PRINCIPAL_KIND = "oauth"
MAX_CLAIM_CHARS = 256
MAX_LIST_ITEMS = 100


class ClaimMapping:
    """Example:
    mapping = ClaimMapping(
        principal_claim="sub",
        roles_claim="realm_access.roles",
        scope_claim="scope",
        scope_map=(("mcp:read", "tools:read"),),
    )
    mapping.principal({"sub": "alice", "scope": "mcp:read openid"})
    # Principal(id="oauth:alice", kind="oauth", scopes=("tools:read",), roles=(), credential_id=None)
    """

    def __init__(
        self,
        *,
        principal_claim: str,
        roles_claim: str | None,
        scope_claim: str,
        scope_map: tuple[tuple[str, str], ...],
    ) -> None:
        self._principal_claim = principal_claim
        self._roles_claim = roles_claim
        self._scope_claim = scope_claim
        self._grants: dict[str, tuple[str, ...]] = {}
        for oauth_scope, gateway_scope in scope_map:
            self._grants[oauth_scope] = (*self._grants.get(oauth_scope, ()), gateway_scope)
        self._asked_for = {gateway: oauth for oauth, gateway in reversed(scope_map)}

    @property
    def oauth_scopes(self) -> tuple[str, ...]:
        """The OAuth scopes that grant anything here: the metadata's `scopes_supported`."""
        return tuple(self._grants)

    def oauth_scope_for(self, gateway_scope: str) -> str | None:
        """The OAuth scope a client asks for to be granted `gateway_scope` (the first one configured)."""
        return self._asked_for.get(gateway_scope)

    def principal(self, claims: Mapping[str, Any]) -> Principal:
        """Raises TokenRefused("claims") when the principal claim is missing or not a short string."""
        subject = _claim(claims, self._principal_claim)
        if (
            not isinstance(subject, str)
            or not 0 < len(subject) <= MAX_CLAIM_CHARS
            or not subject.isprintable()
        ):
            raise TokenRefused("claims")
        granted = {
            gateway
            for oauth in _strings(_claim(claims, self._scope_claim))
            for gateway in self._grants.get(oauth, ())
        }
        roles = _strings(_claim(claims, self._roles_claim)) if self._roles_claim else ()
        return Principal(
            id=PRINCIPAL_PREFIX + subject,
            kind=PRINCIPAL_KIND,
            scopes=tuple(sorted(granted)),
            roles=tuple(dict.fromkeys(roles)),
            credential_id=_token_id(claims),
        )


def _token_id(claims: Mapping[str, Any]) -> str | None:
    """The token's `jti`, which the audit log records to tell one token from another of the same
    subject; None when it has none, or one that is not a short printable string."""
    jti = claims.get("jti")
    if isinstance(jti, str) and 0 < len(jti) <= MAX_CLAIM_CHARS and jti.isprintable():
        return jti
    return None


def _claim(claims: Mapping[str, Any], path: str | None) -> Any:
    """The claim `path` names; a dotted path walks into objects. None when any step is missing."""
    value: Any = claims
    for step in (path or "").split("."):
        if not isinstance(value, Mapping) or step not in value:
            return None
        value = value[step]
    return value


def _strings(value: Any) -> tuple[str, ...]:
    """A space-separated string (OAuth's `scope`) or a list of strings (`scp`, roles); anything else,
    and any item that is not a short string, grants nothing."""
    items = value.split() if isinstance(value, str) else value if isinstance(value, list) else []
    return tuple(
        item for item in items[:MAX_LIST_ITEMS] if isinstance(item, str) and 0 < len(item) <= MAX_CLAIM_CHARS
    )
