"""Host and Origin allowlists: a browser tricked by DNS rebinding never reaches the gateway (403)."""

from __future__ import annotations

from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.edge.events import SecurityEvents
from gateway.edge.responses import send_json_error

LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")
WILDCARD_BINDS = frozenset({"0.0.0.0", "::", ""})  # noqa: S104 - names, not a bind


class HostOriginMiddleware:
    """Accepts a request only when its Host, and its Origin if it has one, name this gateway.

    Hosts and origins match by host name; any port is accepted for the loopback names. Extra entries
    come from configuration: `allowed_hosts` as `name` or `name:port`, `allowed_origins` as full origins.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        bind_host: str,
        allowed_hosts: tuple[str, ...],
        allowed_origins: tuple[str, ...],
        protected: tuple[str, ...],
        events: SecurityEvents,
    ) -> None:
        self.app = app
        self.protected = protected
        self.events = events
        names = {*LOOPBACK_HOSTS, *(h.lower() for h in allowed_hosts)}
        if bind_host not in WILDCARD_BINDS:
            names.add(f"[{bind_host}]" if ":" in bind_host else bind_host.lower())
        self.host_names = frozenset(names)
        self.origins = frozenset(origin.lower().rstrip("/") for origin in allowed_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.protected:
            await self.app(scope, receive, send)
            return
        hosts = [value for name, value in scope["headers"] if name == b"host"]
        origins = [value for name, value in scope["headers"] if name == b"origin"]
        if len(hosts) != 1 or not self._host_allowed(hosts[0].decode("latin-1")):
            await self._reject(scope, send, "host")
            return
        if len(origins) > 1 or (origins and not self._origin_allowed(origins[0].decode("latin-1"))):
            await self._reject(scope, send, "origin")
            return
        await self.app(scope, receive, send)

    async def _reject(self, scope: Scope, send: Send, header: str) -> None:
        await self.events.record(
            "origin_rejected", scope=scope, reason=f"{header}.not_allowed", repeating=True
        )
        await send_json_error(scope, send, status=403, message=f"Forbidden: {header.title()} not allowed")

    def _host_allowed(self, host: str) -> bool:
        host = host.lower()
        return host in self.host_names or _strip_port(host) in self.host_names

    def _origin_allowed(self, origin: str) -> bool:
        origin = origin.lower().rstrip("/")
        if origin in self.origins:
            return True
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or parts.path or parts.query or parts.fragment:
            return False
        return _strip_port(parts.netloc) in self.host_names


def _strip_port(host: str) -> str:
    if host.startswith("["):
        end = host.find("]")
        return host[: end + 1] if end != -1 else host
    name, _, port = host.partition(":")
    return name if port.isdigit() or not port else host
