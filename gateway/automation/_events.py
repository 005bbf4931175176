"""What automation receives: a Gitea webhook delivery, verified and parsed, and the handler it goes to."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Delivery:
    """One accepted delivery. `event` is its X-Gitea-Event (`issues`, `issue_comment`, `pull_request`,
    `push`, ...): a header the signature does not cover, so a handler checks that `payload` has the
    shape of that event before trusting either. `received_at` is wall-clock time (time.time())."""

    id: str
    event: str
    payload: dict[str, Any]
    received_at: float


DeliveryHandler = Callable[[Delivery], Awaitable[None]]


async def no_automation_jobs(delivery: Delivery) -> None:
    """The handler until jobs are configured: the delivery is logged, and nothing runs."""
    log.info("no automation jobs configured", extra={"delivery": delivery.id, "gitea_event": delivery.event})
