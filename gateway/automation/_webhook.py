"""The Gitea webhook receiver, `POST /hooks/gitea`: a delivery is taken on only when its body carries
the shared secret's signature, and only once.

Gitea signs the raw body (`X-Gitea-Signature`: hex HMAC-SHA256 with the webhook's secret) and nothing
else, so the checks run in this order, cheapest and least trusting first:
1. an address over the auth-failure limit gets 429 (forged deliveries count as failures, as bad keys do);
2. no signature: 401 `unsigned`; a signature that is not 64 hex digits: 401 `forged`;
3. a declared length over the bound: 413 `oversized`, before a byte is read; the body is then read
   within the body deadline (408 `timeout`) and the bound (413), never buffered past it;
4. the HMAC, compared in constant time: 401 `forged`. Nothing reads the payload before this;
5. `X-Gitea-Delivery` and `X-Gitea-Event` (400 `malformed`), the body as one JSON object (400);
6. the replay check, only now, so that a forger cannot burn delivery ids: a delivery id, or a body,
   seen within the window is answered 200 with nothing done (`replayed`). The body counts because the
   signature does not cover the delivery id: a captured delivery resent under a new id is the same body;
7. the queue: full, 503 `dropped` (the delivery is forgotten again, so that a redelivery is taken);
   else 202 `accepted`, before any job runs.
Every refusal is counted (`aegis_webhook_deliveries_total`) and audited as a security event, a flood
once per address, reason and minute; each drop is audited, since each is a real delivery lost.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

from starlette.types import Receive, Scope, Send

from gateway.asgi_body import ClientGone, read_body
from gateway.automation._events import Delivery
from gateway.automation._queue import DeliveryQueue
from gateway.edge._client_ip import budget_subject_of
from gateway.edge.events import SecurityEvents
from gateway.edge.responses import CLOSE_CONNECTION, send_json_error, send_too_many_requests, send_unavailable
from gateway.edge.throttle import AuthFailureThrottle
from gateway.errors import LimitBackendError, StateUnavailable
from gateway.mcp import strict_loads
from gateway.observability.metrics import Metrics
from gateway.observability.request_id import request_id_of
from gateway.state import WebhookDeliveries

WEBHOOK_PATH = "/hooks/gitea"
_SIGNATURE = re.compile(rb"[0-9a-fA-F]{64}")
_DELIVERY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,63}")  # Gitea's are UUIDs
_EVENT = re.compile(r"[a-z][a-z_]{0,63}")
# Events Gitea names in X-Gitea-Event: the metric's `event` label, so a sender cannot grow its cardinality.
GITEA_EVENTS = frozenset(
    {
        "create", "delete", "fork", "push", "issues", "issue_assign", "issue_label", "issue_milestone",
        "issue_comment", "pull_request", "pull_request_assign", "pull_request_label",
        "pull_request_milestone", "pull_request_comment", "pull_request_approved", "pull_request_rejected",
        "pull_request_sync", "pull_request_review_request", "wiki", "repository", "release", "package",
        "status", "workflow_run", "workflow_job",
    }
)  # fmt: skip
log = logging.getLogger(__name__)


class WebhookReceiver:
    """The ASGI app of `POST /hooks/gitea` (the route answers other methods with 405)."""

    def __init__(
        self,
        *,
        secret: str,
        deliveries: WebhookDeliveries,
        queue: DeliveryQueue,
        events: SecurityEvents,
        throttle: AuthFailureThrottle,
        metrics: Metrics,
        max_body_bytes: int,
        body_timeout_s: float,
        replay_window_s: float,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secret = secret.encode("utf-8")
        self.deliveries = deliveries
        self.queue = queue
        self._events = events
        self._throttle = throttle
        self._metrics = metrics
        self._max_body_bytes = max_body_bytes
        self._body_timeout_s = body_timeout_s
        self._replay_window_s = replay_window_s
        self._clock = clock

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        claim = _Claim.of(scope)
        subject = budget_subject_of(scope)
        try:
            blocked_for = await self._throttle.blocked_for(subject)
        except LimitBackendError:
            self._metrics.limit_backend_errors.inc()
            log.error("auth throttle backend failed; refusing the delivery", exc_info=True)
            await send_unavailable(scope, send, message="Service Unavailable")
            return
        if blocked_for is not None:
            self._count(claim, "throttled")
            await self._events.record("auth_throttled", scope=scope, reason="auth.throttled", repeating=True)
            await send_too_many_requests(scope, send, retry_after_s=blocked_for)
            return
        signatures = _values(scope, b"x-gitea-signature")
        if not signatures:
            await self._refuse_forgery(scope, send, claim, subject, "unsigned")
            return
        if len(signatures) != 1 or not _SIGNATURE.fullmatch(signatures[0]):
            await self._refuse_forgery(scope, send, claim, subject, "forged")
            return
        body = await self._read_body(scope, receive, send, claim)
        if body is None:
            return
        expected = hmac.new(self._secret, body, hashlib.sha256).hexdigest().encode("ascii")
        if not hmac.compare_digest(expected, signatures[0].lower()):
            await self._refuse_forgery(scope, send, claim, subject, "forged")
            return
        payload = _payload(body)
        if claim.delivery is None or claim.event is None or payload is None:
            await self._refuse(scope, send, claim, "malformed", status=400, message="Bad Request")
            return
        delivery = Delivery(id=claim.delivery, event=claim.event, payload=payload, received_at=self._clock())
        await self._take(scope, send, claim, delivery, body_key=f"sha256:{hashlib.sha256(body).hexdigest()}")

    async def _take(self, scope: Scope, send: Send, claim: _Claim, delivery: Delivery, body_key: str) -> None:
        try:
            first = await self.deliveries.remember(delivery.id, window_s=self._replay_window_s)
            first = first and await self.deliveries.remember(body_key, window_s=self._replay_window_s)
        except StateUnavailable:
            self._count(claim, "unavailable")
            log.error("state database failed; refusing the delivery", exc_info=True)
            await send_unavailable(scope, send, message="Service Unavailable")
            return
        if not first:
            await self._audit(scope, claim, "replayed", repeating=True)
            self._count(claim, "replayed")
            await _send_json(scope, send, 200, {"status": "duplicate", "delivery": delivery.id})
            return
        if not self.queue.offer(delivery):
            await self._forget(delivery.id, body_key)
            await self._audit(scope, claim, "dropped", event="webhook_dropped")
            self._count(claim, "dropped")
            await send_unavailable(scope, send, message="Service Unavailable")
            return
        self._count(claim, "accepted")
        log.info("webhook delivery accepted", extra={"delivery": delivery.id, "gitea_event": delivery.event})
        await _send_json(scope, send, 202, {"status": "accepted", "delivery": delivery.id})

    async def _read_body(self, scope: Scope, receive: Receive, send: Send, claim: _Claim) -> bytes | None:
        """The whole body within the deadline and the bound, or None once the request is answered."""
        declared = _values(scope, b"content-length")
        if declared and declared[0].isdigit() and int(declared[0]) > self._max_body_bytes:
            body = None
        else:
            try:
                async with asyncio.timeout(self._body_timeout_s):
                    body = await read_body(receive, self._max_body_bytes)
            except TimeoutError:
                await self._refuse(
                    scope,
                    send,
                    claim,
                    "timeout",
                    status=408,
                    message="Request Timeout",
                    headers=CLOSE_CONNECTION,
                )
                return None
            except ClientGone:
                return None
        if body is None:
            await self._refuse(
                scope,
                send,
                claim,
                "oversized",
                status=413,
                message="Payload Too Large",
                headers=CLOSE_CONNECTION,
            )
        return body

    async def _refuse_forgery(
        self, scope: Scope, send: Send, claim: _Claim, subject: str, outcome: str
    ) -> None:
        """Unsigned or forged: a failed authentication of its address, as a bad key is."""
        try:
            await self._throttle.record_failure(subject)
        except LimitBackendError:
            self._metrics.limit_backend_errors.inc()
            log.error("auth throttle backend failed to count a failure", exc_info=True)
        await self._refuse(scope, send, claim, outcome, status=401, message="Unauthorized")

    async def _refuse(
        self,
        scope: Scope,
        send: Send,
        claim: _Claim,
        outcome: str,
        *,
        status: int,
        message: str,
        headers: list[tuple[bytes, bytes]] | None = None,
    ) -> None:
        await self._audit(scope, claim, outcome, repeating=True)
        self._count(claim, outcome)
        await send_json_error(scope, send, status=status, message=message, headers=headers)

    async def _audit(
        self,
        scope: Scope,
        claim: _Claim,
        outcome: str,
        *,
        event: str = "webhook_refused",
        repeating: bool = False,
    ) -> None:
        await self._events.record(
            event,
            scope=scope,
            reason=f"webhook.{outcome}",
            repeating=repeating,
            detail={"webhook": {"delivery": claim.delivery, "event": claim.event}},
        )

    async def _forget(self, *keys: str) -> None:
        try:
            for key in keys:
                await self.deliveries.forget(key)
        except StateUnavailable:
            log.error("state database failed; a dropped delivery stays remembered", exc_info=True)

    def _count(self, claim: _Claim, outcome: str) -> None:
        self._metrics.webhook_deliveries.labels(event=claim.label, outcome=outcome).inc()


class _Claim:
    """What a delivery's headers say it is, each None unless present once and well-formed. Not covered
    by the signature: recorded for the audit, trusted only once the body verifies."""

    def __init__(self, delivery: str | None, event: str | None) -> None:
        self.delivery = delivery
        self.event = event

    @classmethod
    def of(cls, scope: Scope) -> _Claim:
        return cls(_header(scope, b"x-gitea-delivery", _DELIVERY), _header(scope, b"x-gitea-event", _EVENT))

    @property
    def label(self) -> str:
        if self.event is None:
            return "unknown"
        return self.event if self.event in GITEA_EVENTS else "other"


def _values(scope: Scope, name: bytes) -> list[bytes]:
    return [value for key, value in scope["headers"] if key == name]


def _header(scope: Scope, name: bytes, pattern: re.Pattern[str]) -> str | None:
    values = _values(scope, name)
    if len(values) != 1:
        return None
    value = values[0].decode("latin-1")
    return value if pattern.fullmatch(value) else None


def _payload(body: bytes) -> dict[str, Any] | None:
    """The body as one JSON object (strict: UTF-8, no duplicate keys, no NaN), or None."""
    try:
        document = strict_loads(body)
    except (ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


async def _send_json(scope: Scope, send: Send, status: int, document: dict[str, Any]) -> None:
    body = json.dumps({**document, "request_id": request_id_of(scope)}).encode("utf-8")
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
