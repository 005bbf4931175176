"""Token-bucket rate limits per client address (before authentication) and per key (after it).

Over budget: 429 with Retry-After. A backend that cannot answer refuses the request (503): a limit
that cannot be checked is not waived.
"""

from __future__ import annotations

from typing import Literal

from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.edge._client_ip import budget_subject_of
from gateway.edge.events import SecurityEvents
from gateway.edge.keys import KeyRateLimit
from gateway.edge.limits import Bucket, LimitBackend
from gateway.edge.responses import refuse_for_backend_failure, send_too_many_requests
from gateway.errors import LimitBackendError
from gateway.observability.metrics import Metrics
from gateway.vocabulary import KEY_LIMIT_STATE_KEY, PRINCIPAL_STATE_KEY

Per = Literal["ip", "key"]


class RateLimitMiddleware:
    """`per="ip"` limits by client address; `per="key"` by the authenticated principal, with the key's
    own limit when it has one, else `default`."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        per: Per,
        default: Bucket,
        backend: LimitBackend,
        events: SecurityEvents,
        metrics: Metrics,
        protected: tuple[str, ...],
    ) -> None:
        self.app = app
        self.per = per
        self.default = default
        self.backend = backend
        self.events = events
        self.metrics = metrics
        self.protected = protected

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.protected:
            await self.app(scope, receive, send)
            return
        subject, bucket, principal = self._budget(scope)
        try:
            verdict = await self.backend.take(f"rate:{self.per}:{subject}", bucket)
        except LimitBackendError:
            await refuse_for_backend_failure(scope, send, metrics=self.metrics, backend="rate-limit backend")
            return
        if not verdict.allowed:
            self.metrics.rate_limited.labels(per=self.per).inc()
            await self.events.record(
                "rate_limited",
                scope=scope,
                reason=f"rate_limit.{self.per}",
                principal=principal,
                repeating=True,
            )
            await send_too_many_requests(scope, send, retry_after_s=verdict.retry_after_s)
            return
        await self.app(scope, receive, send)

    def _budget(self, scope: Scope) -> tuple[str, Bucket, str | None]:
        if self.per == "ip":
            return budget_subject_of(scope), self.default, None
        state = scope.get("state", {})
        principal = state[PRINCIPAL_STATE_KEY]  # KeyError: mounted before authentication, a bug
        own: KeyRateLimit | None = state.get(KEY_LIMIT_STATE_KEY)
        bucket = Bucket(rate_per_s=own.rate_per_s, burst=own.burst) if own else self.default
        return str(principal.id), bucket, str(principal.id)
