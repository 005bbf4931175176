"""The Starlette app: /mcp, /metrics, /healthz, /readyz, and the lifecycle of OPA and the clients.

Example:
    app = create_app(Settings.from_env(os.environ))
    uvicorn.run(app, host="127.0.0.1", port=8080)
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

from policy_compiler import BundleInfo, build_bundle
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.audit import AuditLog
from gateway.config import Settings
from gateway.core.service import ToolService
from gateway.edge.auth import ApiKeyAuthMiddleware
from gateway.edge.keys import KeyStore
from gateway.edge.origin import HostOriginMiddleware
from gateway.errors import OpaError
from gateway.gitea import GiteaClient
from gateway.mcp import McpEndpoint
from gateway.observability.access import AccessLogMiddleware
from gateway.observability.metrics import Metrics
from gateway.observability.request_id import RequestIdMiddleware
from gateway.opa import DecisionClient, ManagedOpa
from gateway.tools import default_registry

MCP_PATH = "/mcp"
ROUTES = frozenset({MCP_PATH, "/metrics", "/healthz", "/readyz"})
log = logging.getLogger(__name__)


class _OpaState:
    """Where decisions come from: a managed OPA serving our bundle, or a configured sidecar."""

    def __init__(self, settings: Settings, metrics: Metrics, workdir: Path) -> None:
        self.managed: ManagedOpa | None = None
        self.bundle: BundleInfo | None = None
        self._verified_revision: str | None = None
        if settings.opa_url:
            self.client = DecisionClient(
                base_url=settings.opa_url, timeout_s=settings.opa_timeout_s, metrics=metrics
            )
            self.revision = "unknown"
        else:
            self.bundle = build_bundle(settings.policy_path, workdir / "bundle.tar.gz")
            self.managed = ManagedOpa(opa_bin=settings.opa_bin, bundle=self.bundle.path, workdir=workdir)
            self.client = DecisionClient(
                base_url=self.managed.base_url,
                unix_socket=self.managed.socket_path,
                timeout_s=settings.opa_timeout_s,
                metrics=metrics,
            )
            self.revision = self.bundle.revision

    async def refresh(self) -> bool:
        """Ready when OPA serves a bundle whose policy data verified; a sidecar's bundle is verified again
        whenever its revision changes."""
        if not await self.client.is_ready():
            return False
        if self.managed is None:
            revisions = await self.client.bundle_revisions()
            if not revisions:
                return False
            self.revision = ",".join(f"{name}={rev}" for name, rev in sorted(revisions.items()))
        if self._verified_revision != self.revision:
            verified = await self.client.verify_policy()
            self._verified_revision = self.revision if verified else None
        return self._verified_revision == self.revision


def create_app(settings: Settings) -> Starlette:
    """Build the app; raises ConfigError (or PolicyError) for anything that would make it unsafe to run."""
    gitea_url = settings.require_upstream()
    metrics = Metrics.create()
    keys = KeyStore(settings.keys_file)
    workdir = Path(tempfile.mkdtemp(prefix="aegis-"))
    try:
        opa = _OpaState(settings, metrics, workdir)
        audit = AuditLog.open(settings.audit_log, fsync=settings.audit_fsync)
    except Exception:
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    gitea = GiteaClient(base_url=gitea_url, token=settings.gitea_token, timeout_s=settings.gitea_timeout_s)
    service = ToolService(
        registry=default_registry(),
        decisions=opa.client,
        gitea=gitea,
        audit=audit,
        metrics=metrics,
        write_mode=settings.write_mode,
        bundle_revision=lambda: opa.revision,
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        try:
            if opa.managed is not None:
                await opa.managed.start()
            ready = await opa.refresh()
            if opa.managed is not None and not ready:
                raise OpaError(
                    "the managed OPA does not accept the compiled policy (policy_valid is not true)"
                )
            metrics.opa_ready.set(1 if ready else 0)
            log.info(
                "aegis ready", extra={"bundle_revision": opa.revision, "write_mode": settings.write_mode}
            )
            yield
        finally:
            if opa.managed is not None:
                await opa.managed.stop()
            await opa.client.aclose()
            await gitea.aclose()
            audit.close()
            shutil.rmtree(workdir, ignore_errors=True)

    async def readyz(request: Request) -> Response:
        ready = await opa.refresh()
        metrics.opa_ready.set(1 if ready else 0)
        body = {"status": "ready" if ready else "not ready", "bundle_revision": opa.revision}
        return JSONResponse(body, status_code=200 if ready else 503)

    async def healthz(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def metrics_endpoint(request: Request) -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    protected = (MCP_PATH,)
    return Starlette(
        routes=[
            Route(MCP_PATH, McpEndpoint(handler=service, max_body_bytes=settings.max_body_bytes)),
            Route("/metrics", metrics_endpoint, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ],
        middleware=[
            Middleware(RequestIdMiddleware),
            Middleware(AccessLogMiddleware, metrics=metrics, routes=ROUTES),
            Middleware(
                HostOriginMiddleware,
                bind_host=settings.bind_host,
                allowed_hosts=settings.allowed_hosts,
                allowed_origins=settings.allowed_origins,
                protected=protected,
            ),
            Middleware(ApiKeyAuthMiddleware, keys=keys, metrics=metrics, protected=protected),
        ],
        lifespan=lifespan,
    )
