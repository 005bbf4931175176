"""Bearer authentication for the protected paths: an API key, or (when OAuth is configured) a JWT access
token, with auth-failure throttling per client address.

One Authorization header, one bearer token: a token in JWT form goes to the OAuth resource server,
anything else is looked up as an API key. A missing, malformed, unknown or refused token gets 401 with
WWW-Authenticate (naming the resource metadata when OAuth is on) and counts as a failure of its client
address; an access token without the scope its path needs gets 403 `insufficient_scope`, and counts
too. An address over the failure limit gets 429 with Retry-After for the rest of the window, whatever
it presents. An issuer whose keys cannot be fetched gets no token accepted (503). Nothing
unauthenticated passes.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.edge._client_ip import budget_subject_of
from gateway.edge.events import SecurityEvents
from gateway.edge.keys import MAX_KEY_LENGTH, KeyStore
from gateway.edge.oauth import OAuthResourceServer, looks_like_jwt
from gateway.edge.responses import (
    refuse_for_backend_failure,
    send_json_error,
    send_too_many_requests,
    send_unavailable,
)
from gateway.edge.throttle import AuthFailureThrottle
from gateway.errors import JwksUnavailable, LimitBackendError, TokenRefused
from gateway.observability.metrics import Metrics
from gateway.vocabulary import KEY_LIMIT_STATE_KEY, PRINCIPAL_STATE_KEY, Principal

MAX_TOKEN_LENGTH = 8192  # an access token with many claims; API keys are far shorter (MAX_KEY_LENGTH)
# One scheme, one space, one token of the RFC 6750 alphabet, bounded: anything else is malformed.
_BEARER = re.compile(rb"Bearer ([A-Za-z0-9._~+/-]{1,%d}=*)" % MAX_TOKEN_LENGTH, re.IGNORECASE)
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
        oauth: OAuthResourceServer | None = None,
        required_scopes: Mapping[str, str] | None = None,
    ) -> None:
        self.app = app
        self.keys = keys
        self.throttle = throttle
        self.events = events
        self.metrics = metrics
        self.protected = protected
        self.oauth = oauth
        self.required_scopes = dict(required_scopes or {})  # path -> the gateway scope a token needs there

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
        token = match.group(1).decode("ascii") if match else ""
        if self.oauth is not None and looks_like_jwt(token):
            await self._authenticate_token(scope, receive, send, subject, self.oauth, token)
            return
        if not token or len(token) > MAX_KEY_LENGTH:  # an API key is never longer
            await self._reject(scope, send, subject, reason="missing" if not headers else "malformed")
            return
        found = self.keys.authenticate(token)
        if found is None:
            await self._reject(scope, send, subject, reason="invalid")
            return
        state = scope.setdefault("state", {})
        state[PRINCIPAL_STATE_KEY] = found.principal
        state[KEY_LIMIT_STATE_KEY] = found.rate_limit
        await self.app(scope, receive, send)

    async def _authenticate_token(
        self, scope: Scope, receive: Receive, send: Send, subject: str, oauth: OAuthResourceServer, token: str
    ) -> None:
        try:
            principal = await oauth.authenticate(token)
        except TokenRefused as exc:
            await self._reject(scope, send, subject, reason=f"token_{exc.reason}")
            return
        except JwksUnavailable:
            # Fail closed, but not as the client's failure: its token may be good, and a 401 would send
            # it through a new authorization for nothing.
            self.metrics.auth_failures.labels(reason="jwks_unavailable").inc()
            log.error("issuer keys unavailable; refusing access tokens", exc_info=True)
            await send_unavailable(scope, send, message="Service Unavailable")
            return
        challenge = oauth.scope_challenge(principal, self.required_scopes.get(scope["path"]))
        if challenge is not None:
            await self._reject(
                scope,
                send,
                subject,
                reason="insufficient_scope",
                principal=principal,
                status=403,
                challenge=challenge,
            )
            return
        scope.setdefault("state", {})[PRINCIPAL_STATE_KEY] = principal
        await self.app(scope, receive, send)

    async def _reject(
        self,
        scope: Scope,
        send: Send,
        subject: str,
        *,
        reason: str,
        principal: Principal | None = None,
        status: int = 401,
        challenge: bytes | None = None,
    ) -> None:
        self.metrics.auth_failures.labels(reason=reason).inc()
        try:
            await self.throttle.record_failure(subject)
        except LimitBackendError:
            self.metrics.limit_backend_errors.inc()
            log.error("auth throttle backend failed to count a failure", exc_info=True)
        principal_id = principal.id if principal else None
        await self.events.record("auth_failure", scope=scope, reason=f"auth.{reason}", principal=principal_id)
        challenge = challenge or self._challenge(scope["path"], presented=reason != "missing")
        await send_json_error(
            scope,
            send,
            status=status,
            message="Forbidden" if status == 403 else "Unauthorized",
            headers=[(b"www-authenticate", challenge)],
        )

    def _challenge(self, path: str, *, presented: bool) -> bytes:
        if self.oauth is None:
            return b'Bearer realm="aegis"' + (b', error="invalid_token"' if presented else b"")
        return self.oauth.challenge(presented=presented, needed=self.required_scopes.get(path))
