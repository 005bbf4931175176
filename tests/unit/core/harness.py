"""A ToolService over one tool and a scripted decider, with a real audit log and state database."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from gateway.audit import AuditLog
from gateway.config import DEFAULT_WRITE_QUOTA
from gateway.core.request_state import RequestStates
from gateway.core.results import OutputBounds
from gateway.core.service import Decider, ToolService
from gateway.core.writes import WriteGate
from gateway.gitea import GiteaClient
from gateway.observability.metrics import Metrics
from gateway.state import ApprovalStore, SnapshotStore, SqliteDatabase, WriteQuotas, migrate
from gateway.tools import Tool, ToolRegistry
from gateway.vocabulary import CallContext, Principal

READER = Principal(id="reader", kind="api_key", scopes=("tools:read",))
STATE_KEY = b"a test key that seals request states"
WRITER = Principal(id="writer", kind="api_key", scopes=("tools:read", "tools:write"))


@contextlib.asynccontextmanager
async def service_over(
    tmp_path: Path, tool: Tool, decider: Decider, *, properties: dict[str, Any] | None = None
) -> AsyncIterator[ToolService]:
    """The service; `tool`'s schema accepts an object of `properties` (none by default). Gitea is
    unreachable: tools must not call it."""
    schema = {"type": "object", "properties": properties or {}, "additionalProperties": False}
    (tmp_path / f"{tool.name}.json").write_text(json.dumps(schema))
    audit = AuditLog.open(tmp_path / "audit.jsonl", fsync=False)
    state = SqliteDatabase.open(tmp_path / "state.db")
    await migrate(state)
    try:
        yield ToolService(
            registry=ToolRegistry([tool], tmp_path),
            decisions=decider,
            gitea=GiteaClient(base_url="http://127.0.0.1:9", token=None, timeout_s=1),
            audit=audit,
            metrics=Metrics.create(),
            write_mode=True,
            output_bounds=OutputBounds(max_bytes=1 << 20, max_items=100),
            request_states=RequestStates(key=STATE_KEY, ttl_s=60),
            writes=WriteGate(
                approvals=ApprovalStore(state, ttl_s=60),
                quotas=WriteQuotas(state),
                snapshots=SnapshotStore(state),
                default_quota=DEFAULT_WRITE_QUOTA,
            ),
        )
    finally:
        audit.close()
        await state.aclose()


def context(principal: Principal, request_id: str) -> CallContext:
    return CallContext(principal=principal, request_id=request_id, client_ip=None)


def audited(tmp_path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
