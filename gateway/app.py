"""The Starlette app: /mcp, /admin/*, /metrics, /healthz, /readyz, and the lifecycle of OPA, the clients
and the state database.

Example:
    app = create_app(Settings.from_env(os.environ), metrics=Metrics.create())
    uvicorn.run(app, host="127.0.0.1", port=8080)
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
from collections.abc import AsyncIterator, Iterator

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.admin_api import ADMIN_PATHS, admin_routes
from gateway.audit import AUDIT_RETRY_S, AuditLog, Checkpointing, CheckpointSigner, Rotation
from gateway.config import Settings
from gateway.core.approvals import Approvers
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
from gateway.edge.keys import KeyStore
from gateway.edge.limits import Bucket, LimitBackend, MemoryBackend, RedisBackend
from gateway.edge.origin import HostOriginMiddleware
from gateway.edge.ratelimit import RateLimitMiddleware
from gateway.edge.responses import json_error_handler
from gateway.edge.throttle import AuthFailureThrottle
from gateway.errors import ConfigError, LimitBackendError
from gateway.gitea import CircuitBreaker, GiteaClient
from gateway.mcp import McpEndpoint
from gateway.observability.access import AccessLogMiddleware
from gateway.observability.metrics import Metrics
from gateway.observability.request_id import RequestIdMiddleware
from gateway.opa import DecisionSource
from gateway.scratch import ScratchDir
from gateway.scratch import remove_stale as remove_stale_scratch
from gateway.state import ApprovalStore, SnapshotStore, StateDB, WriteQuotas
from gateway.tools import default_registry

MCP_PATH = "/mcp"
ROUTES = frozenset({MCP_PATH, *ADMIN_PATHS, "/metrics", "/healthz", "/readyz"})
log = logging.getLogger(__name__)


def create_app(settings: Settings, *, metrics: Metrics) -> Starlette:
    """Build the app; raises ConfigError (or PolicyError) for anything that would make it unsafe to run.
    `metrics` are shared with the HTTP protocol, which counts the connections it closes early."""
    gitea_url = settings.require_upstream()
    settings.check_bind()
    keys = KeyStore(settings.keys_file)
    if not keys.has_live_key():
        raise ConfigError(f"{settings.keys_file} holds no usable key: create one with `aegis keys create`")
    limits = _limit_backend(settings)
    remove_stale_scratch()
    scratch = ScratchDir.create()
    try:
        opa = DecisionSource(settings=settings, metrics=metrics, workdir=scratch.path)
        state = StateDB.open(settings.state_db)
        audit = AuditLog.open(
            settings.audit_log,
            fsync=settings.audit_fsync,
            checkpointing=_checkpointing(settings),
            rotation=Rotation(
                max_bytes=settings.audit_rotate_bytes,
                max_age_s=settings.audit_rotate_s,
                retain_segments=settings.audit_retain_segments,
                retain_s=settings.audit_retain_s,
            ),
        )
    except Exception:
        scratch.remove()
        raise
    breaker = CircuitBreaker(
        failure_threshold=settings.breaker_failures,
        cooldown_s=settings.breaker_cooldown_s,
        on_change=lambda is_open: metrics.gitea_circuit_open.set(1 if is_open else 0),
    )
    gitea = GiteaClient(
        base_url=gitea_url, token=settings.gitea_token, timeout_s=settings.gitea_timeout_s, breaker=breaker
    )
    events = SecurityEvents(audit=audit, metrics=metrics)
    approvals = ApprovalStore(state, ttl_s=settings.approval_ttl_s)
    snapshots = SnapshotStore(state)
    service = ToolService(
        registry=default_registry(),
        decisions=opa,
        gitea=gitea,
        audit=audit,
        metrics=metrics,
        write_mode=settings.write_mode,
        output_bounds=OutputBounds(max_bytes=settings.max_output_bytes, max_items=settings.max_output_items),
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

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        upkeep = asyncio.create_task(_maintain_audit(audit, metrics))
        try:
            with _sighup_followed(audit):
                await limits.ping()  # a shared backend out of reach stops the start: nothing could be served
                await opa.start()  # a managed OPA that does not verify its policy stops start-up here
                metrics.opa_ready.set(1 if await opa.refresh() else 0)
                metrics.audit_usable.set(1)
                log.info(
                    "aegis ready", extra={"bundle_revision": opa.revision, "write_mode": settings.write_mode}
                )
                yield
        finally:
            upkeep.cancel()
            await opa.stop()
            await gitea.aclose()
            await limits.aclose()
            audit.close()
            state.close()
            scratch.remove()

    async def readyz(request: Request) -> Response:
        opa_ready = await opa.refresh()
        metrics.opa_ready.set(1 if opa_ready else 0)
        audit_usable = audit.recover()
        metrics.audit_usable.set(1 if audit_usable else 0)
        limits_reachable = await _limits_reachable(limits)
        ready = opa_ready and audit_usable and limits_reachable
        body = {
            "status": "ready" if ready else "not ready",
            "bundle_revision": opa.revision,
            "checks": {
                "opa": "ready" if opa_ready else "not ready",
                "audit_log": "writable" if audit_usable else "unusable",
                "limits": "reachable" if limits_reachable else "unreachable",
            },
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics_endpoint(request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    protected = (MCP_PATH, *ADMIN_PATHS)
    return Starlette(
        routes=[
            Route(MCP_PATH, McpEndpoint(handler=service, max_body_bytes=settings.max_body_bytes)),
            *admin,
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        middleware=[
            Middleware(TrustedProxyMiddleware, trusted=settings.trusted_proxies),
            Middleware(RequestIdMiddleware),
            Middleware(AccessLogMiddleware, metrics=metrics, routes=ROUTES),
            Middleware(RequestHeadMiddleware, max_headers=settings.max_headers),
            Middleware(
                HostOriginMiddleware,
                bind_host=settings.bind_host,
                allowed_hosts=settings.allowed_hosts,
                allowed_origins=settings.allowed_origins,
                protected=protected,
                events=events,
            ),
            Middleware(
                RateLimitMiddleware,
                per="ip",
                default=Bucket(rate_per_s=settings.ip_rate_per_s, burst=settings.ip_burst),
                backend=limits,
                events=events,
                metrics=metrics,
                protected=protected,
            ),
            Middleware(
                ApiKeyAuthMiddleware,
                keys=keys,
                throttle=AuthFailureThrottle(
                    backend=limits, limit=settings.auth_failure_limit, window_s=settings.auth_failure_window_s
                ),
                events=events,
                metrics=metrics,
                protected=protected,
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


def _limit_backend(settings: Settings) -> LimitBackend:
    if settings.limits_backend == "redis" and settings.redis_url:
        return RedisBackend.from_url(settings.redis_url)
    return MemoryBackend()


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


def _checkpointing(settings: Settings) -> Checkpointing | None:
    if settings.audit_signing_key is None:
        return None
    return Checkpointing(
        signer=CheckpointSigner.load(settings.audit_signing_key),
        sink=settings.audit_checkpoint_sink,
        every_entries=settings.audit_checkpoint_entries,
        every_s=settings.audit_checkpoint_s,
    )


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
