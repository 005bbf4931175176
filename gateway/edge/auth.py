"""Bearer API-key authentication for /mcp, with auth-failure throttling per client address.

A missing, malformed or unknown key gets 401 with WWW-Authenticate and counts as a failure of its
client address; an address over the failure limit gets 429 with Retry-After for the rest of the
window, whatever it presents. Nothing unauthenticated passes.
"""

from __future__ import annotations

import logging
import re

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.edge._client_ip import budget_subject_of
from gateway.edge.events import SecurityEvents
from gateway.edge.keys import MAX_KEY_LENGTH, KeyStore
from gateway.edge.responses import refuse_for_backend_failure, send_json_error, send_too_many_requests
from gateway.edge.throttle import AuthFailureThrottle
from gateway.errors import LimitBackendError
from gateway.observability.metrics import Metrics
from gateway.vocabulary import KEY_LIMIT_STATE_KEY, PRINCIPAL_STATE_KEY

# One scheme, one space, one token of the RFC 6750 alphabet, bounded: anything else is malformed.
_BEARER = re.compile(rb"Bearer ([A-Za-z0-9._~+/-]{1,%d}=*)" % MAX_KEY_LENGTH, re.IGNORECASE)
log = logging.getLogger(__name__)


class ApiKeyAuthMiddleware:
    """Authenticates requests to the protected paths and stores the principal in `scope["state"]`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        keys: KeyStore,
        throttle: AuthFailureThrottle,
        events: SecurityEvents,
        metrics: Metrics,
        protected: tuple[str, ...],
    ) -> None:
        self.app = app
        self.keys = keys
        self.throttle = throttle
        self.events = events
        self.metrics = metrics
        self.protected = protected

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.protected:
            await self.app(scope, receive, send)
            return
        subject = budget_subject_of(scope)
        try:
            blocked_for = await self.throttle.blocked_for(subject)
        except LimitBackendError:
            await refuse_for_backend_failure(
                scope, send, metrics=self.metrics, backend="auth throttle backend"
            )
            return
        if blocked_for is not None:
            self.metrics.auth_failures.labels(reason="throttled").inc()
            await self.events.record("auth_throttled", scope=scope, reason="auth.throttled", repeating=True)
            await send_too_many_requests(scope, send, retry_after_s=blocked_for)
            return
        headers = [value for name, value in scope["headers"] if name == b"authorization"]
        match = _BEARER.fullmatch(headers[0]) if len(headers) == 1 else None
        found = self.keys.authenticate(match.group(1).decode("ascii")) if match else None
        if found is None:
            reason = "invalid" if match else "missing" if not headers else "malformed"
            await self._reject(scope, send, subject, reason=reason)
            return
        state = scope.setdefault("state", {})
        state[PRINCIPAL_STATE_KEY] = found.principal
        state[KEY_LIMIT_STATE_KEY] = found.rate_limit
        await self.app(scope, receive, send)

    async def _reject(self, scope: Scope, send: Send, subject: str, *, reason: str) -> None:
        self.metrics.auth_failures.labels(reason=reason).inc()
        try:
            await self.throttle.record_failure(subject)
        except LimitBackendError:
            self.metrics.limit_backend_errors.inc()
            log.error("auth throttle backend failed to count a failure", exc_info=True)
        await self.events.record("auth_failure", scope=scope, reason=f"auth.{reason}")
        challenge = 'Bearer realm="aegis"' + ("" if reason == "missing" else ', error="invalid_token"')
        await send_json_error(
            scope,
            send,
            status=401,
            message="Unauthorized",
            headers=[(b"www-authenticate", challenge.encode())],
        )
