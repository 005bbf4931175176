"""The access-token checks, one refusal per way a token can be wrong, and the reason each is given."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from gateway.edge.oauth import TokenValidator
from gateway.errors import TokenRefused
from tests.forged_tokens import hmac_signed, unsigned
from tests.unit.edge.oauth.issuer import ISSUER, RESOURCE, Issuer, new_rsa_key


def validator(
    issuer: Issuer, *, algorithms: tuple[str, ...] = ("RS256",), leeway_s: float = 30
) -> TokenValidator:
    return TokenValidator(
        jwks=issuer.cache(), issuer=ISSUER, resource=RESOURCE, algorithms=algorithms, leeway_s=leeway_s
    )


async def refusal(issuer: Issuer, token: str, **options: Any) -> str:
    with pytest.raises(TokenRefused) as refused:
        await validator(issuer, **options).claims(token)
    return refused.value.reason


async def test_a_good_token_gives_its_claims() -> None:
    issuer = Issuer()
    claims = await validator(issuer).claims(issuer.token())
    assert (claims["sub"], claims["iss"], claims["aud"]) == ("alice", ISSUER, [RESOURCE])


async def test_audience_may_be_a_single_string() -> None:
    issuer = Issuer()
    assert (await validator(issuer).claims(issuer.token(aud=RESOURCE)))["aud"] == RESOURCE


def public_key_as_hmac_secret(issuer: Issuer) -> str:
    pem = (
        issuer.keys[issuer.current]
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return hmac_signed(issuer.claims(), pem, issuer.current)


def jwk_as_hmac_secret(issuer: Issuer) -> str:
    return hmac_signed(issuer.claims(), json.dumps(issuer.jwks()["keys"][0]).encode(), issuer.current)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        pytest.param(Issuer.forged, "signature", id="forged-signature"),
        pytest.param(lambda i: i.token(exp_in=-120), "expired", id="expired"),
        pytest.param(
            lambda i: i.token(aud=["https://other.example.test/mcp"]), "audience", id="wrong-audience"
        ),
        pytest.param(lambda i: i.token(aud=f"{RESOURCE}/sub"), "audience", id="audience-below-resource"),
        pytest.param(lambda i: i.token(aud=None), "claims", id="no-audience"),
        pytest.param(lambda i: i.token(iss="https://evil.example.test/"), "issuer", id="wrong-issuer"),
        pytest.param(lambda i: i.token(iss=ISSUER.rstrip("/")), "issuer", id="issuer-not-exactly-equal"),
        pytest.param(lambda i: i.token(exp=None), "claims", id="no-expiry"),
        pytest.param(lambda i: i.token(nbf=i.claims()["iat"] + 600), "not_yet_valid", id="not-yet-valid"),
        pytest.param(lambda i: i.token(iat=i.claims()["iat"] + 600), "not_yet_valid", id="issued-in-future"),
        pytest.param(lambda i: unsigned(i.claims()), "algorithm", id="alg-none"),
        pytest.param(public_key_as_hmac_secret, "algorithm", id="hs256-public-key-pem"),
        pytest.param(jwk_as_hmac_secret, "algorithm", id="hs256-public-jwk"),
        pytest.param(
            lambda i: jwt.encode(i.claims(), new_rsa_key(), algorithm="RS256", headers={"kid": "nobody"}),
            "unknown_key",
            id="unknown-kid",
        ),
        pytest.param(
            lambda i: jwt.encode(i.claims(), i.keys[i.current], algorithm="RS256"), "unknown_key", id="no-kid"
        ),
        pytest.param(lambda i: "eyJhbGciOi.e30.x", "malformed", id="garbage"),
    ],
)
async def test_refused(make: Any, reason: str) -> None:
    issuer = Issuer()
    assert await refusal(issuer, make(issuer)) == reason


async def test_skew_within_leeway_is_accepted_and_beyond_it_refused() -> None:
    issuer = Issuer()
    assert (await validator(issuer, leeway_s=30).claims(issuer.token(exp_in=-10)))["sub"] == "alice"
    assert await refusal(issuer, issuer.token(exp_in=-10), leeway_s=0) == "expired"


async def test_an_allowed_algorithm_must_be_the_one_the_key_states() -> None:
    issuer = Issuer()
    token = jwt.encode(
        issuer.claims(), issuer.keys[issuer.current], algorithm="PS256", headers={"kid": issuer.current}
    )
    original = issuer.jwks

    def stating_rs256() -> dict[str, Any]:
        return {"keys": [{**key, "alg": "RS256"} for key in original()["keys"]]}

    issuer.jwks = stating_rs256  # type: ignore[method-assign]
    assert await refusal(issuer, token, algorithms=("RS256", "PS256")) == "algorithm"


async def test_an_algorithm_of_another_key_type_is_refused() -> None:
    issuer = Issuer()
    token = jwt.encode(
        issuer.claims(),
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": issuer.current},
    )
    assert await refusal(issuer, token, algorithms=("RS256", "ES256")) == "key"


def test_no_allowed_algorithm_is_refused_at_construction() -> None:
    with pytest.raises(ValueError, match="no algorithm allowed"):
        validator(Issuer(), algorithms=())
