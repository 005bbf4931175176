"""The JWKS cache: rotation picked up when a token names a new key, refetches bounded, failures closed."""

from __future__ import annotations

import json

import pytest

from gateway.edge.oauth import JwksCache
from gateway.errors import JwksUnavailable, TokenRefused
from tests.unit.edge.oauth.issuer import Issuer


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def cache(issuer: Issuer, clock: Clock, *, max_age_s: float = 300, min_refresh_s: float = 30) -> JwksCache:
    return JwksCache(fetch=issuer.fetch, max_age_s=max_age_s, min_refresh_s=min_refresh_s, clock=clock)


async def test_keys_are_fetched_once_and_reused() -> None:
    issuer, clock = Issuer(), Clock()
    jwks = cache(issuer, clock)
    first = await jwks.key(issuer.current)
    clock.now += 10
    assert await jwks.key(issuer.current) is first
    assert issuer.fetches == 1


async def test_a_rotated_key_is_fetched_when_a_token_names_it() -> None:
    issuer, clock = Issuer(), Clock()
    jwks = cache(issuer, clock)
    old = issuer.current
    await jwks.key(old)
    new = issuer.rotate(retire=True)
    clock.now += 31
    assert (await jwks.key(new)).key_type == "RSA"
    assert issuer.fetches == 2
    with pytest.raises(TokenRefused, match="unknown_key"):
        await jwks.key(old)  # retired by the issuer: gone from the refetched set
    assert issuer.fetches == 2  # refetched just now: an unknown kid does not fetch again


async def test_unknown_key_ids_refetch_at_most_once_per_interval() -> None:
    issuer, clock = Issuer(), Clock()
    jwks = cache(issuer, clock, min_refresh_s=30)
    await jwks.key(issuer.current)
    for _ in range(5):
        with pytest.raises(TokenRefused, match="unknown_key"):
            await jwks.key("made-up")
    assert issuer.fetches == 1
    new = issuer.rotate()
    with pytest.raises(TokenRefused, match="unknown_key"):
        await jwks.key(new)  # rotated within the interval: not seen yet
    clock.now += 30
    await jwks.key(new)
    assert issuer.fetches == 2


async def test_keys_older_than_max_age_are_refetched() -> None:
    issuer, clock = Issuer(), Clock()
    jwks = cache(issuer, clock, max_age_s=300)
    await jwks.key(issuer.current)
    clock.now += 300
    await jwks.key(issuer.current)
    assert issuer.fetches == 2


async def test_a_failed_fetch_refuses_even_keys_known_before() -> None:
    issuer, clock = Issuer(), Clock()
    jwks = cache(issuer, clock, max_age_s=300)
    await jwks.key(issuer.current)
    issuer.down = True
    clock.now += 300
    with pytest.raises(JwksUnavailable):
        await jwks.key(issuer.current)
    with pytest.raises(JwksUnavailable):
        await jwks.key(issuer.current)  # nothing kept: the next request tries the issuer again
    issuer.down = False
    assert (await jwks.key(issuer.current)).key_type == "RSA"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param(b"<html>", "not JSON", id="not-json"),
        pytest.param(b'{"keys": {}}', "no keys array", id="keys-not-a-list"),
        pytest.param(b'{"keys": []}', "no usable signing key", id="empty"),
        pytest.param(
            b'{"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "hmac"}]}',
            "no usable signing key",
            id="symmetric-only",
        ),
    ],
)
async def test_an_unusable_key_set_is_unavailable(body: bytes, message: str) -> None:
    async def fetch() -> bytes:
        return body

    with pytest.raises(JwksUnavailable, match=message):
        await JwksCache(fetch=fetch, max_age_s=300, min_refresh_s=30).key("any")


async def test_encryption_keys_and_keys_without_an_id_are_left_out() -> None:
    issuer = Issuer()
    published = issuer.jwks()["keys"][0]
    body = json.dumps(
        {
            "keys": [
                {**published, "use": "enc", "kid": "enc"},
                {k: v for k, v in published.items() if k != "kid"},
                published,
            ]
        }
    ).encode()

    async def fetch() -> bytes:
        return body

    jwks = JwksCache(fetch=fetch, max_age_s=300, min_refresh_s=30)
    assert (await jwks.key(issuer.current)).key_type == "RSA"
    with pytest.raises(TokenRefused, match="unknown_key"):
        await jwks.key("enc")
