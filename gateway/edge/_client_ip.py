"""The client address the edge limits and throttles by: the scope's client, which is the TCP peer, or the
client a trusted proxy forwarded for once TrustedProxyMiddleware (edge.forwarded) has resolved it."""

from __future__ import annotations

import ipaddress

from starlette.types import Scope

UNKNOWN_CLIENT = "unknown"
IPV6_BUDGET_PREFIX = 64  # one IPv6 end site usually holds a whole /64: budget it as one client


def client_ip_of(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else UNKNOWN_CLIENT


def budget_subject_of(scope: Scope) -> str:
    return budget_subject(client_ip_of(scope))


def budget_subject(address: str) -> str:
    """Who shares a budget: the IPv4 address, or the IPv6 /64 the address is in (else an attacker with
    one /64 would hold 2**64 budgets)."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_BUDGET_PREFIX), strict=False))
    return str(parsed)
