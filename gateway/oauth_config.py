"""OAuth 2.1 resource-server settings, read from the environment: off unless AEGIS_OAUTH_ISSUER is set.

Nothing here is secret (URLs, claim names, public-key algorithms), so no setting has a `_FILE` form.

Example:
    oauth = OAuthSettings.from_env(os.environ)  # None when OAuth is not configured
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
from collections.abc import Mapping
from urllib.parse import urlsplit

from gateway.errors import ConfigError
from gateway.vocabulary import KNOWN_SCOPES

# Public-key algorithms only: an HMAC algorithm would make the issuer's published key a shared secret,
# and `none` is no signature at all.
ASYMMETRIC_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
DEFAULT_ALGORITHMS = ("RS256", "PS256", "ES256", "EdDSA")
DEFAULT_LEEWAY_S = 30.0
MAX_LEEWAY_S = 300.0
DEFAULT_JWKS_TIMEOUT_S = 5.0
DEFAULT_JWKS_MAX_AGE_S = 300.0
DEFAULT_JWKS_MIN_REFRESH_S = 30.0
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]{1,128}")  # RFC 6749 section 3.3
DEFAULT_SCOPE_MAP = tuple((scope, scope) for scope in sorted(KNOWN_SCOPES))


@dataclasses.dataclass(frozen=True, kw_only=True)
class OAuthSettings:
    """Which issuer's JWT access tokens the gateway accepts, for which resource, and what they grant.

    `resource` is this gateway's canonical URL (RFC 8707), which every token's `aud` must contain;
    `scope_map` pairs an OAuth scope with the gateway scope it grants (several OAuth scopes may grant one)."""

    issuer: str
    resource: str
    jwks_uri: str
    authorization_servers: tuple[str, ...]
    algorithms: tuple[str, ...] = DEFAULT_ALGORITHMS
    leeway_s: float = DEFAULT_LEEWAY_S
    principal_claim: str = "sub"
    roles_claim: str | None = None
    scope_claim: str = "scope"
    scope_map: tuple[tuple[str, str], ...] = DEFAULT_SCOPE_MAP
    jwks_timeout_s: float = DEFAULT_JWKS_TIMEOUT_S
    jwks_max_age_s: float = DEFAULT_JWKS_MAX_AGE_S
    jwks_min_refresh_s: float = DEFAULT_JWKS_MIN_REFRESH_S

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> OAuthSettings | None:
        issuer = env.get("AEGIS_OAUTH_ISSUER") or None
        if issuer is None:
            stray = sorted(name for name, value in env.items() if name.startswith("AEGIS_OAUTH_") and value)
            if stray:
                raise ConfigError(f"{', '.join(stray)} set without AEGIS_OAUTH_ISSUER, which turns OAuth on")
            return None
        resource = _required(env, "AEGIS_OAUTH_RESOURCE")
        _check_url("AEGIS_OAUTH_ISSUER", issuer)
        _check_url("AEGIS_OAUTH_RESOURCE", resource)
        if resource.endswith("/") and urlsplit(resource).path == "/":
            raise ConfigError(
                f"AEGIS_OAUTH_RESOURCE: write {resource.rstrip('/')!r} without the trailing slash"
            )
        jwks_uri = _required(env, "AEGIS_OAUTH_JWKS_URI")
        _check_url("AEGIS_OAUTH_JWKS_URI", jwks_uri, fetched=True)
        servers = _list(env.get("AEGIS_OAUTH_AUTHORIZATION_SERVERS", "")) or (issuer,)
        for server in servers:
            _check_url("AEGIS_OAUTH_AUTHORIZATION_SERVERS", server)
        return cls(
            issuer=issuer,
            resource=resource,
            jwks_uri=jwks_uri,
            authorization_servers=servers,
            algorithms=_algorithms(env.get("AEGIS_OAUTH_ALGORITHMS", "")),
            leeway_s=_seconds(env, "AEGIS_OAUTH_LEEWAY", DEFAULT_LEEWAY_S, zero_ok=True, most=MAX_LEEWAY_S),
            principal_claim=env.get("AEGIS_OAUTH_PRINCIPAL_CLAIM") or "sub",
            roles_claim=env.get("AEGIS_OAUTH_ROLES_CLAIM") or None,
            scope_claim=env.get("AEGIS_OAUTH_SCOPE_CLAIM") or "scope",
            scope_map=_scope_map(env.get("AEGIS_OAUTH_SCOPES", "")),
            jwks_timeout_s=_seconds(env, "AEGIS_OAUTH_JWKS_TIMEOUT", DEFAULT_JWKS_TIMEOUT_S, most=60.0),
            jwks_max_age_s=_seconds(env, "AEGIS_OAUTH_JWKS_MAX_AGE", DEFAULT_JWKS_MAX_AGE_S),
            jwks_min_refresh_s=_seconds(
                env, "AEGIS_OAUTH_JWKS_MIN_REFRESH", DEFAULT_JWKS_MIN_REFRESH_S, zero_ok=True
            ),
        )


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name)
    if not value:
        raise ConfigError(f"{name} is required when AEGIS_OAUTH_ISSUER is set")
    return value


def _check_url(name: str, url: str, *, fetched: bool = False) -> None:
    """An absolute http(s) URL without a fragment; one the gateway fetches must be https unless it is
    on loopback (a test's authorization server), so that no one on the path can swap the keys."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        raise ConfigError(f"{name} must be an absolute http(s) URL without a fragment, got {url!r}")
    if fetched and parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError(f"{name} must be an https URL (http only on loopback), got {url!r}")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _algorithms(value: str) -> tuple[str, ...]:
    algorithms = _list(value) or DEFAULT_ALGORITHMS
    refused = sorted(set(algorithms) - ASYMMETRIC_ALGORITHMS)
    if refused:
        raise ConfigError(
            f"AEGIS_OAUTH_ALGORITHMS: {', '.join(refused)} not allowed"
            f" (public-key algorithms only: {', '.join(sorted(ASYMMETRIC_ALGORITHMS))})"
        )
    return algorithms


def _scope_map(value: str) -> tuple[tuple[str, str], ...]:
    """`oauth_scope=gateway_scope` pairs, comma-separated (`mcp:read=tools:read, mcp:admin=admin`);
    unset, each gateway scope is granted by the OAuth scope of the same name."""
    pairs = []
    for item in _list(value):
        oauth_scope, sep, gateway_scope = (part.strip() for part in item.partition("="))
        if not sep or not SCOPE_TOKEN.fullmatch(oauth_scope):
            raise ConfigError(f"AEGIS_OAUTH_SCOPES: {item!r} is not oauth_scope=gateway_scope")
        if gateway_scope not in KNOWN_SCOPES:
            raise ConfigError(
                f"AEGIS_OAUTH_SCOPES: {gateway_scope!r} is not a gateway scope"
                f" (known: {', '.join(sorted(KNOWN_SCOPES))})"
            )
        pairs.append((oauth_scope, gateway_scope))
    return tuple(pairs) or DEFAULT_SCOPE_MAP


def _seconds(
    env: Mapping[str, str], name: str, default: float, *, zero_ok: bool = False, most: float | None = None
) -> float:
    value = env.get(name)
    if not value:
        return default
    try:
        seconds = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number of seconds, got {value!r}") from None
    if not (seconds >= 0 if zero_ok else seconds > 0) or (most is not None and seconds > most):
        bound = f" and at most {most:g}" if most is not None else ""
        raise ConfigError(f"{name} must be {'>= 0' if zero_ok else '> 0'}{bound} seconds, got {value!r}")
    return seconds


def _list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())
