"""The JWKS cache: rotation picked up when a token names a new key, refetches bounded, failures closed."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from gateway.edge.oauth import JwksCache, http_fetch
from gateway.errors import JwksUnavailable, TokenRefused
from gateway.outbound import HttpSession
from tests.ports import free_port
from tests.processes import SilentUpstream
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


class _Answer(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        status, body = (200, b'{"keys": []}') if self.path == "/ok" else (500, b"oops")
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def jwks_host() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Answer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def fetched(url: str, *, timeout_s: float = 2.0) -> bytes:
    session = HttpSession(base_url=url, timeout_s=timeout_s)
    try:
        return await http_fetch(session)()
    finally:
        await session.aclose()


async def test_the_http_fetch_returns_the_body_of_a_200(jwks_host: str) -> None:
    assert await fetched(f"{jwks_host}/ok") == b'{"keys": []}'


async def test_the_http_fetch_turns_every_failure_into_unavailable(jwks_host: str) -> None:
    with pytest.raises(JwksUnavailable, match="HTTP 500"):
        await fetched(f"{jwks_host}/broken")
    with pytest.raises(JwksUnavailable, match="RequestFailed"):
        await fetched(f"http://127.0.0.1:{free_port()}/jwks")  # nothing listens there
    silent = SilentUpstream()
    try:
        with pytest.raises(JwksUnavailable, match="TimeoutError"):
            await fetched(f"{silent.url}/jwks", timeout_s=0.2)
    finally:
        silent.close()
