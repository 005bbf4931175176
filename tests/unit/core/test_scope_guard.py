"""The core's own scope check: whatever a bundle decides, a key runs only tools its scopes cover."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any

from gateway.errors import UpstreamError
from gateway.opa import Decision, Reason
from gateway.tools import Tool, ToolCall, ToolOutput
from gateway.vocabulary import HeldForApproval, Resource
from tests.unit.core.harness import READER, WRITER, context, service_over


def write_tool(run: Callable[[ToolCall], Awaitable[ToolOutput]]) -> Tool:
    """A write tool of this test's, without a repository, that runs `run`."""
    return Tool(
        name="write_something",
        title="Write",
        description="A write tool for this test.",
        capability="write",
        run=run,
        repo_scoped=False,
    )


class CarelessBundle:
    """A decider that allows everything, as a bundle without the scope check would."""

    async def decide(self, opa_input: Mapping[str, Any]) -> Decision:
        allow = Reason(rule="tools.allow[0]", effect="allow", source="policy.yaml:3")
        return Decision(allow=True, reasons=(allow,), decision_id="d", obligations={"secrets": "mask"})

    async def visible_tools(self, opa_input: Mapping[str, Any]) -> frozenset[str]:
        return frozenset(name["name"] for name in opa_input["tools"])

    async def allowed_paths(self, opa_input: Mapping[str, Any], *, revision: str | None) -> frozenset[str]:
        return frozenset()

    async def allowed_repos(self, opa_input: Mapping[str, Any], *, revision: str | None) -> frozenset[str]:
        return frozenset()


async def test_a_read_key_cannot_run_a_write_tool_that_opa_allowed(tmp_path: Path) -> None:
    runs: list[Resource] = []

    async def write_something(call: ToolCall) -> ToolOutput:
        runs.append(call.resource)
        return ToolOutput({"written": True})

    tool = write_tool(write_something)
    async with service_over(tmp_path, tool, CarelessBundle()) as service:
        refused = await service.call_tool(context(READER, "r1"), tool.name, {})
        allowed = await service.call_tool(context(WRITER, "r2"), tool.name, {})
    assert refused["isError"] is True
    assert refused["structuredContent"]["reasons"] == [
        {"rule": "opa.scope_missing", "effect": "deny", "source": "gateway"}
    ]
    assert allowed["isError"] is False and len(runs) == 1  # only the writer's call ran


class ApprovingBundle(CarelessBundle):
    """Allows everything, holding each call for a human's approval."""

    async def decide(self, opa_input: Mapping[str, Any]) -> Decision:
        allow = Reason(rule="write.require_approval[0]", effect="allow", source="policy.yaml:5")
        obligations = {"secrets": "mask", "require_approval": True}
        return Decision(allow=True, reasons=(allow,), decision_id="d", obligations=obligations, revision="r")


async def test_an_approval_is_used_up_only_by_a_write_gitea_accepted(tmp_path: Path) -> None:
    attempts: list[int] = []

    async def refused_then_written(call: ToolCall) -> ToolOutput:
        attempts.append(1)
        if len(attempts) == 1:
            raise UpstreamError("forbidden", 403)  # a token without write scope, say
        return ToolOutput({"written": True}, upstream={"issue": 7})

    tool = write_tool(refused_then_written)
    async with service_over(tmp_path, tool, ApprovingBundle()) as service:
        held = await service.call_tool(context(WRITER, "r1"), tool.name, {})
        assert isinstance(held, HeldForApproval)
        await service._writes._approvals.decide(held.approval_id, approve=True, approver="alice")
        refused = await service.call_tool(context(WRITER, "r2"), tool.name, {})
        retried = await service.call_tool(context(WRITER, "r3"), tool.name, {})
        again = await service.call_tool(context(WRITER, "r4"), tool.name, {})
    assert refused["isError"] is True and "forbidden" in refused["content"][0]["text"]
    assert retried["isError"] is False and len(attempts) == 2  # the same approval ran the retry
    assert isinstance(again, HeldForApproval) and again.approval_id != held.approval_id  # used up: asked anew


async def test_an_approval_stays_used_when_gitea_refuses_after_part_of_a_write(tmp_path: Path) -> None:
    """Gitea's issue edit saves the title, then answers 412 when the issue cannot be closed: something was
    written, so the approval is not given back for a replay."""
    written: list[int] = []

    async def edit_then_refused(call: ToolCall) -> ToolOutput:
        written.append(1)
        raise UpstreamError("error", 412)

    tool = write_tool(edit_then_refused)
    async with service_over(tmp_path, tool, ApprovingBundle()) as service:
        held = await service.call_tool(context(WRITER, "r1"), tool.name, {})
        assert isinstance(held, HeldForApproval)
        await service._writes._approvals.decide(held.approval_id, approve=True, approver="alice")
        await service.call_tool(context(WRITER, "r2"), tool.name, {})
        replay = await service.call_tool(context(WRITER, "r3"), tool.name, {})
    assert len(written) == 1  # one approval, one write
    assert isinstance(replay, HeldForApproval) and replay.result["structuredContent"]["pending_approval"]
