"""The client behind a trusted proxy. X-Forwarded-For is read only when the TCP peer is in
AEGIS_TRUSTED_PROXIES, and then the client is the rightmost address in it that is not itself a trusted
proxy: each proxy appends the address it saw, so everything left of that hop was written by the client
and is not believed. Without trusted proxies (the default) the header is ignored.

The resolved address replaces the ASGI scope's `client`, so that every later layer (rate limits, the
auth-failure throttle, security events, the OPA input, access logs) sees the same client.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.vocabulary import Network

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
FORWARDED_FOR_HEADER = b"x-forwarded-for"
MAX_HOPS = 32  # hops read from the right; a chain of trusted proxies is never this long


def forwarded_client(peer: str, forwarded_for: Iterable[bytes], trusted: tuple[Network, ...]) -> str:
    """The client address of a request from `peer` carrying the X-Forwarded-For header values
    `forwarded_for` (in the order received). `peer` when it is not a trusted proxy; otherwise the rightmost
    hop not in `trusted`, the leftmost when all are, or the last hop believed when the next one is not an
    address (a hop in front of it wrote something else)."""
    address = _address(peer)
    if address is None or not _is_trusted(address, trusted):
        return peer
    client = str(address)
    hops = [hop.strip() for value in forwarded_for for hop in value.decode("latin-1").split(",")]
    for hop in reversed(hops[-MAX_HOPS:]):
        address = _address(hop)
        if address is None:
            break
        client = str(address)
        if not _is_trusted(address, trusted):
            break
    return client


def is_trusted_proxy(peer: str, trusted: tuple[Network, ...]) -> bool:
    address = _address(peer)
    return address is not None and _is_trusted(address, trusted)


class TrustedProxyMiddleware:
    """Sets the scope's `client` to the client behind the trusted proxies (see `forwarded_client`)."""

    def __init__(self, app: ASGIApp, *, trusted: tuple[Network, ...]) -> None:
        self.app = app
        self.trusted = trusted

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client") if scope["type"] == "http" and self.trusted else None
        if client:
            values = [value for name, value in scope["headers"] if name == FORWARDED_FOR_HEADER]
            if values:
                scope["client"] = (forwarded_client(str(client[0]), values, self.trusted), 0)
        await self.app(scope, receive, send)


def _address(text: str) -> Address | None:
    """An IP address as a proxy writes it (IPv6 possibly in brackets), IPv4-mapped IPv6 as IPv4, an IPv6
    zone (`%eth0`, meaningful only on the host that wrote it) dropped."""
    try:
        address = ipaddress.ip_address(text.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id is not None:
            return ipaddress.IPv6Address(str(address).split("%", 1)[0])
    return address


def _is_trusted(address: Address, trusted: tuple[Network, ...]) -> bool:
    return any(address in network for network in trusted)
