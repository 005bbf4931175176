"""Automation: jobs that Gitea webhooks or a UTC cron schedule start, whose steps are tool calls made
through the core as the principal `automation:<job>` (docs/automation.md). This layer sits beside edge/
and mcp/ (whose address budget, failure throttle and strict JSON parser the receiver shares) and may
import them, core/ and below.

The webhook receiver (`WebhookReceiver`, `POST /hooks/gitea`) verifies and takes on deliveries; the
`DeliveryQueue` hands each accepted `Delivery` to a `DeliveryHandler` on its worker tasks; the
`JobRunner` runs the jobs a delivery or a schedule's slot starts; the `Scheduler` claims each slot of
a scheduled job through the state database, so that replicas sharing it run each slot once.
"""

from gateway.automation._cron import CronSchedule
from gateway.automation._dry_run import dry_run
from gateway.automation._events import Delivery, DeliveryHandler, no_automation_jobs
from gateway.automation._loader import JobsError, load_jobs
from gateway.automation._model import Job, ScheduleTrigger, Step, WebhookTrigger
from gateway.automation._queue import DEFAULT_STOP_TIMEOUT_S, DeliveryQueue
from gateway.automation._runner import JobRunner, RunReport, StepRecord, principal_of
from gateway.automation._scheduler import ScheduledJob, Scheduler, scheduler_wanted
from gateway.automation._webhook import WEBHOOK_PATH, WebhookReceiver

__all__ = [
    "DEFAULT_STOP_TIMEOUT_S",
    "WEBHOOK_PATH",
    "CronSchedule",
    "Delivery",
    "DeliveryHandler",
    "DeliveryQueue",
    "Job",
    "JobRunner",
    "JobsError",
    "RunReport",
    "ScheduleTrigger",
    "ScheduledJob",
    "Scheduler",
    "Step",
    "StepRecord",
    "WebhookReceiver",
    "WebhookTrigger",
    "dry_run",
    "load_jobs",
    "no_automation_jobs",
    "principal_of",
    "scheduler_wanted",
]
