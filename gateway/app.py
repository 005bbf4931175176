"""The Starlette app: /mcp, /admin/* (the decision explorer too), /hooks/gitea (with a webhook secret),
/metrics, /healthz, /readyz, and the lifecycle of OPA, the clients, the state database and the
automation workers.

Example:
    app = create_app(Settings.from_env(os.environ))
    uvicorn.run(app, host="127.0.0.1", port=8080)
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import logging
import os
import secrets
import signal
import socket
import threading
from collections.abc import AsyncIterator, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.admin_api import ADMIN_PATHS, ADMIN_SCOPE, admin_routes
from gateway.audit import AUDIT_RETRY_S, AuditLog
from gateway.automation import (
    WEBHOOK_PATH,
    CronSchedule,
    DeliveryHandler,
    DeliveryQueue,
    JobRunner,
    ScheduledJob,
    Scheduler,
    ScheduleTrigger,
    WebhookReceiver,
    WebhookTrigger,
    load_jobs,
    scheduler_wanted,
)
from gateway.config import Settings
from gateway.core.approvals import Approvers
from gateway.core.request_state import RequestStates
from gateway.core.results import OutputBounds
from gateway.core.rollback import Rollbacks
from gateway.core.service import ToolService
from gateway.core.writes import WriteGate
from gateway.edge.auth import ApiKeyAuthMiddleware
from gateway.edge.body import BodyDeadlineMiddleware
from gateway.edge.events import SecurityEvents
from gateway.edge.forwarded import TrustedProxyMiddleware
from gateway.edge.headers import RequestHeadMiddleware
from gateway.edge.inflight import InFlightLimitMiddleware
from gateway.edge.limits import Bucket, LimitBackend
from gateway.edge.origin import HostOriginMiddleware
from gateway.edge.ratelimit import RateLimitMiddleware
from gateway.edge.responses import json_error_handler
from gateway.edge.throttle import AuthFailureThrottle
from gateway.errors import ConfigError, LimitBackendError
from gateway.explorer import EXPLORER_PATHS, Explorer
from gateway.mcp import McpEndpoint
from gateway.observability.access import AccessLogMiddleware
from gateway.observability.metrics import Metrics
from gateway.observability.request_id import RequestIdMiddleware
from gateway.parts import Parts, build_parts
from gateway.state import (
    ApprovalStore,
    PolicyArchive,
    ScheduleLeases,
    SnapshotStore,
    WebhookDeliveries,
    WriteQuotas,
)
from gateway.tools import ToolRegistry, default_registry

MCP_PATH = "/mcp"
ROUTES = frozenset({MCP_PATH, *ADMIN_PATHS, *EXPLORER_PATHS, "/metrics", "/healthz", "/readyz"})
SCHEDULED_RUN_GRACE_S = 60.0
log = logging.getLogger(__name__)


def create_app(settings: Settings, parts: Parts | None = None) -> Starlette:
    """Build the app on `parts` (build_parts(settings) when none are given: the real key store, OPA,
    state database, audit log and Gitea client); raises ConfigError (or PolicyError) for anything that
    would make it unsafe to run. The app's lifespan starts the parts and closes them."""
    parts = parts or build_parts(settings)
    metrics, keys, limits, opa = parts.metrics, parts.keys, parts.limits, parts.decisions
    state, audit, gitea = parts.state, parts.audit, parts.gitea
    events = SecurityEvents(audit=audit, metrics=metrics)
    approvals = ApprovalStore(state, ttl_s=settings.approval_ttl_s)
    snapshots = SnapshotStore(state)
    if settings.state_url and not settings.request_state_key:
        log.warning(
            "AEGIS_REQUEST_STATE_KEY is not set: a held call's requestState opens only on the replica that"
            " sealed it; give every replica the same key"
        )
    registry = default_registry()
    service = ToolService(
        registry=registry,
        decisions=opa,
        gitea=gitea,
        audit=audit,
        metrics=metrics,
        write_mode=settings.write_mode,
        output_bounds=OutputBounds(max_bytes=settings.max_output_bytes, max_items=settings.max_output_items),
        request_states=RequestStates(
            key=(settings.request_state_key or "").encode("utf-8") or secrets.token_bytes(32),
            ttl_s=settings.request_state_ttl_s,
        ),
        writes=WriteGate(
            approvals=approvals,
            quotas=WriteQuotas(state),
            snapshots=snapshots,
            default_quota=settings.write_quota,
        ),
    )
    admin = admin_routes(
        Approvers(store=approvals, audit=audit),
        Rollbacks(audit=audit, snapshots=snapshots, gitea=gitea),
    )
    throttle = AuthFailureThrottle(
        backend=limits, limit=settings.auth_failure_limit, window_s=settings.auth_failure_window_s
    )
    explorer = Explorer(
        audit_log=settings.audit_log,
        archive=PolicyArchive(state),
        keys=keys,
        throttle=throttle,
        events=events,
        body_timeout_s=settings.body_timeout_s,
    )
    runner = _job_runner(settings, registry, service, parts)
    handle = runner.handle if runner is not None else parts.handle_delivery
    hooks = _gitea_webhooks(settings, parts, handle, events=events, throttle=throttle)
    scheduler = _scheduler(settings, runner, parts)
    hook_paths = (WEBHOOK_PATH,) if hooks is not None else ()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        upkeep = asyncio.create_task(_maintain_audit(audit, metrics))
        try:
            with _sighup_followed(audit):
                await parts.start()
                if hooks is not None:
                    hooks.queue.start()
                if scheduler is not None:
                    scheduler.start()
                metrics.opa_ready.set(1 if await opa.refresh() else 0)
                metrics.audit_usable.set(1)
                log.info(
                    "aegis ready", extra={"bundle_revision": opa.revision, "write_mode": settings.write_mode}
                )
                yield
        finally:
            upkeep.cancel()
            if scheduler is not None:  # before the parts close: a run still going uses them
                await scheduler.stop()
            if hooks is not None:
                await hooks.queue.stop()
            await parts.aclose()

    async def readyz(request: Request) -> Response:
        opa_ready = await opa.refresh()
        metrics.opa_ready.set(1 if opa_ready else 0)
        audit_usable = audit.recover()
        metrics.audit_usable.set(1 if audit_usable else 0)
        limits_reachable = await _limits_reachable(limits)
        state_reachable = await state.ping()
        ready = opa_ready and audit_usable and limits_reachable and state_reachable
        body = {
            "status": "ready" if ready else "not ready",
            "bundle_revision": opa.revision,
            "checks": {
                "opa": "ready" if opa_ready else "not ready",
                "audit_log": "writable" if audit_usable else "unusable",
                "limits": "reachable" if limits_reachable else "unreachable",
                "state": "reachable" if state_reachable else "unreachable",
            },
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics_endpoint(request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    protected = (MCP_PATH, *ADMIN_PATHS)
    # The explorer authenticates its own sessions (a browser sends no bearer key), and the webhook
    # receiver each delivery by its signature (Gitea sends no key): the Host/Origin check and the
    # per-address budget apply to them as to every protected path.
    pages = (*protected, *EXPLORER_PATHS, *hook_paths)
    metadata_routes = parts.oauth.metadata.routes() if parts.oauth else []
    return Starlette(
        routes=[
            Route(MCP_PATH, McpEndpoint(handler=service, max_body_bytes=settings.max_body_bytes)),
            *admin,
            *explorer.routes(),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
            *metadata_routes,  # public, as RFC 9728 wants it
            *([Route(WEBHOOK_PATH, hooks, methods=["POST"])] if hooks is not None else []),
        ],
        middleware=[
            Middleware(TrustedProxyMiddleware, trusted=settings.trusted_proxies),
            Middleware(RequestIdMiddleware),
            Middleware(
                AccessLogMiddleware,
                metrics=metrics,
                routes=ROUTES
                | frozenset(parts.oauth.metadata.paths if parts.oauth else ())
                | frozenset(hook_paths),
            ),
            Middleware(RequestHeadMiddleware, max_headers=settings.max_headers),
            Middleware(
                HostOriginMiddleware,
                bind_host=settings.bind_host,
                allowed_hosts=settings.allowed_hosts,
                allowed_origins=settings.allowed_origins,
                protected=pages,
                events=events,
            ),
            Middleware(
                RateLimitMiddleware,
                per="ip",
                default=Bucket(rate_per_s=settings.ip_rate_per_s, burst=settings.ip_burst),
                backend=limits,
                events=events,
                metrics=metrics,
                protected=pages,
            ),
            Middleware(
                ApiKeyAuthMiddleware,
                keys=keys,
                throttle=throttle,
                events=events,
                metrics=metrics,
                protected=protected,
                oauth=parts.oauth,
                required_scopes={MCP_PATH: "tools:read", **dict.fromkeys(ADMIN_PATHS, ADMIN_SCOPE)},
            ),
            Middleware(
                RateLimitMiddleware,
                per="key",
                default=Bucket(rate_per_s=settings.key_rate_per_s, burst=settings.key_burst),
                backend=limits,
                events=events,
                metrics=metrics,
                protected=protected,
            ),
            # Last: a request counts as in flight only once its whole body is in.
            Middleware(
                BodyDeadlineMiddleware,
                timeout_s=settings.body_timeout_s,
                max_bytes=settings.max_body_bytes,
                events=events,
                protected=protected,
            ),
            Middleware(
                InFlightLimitMiddleware,
                max_in_flight=settings.max_in_flight,
                max_per_key=settings.max_in_flight_per_key,
                events=events,
                metrics=metrics,
                protected=protected,
            ),
        ],
        exception_handlers={404: json_error_handler, 405: json_error_handler, Exception: json_error_handler},
        lifespan=lifespan,
    )


def _job_runner(
    settings: Settings, registry: ToolRegistry, service: ToolService, parts: Parts
) -> JobRunner | None:
    """The runner of the jobs in AEGIS_JOBS, None without it; raises JobsError (a ConfigError) for an
    invalid file, and ConfigError for webhook jobs that no receiver could ever start."""
    if settings.jobs_path is None:
        return None
    jobs = load_jobs(settings.jobs_path, known_tools={bound.tool.name for bound in registry})
    hooked = [job.name for job in jobs if isinstance(job.trigger, WebhookTrigger)]
    if hooked and settings.webhook_secret is None:
        raise ConfigError(
            f"jobs {', '.join(hooked)} are started by Gitea webhooks, which need AEGIS_WEBHOOK_SECRET_FILE"
        )
    log.info("automation jobs loaded", extra={"jobs": [job.name for job in jobs]})
    return JobRunner(jobs, tools=service, audit=parts.audit, metrics=parts.metrics)


def _scheduler(settings: Settings, runner: JobRunner | None, parts: Parts) -> Scheduler | None:
    """The scheduler of the scheduled jobs, None when there are none or AEGIS_SCHEDULER is off. Its
    timeout is the job's own plus a grace: the runner starts no step after the job's timeout, and the
    scheduler cancels a run only when a step outlives it by the grace too."""
    scheduled = [
        ScheduledJob(
            name=job.name,
            schedule=CronSchedule.parse(job.trigger.cron),
            missed=job.trigger.missed,
            jitter_s=job.trigger.jitter_s,
            timeout_s=job.timeout_s + SCHEDULED_RUN_GRACE_S,
        )
        for job in (runner.scheduled if runner is not None else [])
        if isinstance(job.trigger, ScheduleTrigger)
    ]
    if runner is None or not scheduler_wanted(settings.scheduler, scheduled):
        return None

    async def run(name: str, slot: datetime.datetime) -> None:
        await runner.on_slot(name, slot)

    holder = settings.replica_id or f"{socket.gethostname()}:{os.getpid()}"
    return Scheduler(scheduled, ScheduleLeases(parts.state), run, holder=holder, metrics=parts.metrics)


def _gitea_webhooks(
    settings: Settings,
    parts: Parts,
    handle: DeliveryHandler,
    *,
    events: SecurityEvents,
    throttle: AuthFailureThrottle,
) -> WebhookReceiver | None:
    """The webhook receiver, its replay memory and its queue, whose workers hand accepted deliveries
    to `handle`; None without a webhook secret (then /hooks/gitea does not exist)."""
    if settings.webhook_secret is None:
        return None
    return WebhookReceiver(
        secret=settings.webhook_secret,
        deliveries=WebhookDeliveries(parts.state),
        queue=DeliveryQueue(
            capacity=settings.automation_queue,
            workers=settings.automation_workers,
            handle=handle,
            metrics=parts.metrics,
        ),
        events=events,
        throttle=throttle,
        metrics=parts.metrics,
        max_body_bytes=settings.webhook_max_body_bytes,
        body_timeout_s=settings.body_timeout_s,
        replay_window_s=settings.webhook_replay_window_s,
    )


@contextlib.contextmanager
def _sighup_followed(audit: AuditLog) -> Iterator[None]:
    """SIGHUP (logrotate's signal) makes the audit log follow its path, and never stops the gateway.
    Only the main thread can take signals: an app run in a test's thread goes without."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, audit.reopen)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGHUP)


async def _maintain_audit(audit: AuditLog, metrics: Metrics) -> None:
    """Retry an unusable audit log until the disk has room again, follow it when moved, rotate it and
    sign checkpoints when due, whether or not calls arrive."""
    while True:
        await asyncio.sleep(AUDIT_RETRY_S)
        try:
            metrics.audit_usable.set(1 if audit.maintain() else 0)
        except Exception:  # the next tick tries again: upkeep must never stop for good
            log.critical("audit upkeep failed", exc_info=True)


async def _limits_reachable(limits: LimitBackend) -> bool:
    try:
        await limits.ping()
    except LimitBackendError:
        return False
    return True
