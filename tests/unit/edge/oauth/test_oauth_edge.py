"""OAuth access tokens at the edge, in process: the real app and middlewares, a pretend issuer's JWKS.
A token the issuer signed for this resource is a principal of kind `oauth`; every other token is 401
with a challenge that names the resource metadata, counted and audited; too little scope is 403."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.forged_tokens import unsigned
from tests.unit.edge.in_process import LIST_TOOLS, PING, InProcessGateway, running_app
from tests.unit.edge.oauth.issuer import OAUTH_ENV, RESOURCE, Issuer

METADATA_URL = "http://127.0.0.1:8080/.well-known/oauth-protected-resource/mcp"
CALL = {
    "jsonrpc": "2.0",
    "id": 3,
    "method": "tools/call",
    "params": {
        "name": "get_file_contents",
        "arguments": {"owner": "acme", "repo": "app", "filepath": "README.md"},
    },
}


@pytest.fixture
def issuer() -> Issuer:
    return Issuer()


@pytest.fixture
async def gateway(tmp_path: Path, issuer: Issuer) -> AsyncIterator[InProcessGateway]:
    async with running_app(tmp_path, OAUTH_ENV, oauth=issuer.resource_server()) as gateway:
        yield gateway


async def test_a_good_token_authenticates_as_an_oauth_principal(
    gateway: InProcessGateway, issuer: Issuer
) -> None:
    assert (await gateway.post(PING, key=issuer.token())).status_code == 200
    listed = await gateway.post(LIST_TOOLS, key=issuer.token())
    assert listed.status_code == 200 and listed.json()["result"]["tools"]
    await gateway.post(CALL, key=issuer.token())
    call = gateway.audit_events("tool_call")[-1]
    assert (call["principal"], call["tool"]) == ("oauth:alice", "get_file_contents")


async def test_api_keys_keep_working_beside_tokens(gateway: InProcessGateway) -> None:
    assert (await gateway.post(PING, key=gateway.key)).status_code == 200
    await gateway.post(CALL, key=gateway.key)
    assert gateway.audit_events("tool_call")[-1]["principal"] == "agent"


async def test_no_token_is_challenged_with_the_metadata_and_the_scope(gateway: InProcessGateway) -> None:
    response = await gateway.post(PING)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="aegis", resource_metadata="{METADATA_URL}", scope="tools:read"'
    )


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(Issuer.forged, "token_signature", id="forged-signature"),
        pytest.param(lambda i: i.token(exp_in=-3600), "token_expired", id="expired"),
        pytest.param(
            lambda i: i.token(aud=["https://other.example.test/mcp"]), "token_audience", id="wrong-audience"
        ),
        pytest.param(lambda i: i.token(iss="https://evil.example.test/"), "token_issuer", id="wrong-issuer"),
        pytest.param(lambda i: unsigned(i.claims()), "token_algorithm", id="alg-none"),
        pytest.param(lambda i: i.token(sub=None), "token_claims", id="no-subject"),
        pytest.param(lambda i: "aegis_not-a-key", "invalid", id="unknown-api-key"),
    ],
)
async def test_a_bad_token_is_refused_counted_and_audited(
    gateway: InProcessGateway, issuer: Issuer, make: Any, reason: str
) -> None:
    response = await gateway.post(PING, key=make(issuer))
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="aegis", resource_metadata="{METADATA_URL}", error="invalid_token", scope="tools:read"'
    )
    assert gateway.metric(f'aegis_auth_failures_total{{reason="{reason}"}}') == 1
    [event] = gateway.audit_events("auth_failure")
    assert (event["principal"], event["reasons"][0]["rule"]) == (None, f"edge.auth.{reason}")


async def test_a_token_signed_by_a_rotated_key_is_accepted(gateway: InProcessGateway, issuer: Issuer) -> None:
    assert (await gateway.post(PING, key=issuer.token())).status_code == 200
    issuer.rotate(retire=True)
    assert (await gateway.post(PING, key=issuer.token())).status_code == 200
    assert issuer.fetches == 2


async def test_too_little_scope_is_403_naming_the_scope(gateway: InProcessGateway, issuer: Issuer) -> None:
    response = await gateway.post(PING, key=issuer.token(scope="openid profile"))
    assert response.status_code == 403
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="aegis", resource_metadata="{METADATA_URL}", '
        'error="insufficient_scope", scope="tools:read"'
    )
    [event] = gateway.audit_events("auth_failure")
    assert (event["principal"], event["reasons"][0]["rule"]) == (
        "oauth:alice",
        "edge.auth.insufficient_scope",
    )
    admin = await gateway.get("/admin/approvals", key=issuer.token())
    assert admin.status_code == 403 and 'scope="admin"' in admin.headers["www-authenticate"]


async def test_bad_tokens_are_throttled_like_bad_keys(tmp_path: Path, issuer: Issuer) -> None:
    env = {**OAUTH_ENV, "AEGIS_AUTH_FAILURE_LIMIT": "3"}
    async with running_app(tmp_path, env, oauth=issuer.resource_server()) as gateway:
        statuses = [(await gateway.post(PING, key=issuer.token(exp_in=-3600))).status_code for _ in range(4)]
        assert statuses == [401, 401, 401, 429]
        assert (await gateway.post(PING, key=issuer.token())).status_code == 429  # whatever it presents


async def test_an_unreachable_issuer_refuses_every_token(gateway: InProcessGateway, issuer: Issuer) -> None:
    issuer.down = True
    response = await gateway.post(PING, key=issuer.token())
    assert response.status_code == 503
    assert gateway.metric('aegis_auth_failures_total{reason="jwks_unavailable"}') == 1
    assert gateway.audit_events("auth_failure") == []  # not the client's failure: not counted against it
    assert (await gateway.post(PING, key=gateway.key)).status_code == 200  # API keys need no issuer


async def test_the_metadata_document_is_public(gateway: InProcessGateway) -> None:
    for path in ("/.well-known/oauth-protected-resource/mcp", "/.well-known/oauth-protected-resource"):
        response = await gateway.get(path)
        assert response.status_code == 200
        assert response.json() == {
            "resource": RESOURCE,
            "authorization_servers": ["https://id.example.test/"],
            "scopes_supported": ["admin", "tools:automation", "tools:read", "tools:write"],
            "bearer_methods_supported": ["header"],
            "resource_name": "Aegis MCP gateway",
        }


async def test_without_oauth_there_is_no_metadata_and_tokens_are_unknown_keys(
    tmp_path: Path, issuer: Issuer
) -> None:
    async with running_app(tmp_path) as gateway:
        assert (await gateway.get("/.well-known/oauth-protected-resource/mcp")).status_code == 404
        response = await gateway.post(PING, key=issuer.token())
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == 'Bearer realm="aegis", error="invalid_token"'
        assert gateway.metric('aegis_auth_failures_total{reason="malformed"}') == 1  # too long for a key
