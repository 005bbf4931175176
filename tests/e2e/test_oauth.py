"""End to end with a real authorization server: ORY Hydra (tests/hydra_server.py) issues JWT access tokens,
the official MCP SDK's OAuth client finds it through the gateway's 401, registers, authorizes with PKCE
and calls tools through the gateway; tokens that are forged, expired, for another audience or issuer, or
unsigned are refused by the running gateway; the simulator never sees an OAuth token."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from mcp import Client
from mcp.client.auth import OAuthClientProvider
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.auth import (
    AuthorizationCodeResult,
    OAuthClientInformationFull,
    OAuthClientMetadata,
    OAuthToken,
)
from mcp.types import CallToolResult, ListToolsResult
from pydantic import AnyUrl

from gateway.tools import default_registry
from tests.forged_tokens import hmac_signed, unsigned
from tests.hydra_server import ROLES, SUBJECT, Hydra, hydra_binary, start_hydra
from tests.ports import free_port
from tests.processes import AEGIS, Gateway, Simulator, create_key, start_gateway

pytestmark = pytest.mark.e2e

POLICY = "defaults: {read: allow, write: deny}\n"
READ_TOOLS = {bound.tool.name for bound in default_registry() if bound.tool.capability == "read"}
REDIRECT_URI = "http://127.0.0.1:8976/callback"  # never served: the browser below stops at it
MINTING_KID = "aegis-e2e-minting"
PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}


@pytest.fixture(scope="module")
def minting_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def hydra(tmp_path_factory: pytest.TempPathFactory, minting_key: rsa.RSAPrivateKey) -> Iterator[Hydra]:
    if not Path(hydra_binary()).is_file():
        pytest.fail(f"ORY Hydra not found at {hydra_binary()}: run ./scripts/setup --with-hydra")
    server = start_hydra(tmp_path_factory.mktemp("hydra"))
    # A key of the test's own in Hydra's published JWKS: tokens it signs are the issuer's as far as the
    # gateway can tell, so each bad token below differs from a good one only in what makes it bad.
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(minting_key))
    server.publish_key({**jwk, "kid": MINTING_KID, "use": "sig", "alg": "RS256"})
    yield server
    server.stop()


@pytest.fixture(scope="module")
def gateway(
    hydra: Hydra, simulator: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str
) -> Iterator[Gateway]:
    """A gateway on OAuth alone: its keys file holds only a revoked key."""
    port = free_port()
    workdir = tmp_path_factory.mktemp("gw-oauth")
    keys_file = workdir / "tokens-only-keys.json"
    create_key(keys_file, name="retired")
    subprocess.run([*AEGIS, "keys", "revoke", "retired", "--keys-file", str(keys_file)], check=True)
    gw = start_gateway(
        workdir,
        policy=POLICY,
        upstream=simulator,
        port=port,
        env={
            "AEGIS_KEYS_FILE": str(keys_file),
            "AEGIS_OAUTH_ISSUER": hydra.issuer,
            "AEGIS_OAUTH_RESOURCE": f"http://127.0.0.1:{port}/mcp",
            "AEGIS_OAUTH_JWKS_URI": hydra.jwks_uri,
            "AEGIS_OAUTH_SCOPE_CLAIM": "scp",  # Hydra's JWT access tokens list their scopes there
            "AEGIS_OAUTH_ROLES_CLAIM": "ext.roles",  # and the consent session's claims under ext
            "AEGIS_OAUTH_JWKS_MIN_REFRESH": "1",  # the rotation test need not wait 30 s
            "AEGIS_AUTH_FAILURE_LIMIT": "100",  # this module fails on purpose
        },
    )
    yield gw
    gw.stop()


class Browser:
    """The user agent of the authorization code flow: follows Hydra's redirects through the login and
    consent app, keeping Hydra's cookies, and stops at the client's redirect URI."""

    def __init__(self) -> None:
        self.result: AuthorizationCodeResult | None = None

    async def open(self, url: str) -> None:
        async with httpx.AsyncClient(timeout=30) as http:
            for _ in range(10):
                response = await http.get(url)
                assert response.status_code in (302, 303), response.text
                url = urljoin(url, response.headers["location"])
                if url.startswith(REDIRECT_URI):
                    query = {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}
                    assert "error" not in query, query
                    self.result = AuthorizationCodeResult(
                        code=query["code"], state=query.get("state"), iss=query.get("iss")
                    )
                    return
        raise AssertionError("the authorization never came back to the client")

    async def callback(self) -> AuthorizationCodeResult:
        assert self.result is not None
        return self.result


class MemoryStorage:
    def __init__(self) -> None:
        self.tokens: OAuthToken | None = None
        self.client_info: OAuthClientInformationFull | None = None

    async def get_tokens(self) -> OAuthToken | None:
        return self.tokens

    async def set_tokens(self, tokens: OAuthToken) -> None:
        self.tokens = tokens

    async def get_client_info(self) -> OAuthClientInformationFull | None:
        return self.client_info

    async def set_client_info(self, client_info: OAuthClientInformationFull) -> None:
        self.client_info = client_info


def audit_entries(gateway: Gateway) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gateway.audit_log.read_text().splitlines()]


def test_the_unauthenticated_answer_leads_to_hydra(gateway: Gateway, hydra: Hydra) -> None:
    refused = httpx.post(gateway.url, json=PING)
    assert refused.status_code == 401
    metadata_url = f"{gateway.base_url}/.well-known/oauth-protected-resource/mcp"
    assert refused.headers["www-authenticate"] == (
        f'Bearer realm="aegis", resource_metadata="{metadata_url}", scope="tools:read"'
    )
    metadata = httpx.get(metadata_url).json()
    assert (metadata["resource"], metadata["authorization_servers"]) == (gateway.url, [hydra.issuer])


@dataclasses.dataclass
class Session:
    """What one run of the SDK's OAuth flow and two calls through the gateway left behind."""

    storage: MemoryStorage
    listed: ListToolsResult
    result: CallToolResult

    @property
    def token(self) -> str:
        assert self.storage.tokens is not None
        return self.storage.tokens.access_token


async def authorize_and_call(gateway: Gateway) -> Session:
    """A fresh client: the SDK's OAuthClientProvider does the whole flow on the gateway's first 401."""
    storage, browser = MemoryStorage(), Browser()
    provider = OAuthClientProvider(
        server_url=gateway.url,
        client_metadata=OAuthClientMetadata(client_name="aegis e2e", redirect_uris=[AnyUrl(REDIRECT_URI)]),
        storage=storage,
        redirect_handler=browser.open,
        callback_handler=browser.callback,
    )
    async with (
        create_mcp_http_client(auth=provider) as http,
        Client(streamable_http_client(gateway.url, http_client=http)) as client,
    ):
        listed = await client.list_tools()
        result = await client.call_tool(
            "get_file_contents", {"owner": "acme", "repo": "app", "filepath": "README.md"}
        )
    return Session(storage, listed, result)


async def test_the_sdk_authorizes_with_hydra_and_calls_tools(
    gateway: Gateway, hydra: Hydra, simulator: Simulator
) -> None:
    served_before = len(simulator.requests())
    session = await authorize_and_call(gateway)
    storage, listed, result, token = session.storage, session.listed, session.result, session.token
    assert storage.client_info is not None and storage.client_info.client_id  # registered dynamically
    claims = jwt.decode(token, options={"verify_signature": False})
    assert (claims["iss"], claims["aud"], claims["sub"]) == (hydra.issuer, [gateway.url], SUBJECT)
    assert "tools:read" in claims["scp"] and claims["ext"]["roles"] == ROLES  # and the SDK's offline_access

    assert {tool.name for tool in listed.tools} == READ_TOOLS
    assert result.is_error is False
    assert result.structured_content is not None and result.structured_content["path"] == "README.md"
    entry = [e for e in audit_entries(gateway) if e["event"] == "tool_call"][-1]
    assert (entry["principal"], entry["tool"], entry["outcome"]) == (
        f"oauth:{SUBJECT}",
        "get_file_contents",
        "allowed",
    )
    assert entry["credential_id"] == claims["jti"]  # which token it was, beside whose

    # The simulator answers 401 to any token but its own: every request it served carried credentials
    # and was accepted, so the gateway sent its Gitea token and never the client's access token.
    served = simulator.requests()[served_before:]
    assert served and all(request["auth_given"] and request["status"] != 401 for request in served)
    assert token not in gateway.logs() and token not in gateway.audit_log.read_text()


def mint(key: Any, claims: dict[str, Any], *, kid: str = MINTING_KID, algorithm: str = "RS256") -> str:
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


def good_claims(gateway: Gateway, hydra: Hydra, **changes: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"iss": hydra.issuer, "aud": [gateway.url], "sub": "minted", "iat": now, "exp": now + 300}
    return {**claims, "scp": ["tools:read"], **changes}


def hydra_public_key(hydra: Hydra) -> tuple[str, bytes]:
    """The kid and PEM of Hydra's own access-token signing key, as anyone can read them from its JWKS."""
    jwks = httpx.get(hydra.jwks_uri).json()["keys"]
    published = next(key for key in jwks if key["kid"] != MINTING_KID)
    public = jwt.algorithms.RSAAlgorithm.from_jwk(published)
    assert isinstance(public, rsa.RSAPublicKey)
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return published["kid"], pem


def post(gateway: Gateway, token: str) -> httpx.Response:
    return httpx.post(gateway.url, json=PING, headers={"Authorization": f"Bearer {token}"})


def test_a_token_minted_with_the_published_key_is_accepted(
    gateway: Gateway, hydra: Hydra, minting_key: rsa.RSAPrivateKey
) -> None:
    """The control for the refusals below: the minting key itself is trusted."""
    assert post(gateway, mint(minting_key, good_claims(gateway, hydra))).status_code == 200


@pytest.mark.parametrize(
    ("case", "reason"),
    [
        pytest.param("forged", "token_signature", id="forged"),
        pytest.param("expired", "token_expired", id="expired"),
        pytest.param("wrong-audience", "token_audience", id="wrong-audience"),
        pytest.param("wrong-issuer", "token_issuer", id="wrong-issuer"),
        pytest.param("alg-none", "token_algorithm", id="alg-none"),
        pytest.param("hs256-with-public-key", "token_algorithm", id="hs256-with-public-key"),
    ],
)
def test_bad_tokens_are_refused_by_the_running_gateway(
    gateway: Gateway, hydra: Hydra, minting_key: rsa.RSAPrivateKey, case: str, reason: str
) -> None:
    hydra_kid, hydra_pem = hydra_public_key(hydra)
    claims = good_claims(gateway, hydra)
    token = {
        "forged": lambda: mint(
            rsa.generate_private_key(public_exponent=65537, key_size=2048), claims, kid=hydra_kid
        ),
        "expired": lambda: mint(minting_key, {**claims, "exp": claims["iat"] - 3600}),
        "wrong-audience": lambda: mint(minting_key, {**claims, "aud": ["http://127.0.0.1:1/mcp"]}),
        "wrong-issuer": lambda: mint(minting_key, {**claims, "iss": "http://127.0.0.1:1/"}),
        "alg-none": lambda: unsigned(claims),
        "hs256-with-public-key": lambda: hmac_signed(claims, hydra_pem, hydra_kid),
    }[case]()
    before = len(audit_entries(gateway))
    response = post(gateway, token)
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["www-authenticate"]
    [event] = audit_entries(gateway)[before:]
    assert (event["event"], event["reasons"][0]["rule"]) == ("auth_failure", f"edge.auth.{reason}")


def test_a_token_without_the_scope_is_challenged_for_it(
    gateway: Gateway, hydra: Hydra, minting_key: rsa.RSAPrivateKey
) -> None:
    response = post(gateway, mint(minting_key, good_claims(gateway, hydra, scp=["openid"])))
    assert response.status_code == 403
    assert 'error="insufficient_scope", scope="tools:read"' in response.headers["www-authenticate"]
    event = audit_entries(gateway)[-1]
    assert (event["event"], event["principal"]) == ("auth_failure", "oauth:minted")


async def test_a_token_signed_after_hydra_rotates_its_key_is_accepted(gateway: Gateway, hydra: Hydra) -> None:
    """The gateway has Hydra's keys cached; Hydra signs with a new one; the first token that names it
    makes the gateway fetch the JWKS again (AEGIS_OAUTH_JWKS_MIN_REFRESH allowing)."""
    before = jwt.get_unverified_header((await authorize_and_call(gateway)).token)["kid"]
    hydra.rotate_signing_key()
    session = await authorize_and_call(gateway)
    assert jwt.get_unverified_header(session.token)["kid"] != before
    assert session.result.is_error is False and {tool.name for tool in session.listed.tools} == READ_TOOLS
