"""Automation: jobs that Gitea webhooks or a UTC cron schedule start, whose steps are tool calls made
through the core as the principal `automation:<job>` (docs/automation.md)."""

from gateway.automation._dry_run import dry_run
from gateway.automation._loader import JobsError, issues_of, load_jobs
from gateway.automation._model import Job, ScheduleTrigger, Step, WebhookTrigger
from gateway.automation._runner import JobRunner, RunReport, StepRecord, principal_of

__all__ = [
    "Job",
    "JobRunner",
    "JobsError",
    "RunReport",
    "ScheduleTrigger",
    "Step",
    "StepRecord",
    "WebhookTrigger",
    "dry_run",
    "issues_of",
    "load_jobs",
    "principal_of",
]
