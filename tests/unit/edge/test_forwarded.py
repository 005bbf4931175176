"""The client behind trusted proxies: X-Forwarded-For read only from a trusted peer, rightmost untrusted hop
first, and the address every later layer sees; driven in process through the ASGI app."""

from __future__ import annotations

import ipaddress

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from gateway.config import parse_networks
from gateway.edge.forwarded import TrustedProxyMiddleware, forwarded_client
from gateway.errors import ConfigError

TRUSTED = parse_networks("AEGIS_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1, 2001:db8::/32")


@pytest.mark.parametrize(
    ("peer", "header", "client"),
    [
        pytest.param("203.0.113.9", ["198.51.100.1"], "203.0.113.9", id="untrusted-peer-is-the-client"),
        pytest.param("10.1.1.1", [], "10.1.1.1", id="trusted-peer-without-header"),
        pytest.param("10.1.1.1", ["198.51.100.1"], "198.51.100.1", id="one-proxy"),
        pytest.param("10.1.1.1", ["6.6.6.6, 198.51.100.1"], "198.51.100.1", id="client-written-hops-ignored"),
        pytest.param("10.1.1.1", ["6.6.6.6", "198.51.100.1"], "198.51.100.1", id="headers-joined-in-order"),
        pytest.param("10.1.1.1", ["198.51.100.1, 10.2.2.2, 192.0.2.1"], "198.51.100.1", id="proxy-chain"),
        pytest.param("10.1.1.1", ["10.3.3.3, 10.2.2.2"], "10.3.3.3", id="all-trusted-leftmost"),
        pytest.param("10.1.1.1", ["198.51.100.1, unknown"], "10.1.1.1", id="garbage-next-to-peer"),
        pytest.param("10.1.1.1", ["nonsense, 198.51.100.1"], "198.51.100.1", id="garbage-left-of-client"),
        pytest.param("10.1.1.1", ["198.51.100.1, 10.2.2.2:8080"], "10.1.1.1", id="hop-with-port-not-read"),
        pytest.param("::ffff:10.1.1.1", ["198.51.100.1"], "198.51.100.1", id="ipv4-mapped-peer"),
        pytest.param("2001:db8::1", ["[2001:db9::5]"], "2001:db9::5", id="ipv6-in-brackets"),
        pytest.param("10.1.1.1", ["::ffff:198.51.100.1"], "198.51.100.1", id="ipv4-mapped-hop"),
        pytest.param("10.1.1.1", ["fe80::1%eth0"], "fe80::1", id="ipv6-zone-dropped"),
        pytest.param("not-an-address", ["198.51.100.1"], "not-an-address", id="odd-peer-unchanged"),
    ],
)
def test_forwarded_client(peer: str, header: list[str], client: str) -> None:
    assert forwarded_client(peer, [value.encode() for value in header], TRUSTED) == client


def test_only_the_last_hops_are_read() -> None:
    hops = ", ".join(["198.51.100.1", *["10.0.0.5"] * 40])
    assert forwarded_client("10.1.1.1", [hops.encode()], TRUSTED) == "10.0.0.5"


@pytest.mark.parametrize(
    ("value", "networks"),
    [
        ("", ()),
        ("127.0.0.1", (ipaddress.ip_network("127.0.0.1/32"),)),
        (" 10.0.0.0/8 ,fd00::/8", (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("fd00::/8"))),
    ],
)
def test_trusted_proxies_setting(value: str, networks: tuple[object, ...]) -> None:
    assert parse_networks("AEGIS_TRUSTED_PROXIES", value) == networks


@pytest.mark.parametrize("value", ["10.0.0.1/8", "localhost", "10.0.0.0/33", "*"])
def test_a_trusted_proxy_that_is_not_a_network_stops_the_start(value: str) -> None:
    with pytest.raises(ConfigError, match=r"AEGIS_TRUSTED_PROXIES: .* is not an IP network"):
        parse_networks("AEGIS_TRUSTED_PROXIES", value)


def test_an_ipv4_mapped_network_is_refused_rather_than_never_matched() -> None:
    with pytest.raises(ConfigError, match="as an IPv4 network"):
        parse_networks("AEGIS_TRUSTED_PROXIES", "::ffff:10.0.0.0/104")


def client_app(trusted: str) -> TrustedProxyMiddleware:
    async def who(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.client.host if request.client else "-")

    app = Starlette(routes=[Route("/who", who)])
    return TrustedProxyMiddleware(app, trusted=parse_networks("AEGIS_TRUSTED_PROXIES", trusted))


@pytest.mark.parametrize(
    ("trusted", "client"), [("127.0.0.0/8", "198.51.100.1"), ("", "127.0.0.1"), ("10.0.0.0/8", "127.0.0.1")]
)
async def test_later_layers_see_the_resolved_client(trusted: str, client: str) -> None:
    transport = httpx.ASGITransport(app=client_app(trusted), client=("127.0.0.1", 4000))
    async with httpx.AsyncClient(transport=transport, base_url="http://gw") as http:
        reply = await http.get("/who", headers={"X-Forwarded-For": "6.6.6.6, 198.51.100.1"})
    assert reply.text == client
