"""OAuth settings from the environment: off unless configured, and every unsafe or unclear value refused
with a message that names the setting."""

from __future__ import annotations

import pytest

from gateway.config import Settings
from gateway.errors import ConfigError
from gateway.oauth_config import DEFAULT_SCOPE_MAP, OAuthSettings

BASE = {
    "AEGIS_OAUTH_ISSUER": "https://id.example.com/realms/aegis",
    "AEGIS_OAUTH_RESOURCE": "https://aegis.example.com/mcp",
    "AEGIS_OAUTH_JWKS_URI": "https://id.example.com/realms/aegis/protocol/openid-connect/certs",
}


def test_off_unless_an_issuer_is_set() -> None:
    assert OAuthSettings.from_env({}) is None
    assert Settings.from_env({}).oauth is None


def test_defaults() -> None:
    oauth = Settings.from_env(BASE).oauth
    assert oauth is not None
    assert oauth.authorization_servers == (BASE["AEGIS_OAUTH_ISSUER"],)
    assert oauth.algorithms == ("RS256", "PS256", "ES256", "EdDSA")
    assert (oauth.principal_claim, oauth.roles_claim, oauth.scope_claim) == ("sub", None, "scope")
    assert oauth.scope_map == DEFAULT_SCOPE_MAP
    assert (oauth.leeway_s, oauth.jwks_timeout_s, oauth.jwks_max_age_s) == (30.0, 5.0, 300.0)


def test_every_setting_is_read() -> None:
    oauth = OAuthSettings.from_env(
        {
            **BASE,
            "AEGIS_OAUTH_AUTHORIZATION_SERVERS": "https://a.example.com, https://b.example.com",
            "AEGIS_OAUTH_ALGORITHMS": "ES256",
            "AEGIS_OAUTH_LEEWAY": "0",
            "AEGIS_OAUTH_PRINCIPAL_CLAIM": "preferred_username",
            "AEGIS_OAUTH_ROLES_CLAIM": "realm_access.roles",
            "AEGIS_OAUTH_SCOPE_CLAIM": "scp",
            "AEGIS_OAUTH_SCOPES": "mcp:read=tools:read, mcp:admin=admin",
            "AEGIS_OAUTH_JWKS_TIMEOUT": "2",
            "AEGIS_OAUTH_JWKS_MAX_AGE": "60",
            "AEGIS_OAUTH_JWKS_MIN_REFRESH": "0",
        }
    )
    assert oauth == OAuthSettings(
        issuer=BASE["AEGIS_OAUTH_ISSUER"],
        resource=BASE["AEGIS_OAUTH_RESOURCE"],
        jwks_uri=BASE["AEGIS_OAUTH_JWKS_URI"],
        authorization_servers=("https://a.example.com", "https://b.example.com"),
        algorithms=("ES256",),
        leeway_s=0.0,
        principal_claim="preferred_username",
        roles_claim="realm_access.roles",
        scope_claim="scp",
        scope_map=(("mcp:read", "tools:read"), ("mcp:admin", "admin")),
        jwks_timeout_s=2.0,
        jwks_max_age_s=60.0,
        jwks_min_refresh_s=0.0,
    )


def test_a_loopback_jwks_may_be_plain_http() -> None:
    oauth = OAuthSettings.from_env(
        {**BASE, "AEGIS_OAUTH_JWKS_URI": "http://127.0.0.1:4444/.well-known/jwks.json"}
    )
    assert oauth is not None and oauth.jwks_uri.startswith("http://127.0.0.1")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        pytest.param(
            {"AEGIS_OAUTH_ISSUER": ""},
            "AEGIS_OAUTH_JWKS_URI, AEGIS_OAUTH_RESOURCE set without",
            id="no-issuer",
        ),
        pytest.param({"AEGIS_OAUTH_RESOURCE": ""}, "AEGIS_OAUTH_RESOURCE is required", id="no-resource"),
        pytest.param({"AEGIS_OAUTH_JWKS_URI": ""}, "AEGIS_OAUTH_JWKS_URI is required", id="no-jwks"),
        pytest.param(
            {"AEGIS_OAUTH_RESOURCE": "aegis.example.com"},
            "AEGIS_OAUTH_RESOURCE must be an absolute",
            id="no-scheme",
        ),
        pytest.param(
            {"AEGIS_OAUTH_RESOURCE": "https://aegis.example.com/mcp#x"}, "without a fragment", id="fragment"
        ),
        pytest.param(
            {"AEGIS_OAUTH_RESOURCE": "https://aegis.example.com/"}, "without the trailing slash", id="slash"
        ),
        pytest.param(
            {"AEGIS_OAUTH_JWKS_URI": "http://id.example.com/certs"},
            "must be an https URL",
            id="plain-http-jwks",
        ),
        pytest.param({"AEGIS_OAUTH_ALGORITHMS": "RS256,none"}, "none not allowed", id="alg-none"),
        pytest.param({"AEGIS_OAUTH_ALGORITHMS": "HS256"}, "HS256 not allowed", id="hmac"),
        pytest.param(
            {"AEGIS_OAUTH_LEEWAY": "600"}, "AEGIS_OAUTH_LEEWAY must be >= 0 and at most 300", id="leeway"
        ),
        pytest.param({"AEGIS_OAUTH_JWKS_TIMEOUT": "0"}, "AEGIS_OAUTH_JWKS_TIMEOUT must be > 0", id="timeout"),
        pytest.param({"AEGIS_OAUTH_SCOPES": "mcp:read"}, "is not oauth_scope=gateway_scope", id="scope-pair"),
        pytest.param(
            {"AEGIS_OAUTH_SCOPES": 'a"b=admin'}, "is not oauth_scope=gateway_scope", id="scope-quote"
        ),
        pytest.param(
            {"AEGIS_OAUTH_SCOPES": "mcp:all=root"}, "'root' is not a gateway scope", id="unknown-scope"
        ),
    ],
)
def test_refused(change: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        OAuthSettings.from_env({**BASE, **change})
