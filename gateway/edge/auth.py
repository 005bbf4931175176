"""Bearer API-key authentication for /mcp: 401 with WWW-Authenticate; nothing unauthenticated passes."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.edge.keys import MAX_KEY_LENGTH, KeyStore
from gateway.edge.responses import send_json_error
from gateway.observability.metrics import Metrics

PRINCIPAL_STATE_KEY = "principal"
_BEARER = re.compile(rb"Bearer ([A-Za-z0-9._~+/=-]{1,%d})" % MAX_KEY_LENGTH, re.IGNORECASE)


class ApiKeyAuthMiddleware:
    """Authenticates requests to the protected paths and stores the principal in `scope["state"]`."""

    def __init__(self, app: ASGIApp, *, keys: KeyStore, metrics: Metrics, protected: tuple[str, ...]) -> None:
        self.app = app
        self.keys = keys
        self.metrics = metrics
        self.protected = protected

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.protected:
            await self.app(scope, receive, send)
            return
        headers = [value for name, value in scope["headers"] if name == b"authorization"]
        if not headers:
            await self._reject(scope, send, reason="missing", error=None)
            return
        match = _BEARER.fullmatch(headers[0]) if len(headers) == 1 else None
        principal = self.keys.authenticate(match.group(1).decode("ascii")) if match else None
        if principal is None:
            await self._reject(scope, send, reason="invalid" if match else "malformed", error="invalid_token")
            return
        scope.setdefault("state", {})[PRINCIPAL_STATE_KEY] = principal
        await self.app(scope, receive, send)

    async def _reject(self, scope: Scope, send: Send, *, reason: str, error: str | None) -> None:
        self.metrics.auth_failures.labels(reason=reason).inc()
        challenge = 'Bearer realm="aegis"' + (f', error="{error}"' if error else "")
        await send_json_error(
            scope,
            send,
            status=401,
            message="Unauthorized",
            headers=[(b"www-authenticate", challenge.encode())],
        )
