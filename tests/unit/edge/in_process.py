"""The gateway's app driven in process: the real edge, MCP layer, core, key store, limits and audit log,
with an engine that decides without OPA and a Gitea client that is never reached. For the logic of the
edge; the end-to-end tests prove the same wiring with real processes.

Example:
    async with running_app(tmp_path, {"AEGIS_IP_RATE": "0.1"}) as gateway:
        response = await gateway.post(PING, key=gateway.key)
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
from prometheus_client import generate_latest

from gateway.app import create_app
from gateway.audit import AuditLog
from gateway.automation import DeliveryHandler, no_automation_jobs
from gateway.config import Settings
from gateway.edge.keys import KeyRateLimit, KeyStore, create_key
from gateway.edge.limits import MemoryBackend
from gateway.edge.oauth import OAuthResourceServer
from gateway.gitea import GiteaClient
from gateway.observability.metrics import Metrics
from gateway.opa import Decision
from gateway.parts import Parts
from gateway.state import SqliteDatabase

PING = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
LIST_TOOLS = {"jsonrpc": "2.0", "id": 2, "method": "tools/list"}
UNREACHABLE_GITEA = "http://127.0.0.1:9"


class Engine:
    """Decides without OPA: everything is allowed and every tool visible. While `held` is set, tools/list
    waits for it to clear, so that a test can keep requests in flight."""

    revision = "in-process"

    def __init__(self) -> None:
        self.held = asyncio.Event()
        self.released = asyncio.Event()

    async def start(self) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def refresh(self) -> bool:
        return True

    async def decide(self, opa_input: Mapping[str, Any]) -> Decision:
        return Decision(allow=True, reasons=(), decision_id="in-process", revision=self.revision)

    async def visible_tools(self, opa_input: Mapping[str, Any]) -> frozenset[str]:
        if self.held.is_set():
            await self.released.wait()
        return frozenset(tool["name"] for tool in opa_input["tools"])

    async def allowed_paths(self, opa_input: Mapping[str, Any], *, revision: str | None) -> frozenset[str]:
        return frozenset(opa_input["items"])

    async def allowed_repos(self, opa_input: Mapping[str, Any], *, revision: str | None) -> frozenset[str]:
        return frozenset(opa_input["items"])


@dataclasses.dataclass
class InProcessGateway:
    key: str
    keys_file: Path
    audit_log: Path
    engine: Engine
    metrics: Metrics
    _app: Any

    async def post(
        self,
        message: Mapping[str, Any],
        *,
        key: str | None = None,
        client_ip: str = "127.0.0.1",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        transport = httpx.ASGITransport(app=self._app, client=(client_ip, 50000))
        sent = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
        if key is not None:
            sent["Authorization"] = f"Bearer {key}"
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
            return await http.post("/mcp", content=json.dumps(message), headers=sent)

    async def get(self, path: str, *, key: str | None = None) -> httpx.Response:
        transport = httpx.ASGITransport(app=self._app, client=("127.0.0.1", 50000))
        sent = {"Authorization": f"Bearer {key}"} if key is not None else {}
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
            return await http.get(path, headers=sent)

    async def post_hook(
        self, body: bytes, headers: Mapping[str, str], *, client_ip: str = "127.0.0.1"
    ) -> httpx.Response:
        """A Gitea webhook delivery to /hooks/gitea (`headers` as Gitea sends them, signature included)."""
        transport = httpx.ASGITransport(app=self._app, client=(client_ip, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
            return await http.post("/hooks/gitea", content=body, headers=dict(headers))

    def client(self) -> httpx.AsyncClient:
        """A client of the app as a browser on loopback would reach it (cookies kept between requests)."""
        transport = httpx.ASGITransport(app=self._app, client=("127.0.0.1", 50000))
        return httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080")

    def new_key(self, name: str, rate_limit: KeyRateLimit | None = None) -> str:
        return create_key(self.keys_file, name=name, scopes=("tools:read",), rate_limit=rate_limit)

    def metric(self, sample: str) -> float:
        """A sample of /metrics, e.g. 'aegis_rate_limited_total{per="ip"}'; 0 when it was never counted."""
        for line in generate_latest(self.metrics.registry).decode().splitlines():
            if line.startswith(sample + " "):
                return float(line.rsplit(" ", 1)[1])
        return 0.0

    def audit_events(self, event: str) -> list[dict[str, Any]]:
        entries = [json.loads(line) for line in self.audit_log.read_text().splitlines()]
        return [entry for entry in entries if entry["event"] == event]


@contextlib.asynccontextmanager
async def running_app(
    workdir: Path,
    env: Mapping[str, str] | None = None,
    *,
    oauth: OAuthResourceServer | None = None,
    handle_delivery: DeliveryHandler = no_automation_jobs,
) -> AsyncIterator[InProcessGateway]:
    """The app on in-process parts; `oauth` (with the AEGIS_OAUTH_* settings in `env`) accepts tokens,
    and `handle_delivery` takes the webhook deliveries accepted (with AEGIS_WEBHOOK_SECRET in `env`)."""
    keys_file = workdir / "keys.json"
    key = create_key(keys_file, name="agent", scopes=("tools:read",))
    settings = Settings.from_env(
        {
            "AEGIS_GITEA_URL": UNREACHABLE_GITEA,
            "AEGIS_KEYS_FILE": str(keys_file),
            "AEGIS_AUDIT_LOG": str(workdir / "audit.jsonl"),
            "AEGIS_STATE_DB": str(workdir / "state.db"),
            "AEGIS_AUDIT_FSYNC": "false",
            **(env or {}),
        }
    )
    engine, metrics = Engine(), Metrics.create()
    parts = Parts(
        metrics=metrics,
        keys=KeyStore(keys_file, reload_interval_s=0),
        limits=MemoryBackend(),
        decisions=engine,
        state=SqliteDatabase.open(settings.state_db),
        audit=AuditLog.open(settings.audit_log, fsync=False),
        gitea=GiteaClient(base_url=UNREACHABLE_GITEA, token=None, timeout_s=1),
        oauth=oauth,
        handle_delivery=handle_delivery,
    )
    app = create_app(settings, parts)
    async with app.router.lifespan_context(app):
        yield InProcessGateway(key, keys_file, settings.audit_log, engine, metrics, app)
