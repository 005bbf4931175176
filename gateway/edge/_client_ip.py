"""The client address the edge limits and throttles by: the TCP peer (no proxy headers are trusted)."""

from __future__ import annotations

from starlette.types import Scope

UNKNOWN_CLIENT = "unknown"


def client_ip_of(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else UNKNOWN_CLIENT
