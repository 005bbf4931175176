"""The core's own scope check: whatever a bundle decides, a key runs only tools its scopes cover."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway.audit import AuditLog
from gateway.config import DEFAULT_WRITE_QUOTA
from gateway.core.normalize import Resource
from gateway.core.principal import Principal
from gateway.core.results import OutputBounds
from gateway.core.service import ToolService
from gateway.core.writes import WriteGate
from gateway.gitea import GiteaClient
from gateway.mcp import CallContext
from gateway.observability.metrics import Metrics
from gateway.opa import Decision, Reason
from gateway.state import ApprovalStore, SnapshotStore, StateDB, WriteQuotas
from gateway.tools import Tool, ToolOutput, ToolRegistry


class CarelessBundle:
    """A decider that allows everything, as a bundle without the scope check would."""

    async def decide(self, opa_input: Mapping[str, Any]) -> Decision:
        allow = Reason(rule="tools.allow[0]", effect="allow", source="policy.yaml:3")
        return Decision(allow=True, reasons=(allow,), decision_id="d", obligations={"secrets": "mask"})

    async def visible_tools(self, opa_input: Mapping[str, Any]) -> frozenset[str]:
        return frozenset(name["name"] for name in opa_input["tools"])


async def test_a_read_key_cannot_run_a_write_tool_that_opa_allowed(tmp_path: Path) -> None:
    runs: list[Resource] = []

    async def write_something(gitea: GiteaClient, resource: Resource, args: Mapping[str, Any]) -> ToolOutput:
        runs.append(resource)
        return ToolOutput({"written": True})

    schema = {"type": "object", "properties": {}, "additionalProperties": False}
    (tmp_path / "write_something.json").write_text(json.dumps(schema))
    tool = Tool(
        name="write_something",
        title="Write",
        description="A write tool for this test.",
        capability="write",
        run=write_something,
        repo_scoped=False,
    )
    audit = AuditLog.open(tmp_path / "audit.jsonl", fsync=False)
    state = StateDB.open(tmp_path / "state.db")
    service = ToolService(
        registry=ToolRegistry([tool], tmp_path),
        decisions=CarelessBundle(),
        gitea=GiteaClient(base_url="http://127.0.0.1:9", token=None, timeout_s=1),
        audit=audit,
        metrics=Metrics.create(),
        write_mode=True,
        output_bounds=OutputBounds(max_bytes=1 << 20, max_items=100),
        writes=WriteGate(
            approvals=ApprovalStore(state, ttl_s=60),
            quotas=WriteQuotas(state),
            snapshots=SnapshotStore(state),
            default_quota=DEFAULT_WRITE_QUOTA,
        ),
    )
    reader = Principal(id="reader", kind="api_key", scopes=("tools:read",))
    writer = Principal(id="writer", kind="api_key", scopes=("tools:read", "tools:write"))
    refused = await service.call_tool(
        CallContext(principal=reader, request_id="r1", client_ip=None), tool.name, {}
    )
    allowed = await service.call_tool(
        CallContext(principal=writer, request_id="r2", client_ip=None), tool.name, {}
    )
    audit.close()
    state.close()
    assert refused["isError"] is True
    assert refused["structuredContent"]["reasons"] == [
        {"rule": "opa.scope_missing", "effect": "deny", "source": "gateway"}
    ]
    assert allowed["isError"] is False and len(runs) == 1  # only the writer's call ran
