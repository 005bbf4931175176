"""Security events of the edge (auth failures, throttling, rate limits, overload, refused webhook
deliveries) into the audit log.

Every event is counted in metrics and logged. In the audit log, each auth failure is written; an event
that can repeat at flood rate (a throttled or rate-limited client, a forged delivery) is written once
per subject, reason and quiet period, and the next entry for them says how many were left out in
between. The audit log thus keeps a trace of every episode without letting a flood fill the disk, and
a flood of one refusal does not hide an episode of another.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from starlette.types import Scope

from gateway.audit import AuditLog, Entry
from gateway.edge._client_ip import budget_subject_of, client_ip_of
from gateway.errors import AuditWriteError
from gateway.observability.metrics import Metrics
from gateway.observability.request_id import client_request_id_of, request_id_of

DEFAULT_QUIET_S = 60.0
MAX_TRACKED_SUBJECTS = 10_000
log = logging.getLogger(__name__)


class SecurityEvents:
    def __init__(
        self,
        *,
        audit: AuditLog,
        metrics: Metrics,
        quiet_s: float = DEFAULT_QUIET_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._audit = audit
        self._metrics = metrics
        self._quiet_s = quiet_s
        self._clock = clock
        self._last_written: dict[tuple[str, str, str], tuple[float, int]] = {}  # -> (at, left out since)

    async def record(
        self,
        event: str,
        *,
        scope: Scope,
        reason: str,
        principal: str | None = None,
        repeating: bool = False,
        detail: Mapping[str, Any] | None = None,
    ) -> None:
        """Count, log and audit one event, with `detail`'s fields of its kind. `repeating` events are
        written once per quiet period per reason and subject (the principal, else the client's budget
        subject: its address, or its IPv6 /64)."""
        client_ip = client_ip_of(scope)
        self._metrics.security_events.labels(event=event).inc()
        log.warning("security event", extra={"event": event, "reason": reason, "client_ip": client_ip})
        left_out = 0
        if repeating:
            subject = (event, reason, principal or budget_subject_of(scope))
            now = self._clock()
            written_at, left_out = self._last_written.get(subject, (float("-inf"), 0))
            if now - written_at < self._quiet_s:
                self._last_written[subject] = (written_at, left_out + 1)
                return
            if len(self._last_written) >= MAX_TRACKED_SUBJECTS:
                self._last_written.clear()
            self._last_written[subject] = (now, 0)
        await self._write(
            event,
            scope,
            reason,
            principal,
            {"client_ip": client_ip, "repeats_left_out": left_out, **(detail or {})},
        )

    async def _write(
        self, event: str, scope: Scope, reason: str, principal: str | None, detail: Mapping[str, Any]
    ) -> None:
        try:
            await self._audit.append(
                Entry(
                    event=event,
                    outcome="denied",
                    request_id=request_id_of(scope),
                    client_request_id=client_request_id_of(scope),
                    principal=principal,
                    reasons=({"rule": f"edge.{reason}", "effect": "deny", "source": "edge"},),
                    detail=detail,
                )
            )
        except AuditWriteError:
            # The request is refused whatever happens; the failure itself must not be silent.
            self._metrics.audit_failures.inc()
            log.critical("audit write failed for a security event", exc_info=True)
