"""Automation: jobs triggered by Gitea webhooks (and schedules), whose steps are tool calls through the
same core as an agent's. This layer sits beside edge/ and mcp/ and may import core/ and below.

The webhook receiver (`WebhookReceiver`, `POST /hooks/gitea`) verifies and takes on deliveries; the
`DeliveryQueue` hands each accepted `Delivery` to a `DeliveryHandler` on its worker tasks.
"""

from gateway.automation._events import Delivery, DeliveryHandler, no_automation_jobs
from gateway.automation._queue import DEFAULT_STOP_TIMEOUT_S, DeliveryQueue
from gateway.automation._webhook import WEBHOOK_PATH, WebhookReceiver

__all__ = [
    "DEFAULT_STOP_TIMEOUT_S",
    "WEBHOOK_PATH",
    "Delivery",
    "DeliveryHandler",
    "DeliveryQueue",
    "WebhookReceiver",
    "no_automation_jobs",
]
