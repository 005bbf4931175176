"""A held call retried with its requestState: sealed, bound to the exact call, and run once only."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from gateway.core.request_state import HeldCall, RequestStates
from gateway.errors import InvalidRequestState
from gateway.opa import Decision, Reason
from gateway.tools import ToolCall, ToolOutput
from gateway.vocabulary import HeldForApproval, Principal
from tests.unit.core.harness import STATE_KEY, WRITER, audited, context, service_over
from tests.unit.core.test_scope_guard import CarelessBundle, write_tool

OTHER_WRITER = Principal(id="other-writer", kind="api_key", scopes=("tools:read", "tools:write"))
HELD = HeldCall(
    approval_id="apr_1", principal="writer", tool="write_something", args_sha256="0" * 64, revision="r"
)


class HoldingBundle(CarelessBundle):
    """Allows every call, holding it for approval, under a revision a test may change."""

    revision = "r1"

    async def decide(self, opa_input: Mapping[str, Any]) -> Decision:
        allow = Reason(rule="write.require_approval[0]", effect="allow", source="policy.yaml:5")
        obligations = {"secrets": "mask", "require_approval": True}
        return Decision(
            allow=True, reasons=(allow,), decision_id="d", obligations=obligations, revision=self.revision
        )


def resumed(principal: Principal, request_id: str, state: str) -> Any:
    return dataclasses.replace(context(principal, request_id), request_state=state)


def test_a_sealed_state_opens_to_what_was_sealed() -> None:
    states = RequestStates(key=STATE_KEY, ttl_s=60)
    assert states.open(states.seal(HELD)) == HELD


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda token: token[:-2] + ("AA" if token[-2:] != "AA" else "BB"), id="seal"),
        pytest.param(lambda token: "e30" + token[token.index(".") :], id="body"),
        pytest.param(lambda token: token.replace(".", ""), id="no-seal"),
        pytest.param(lambda token: "x" * 5000, id="oversized"),
        pytest.param(lambda token: "é." + token.split(".")[1], id="not-ascii"),
    ],
)
def test_a_tampered_state_is_refused(tamper: Any) -> None:
    states = RequestStates(key=STATE_KEY, ttl_s=60)
    with pytest.raises(InvalidRequestState):
        states.open(tamper(states.seal(HELD)))


def test_a_state_of_another_key_says_so_and_an_expired_one_too() -> None:
    now = [1000.0]
    states = RequestStates(key=STATE_KEY, ttl_s=60, clock=lambda: now[0])
    other = RequestStates(key=b"another key of thirty-two bytes or more", ttl_s=60)
    with pytest.raises(InvalidRequestState, match="another key"):
        states.open(other.seal(HELD))
    token = states.seal(HELD)
    now[0] += 61
    with pytest.raises(InvalidRequestState, match="expired"):
        states.open(token)


def test_a_short_key_is_refused() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        RequestStates(key=b"short", ttl_s=60)


async def test_a_held_call_runs_once_when_retried_with_its_state_after_approval(tmp_path: Path) -> None:
    runs: list[str] = []

    async def write_something(call: ToolCall) -> ToolOutput:
        runs.append("ran")
        return ToolOutput({"written": True})

    tool = write_tool(write_something)
    async with service_over(tmp_path, tool, HoldingBundle()) as service:
        held = await service.call_tool(context(WRITER, "r1"), tool.name, {})
        assert isinstance(held, HeldForApproval)
        still = await service.call_tool(resumed(WRITER, "r2", held.request_state), tool.name, {})
        assert isinstance(still, HeldForApproval) and still.approval_id == held.approval_id and not runs
        await service._writes._approvals.decide(held.approval_id, approve=True, approver="alice")
        done = await service.call_tool(resumed(WRITER, "r3", still.request_state), tool.name, {})
        assert isinstance(done, dict) and done["isError"] is False and runs == ["ran"]
        with pytest.raises(InvalidRequestState, match="used"):
            await service.call_tool(resumed(WRITER, "r4", still.request_state), tool.name, {})
    assert runs == ["ran"]
    assert [entry["outcome"] for entry in audited(tmp_path) if entry["event"] == "tool_call"] == [
        "pending",
        "pending",
        "allowed",
        "invalid",
    ]


async def test_a_state_runs_nothing_for_another_caller_call_or_revision(tmp_path: Path) -> None:
    runs: list[str] = []

    async def write_something(call: ToolCall) -> ToolOutput:
        runs.append("ran")
        return ToolOutput({"written": True})

    tool, bundle = write_tool(write_something), HoldingBundle()
    async with service_over(tmp_path, tool, bundle) as service:
        held = await service.call_tool(context(WRITER, "r1"), tool.name, {})
        assert isinstance(held, HeldForApproval)
        await service._writes._approvals.decide(held.approval_id, approve=True, approver="alice")
        with pytest.raises(InvalidRequestState, match="another call or caller"):
            await service.call_tool(resumed(OTHER_WRITER, "r2", held.request_state), tool.name, {})
        states = RequestStates(key=STATE_KEY, ttl_s=60)
        other_call = states.seal(
            HeldCall(held.approval_id, WRITER.id, tool.name, args_sha256="f" * 64, revision="r1")
        )
        with pytest.raises(InvalidRequestState, match="another call or caller"):
            await service.call_tool(resumed(WRITER, "r3", other_call), tool.name, {})
        bundle.revision = "r2"
        with pytest.raises(InvalidRequestState, match="bundle revision r1"):
            await service.call_tool(resumed(WRITER, "r4", held.request_state), tool.name, {})
    assert runs == []


async def test_a_denied_approval_denies_the_retry(tmp_path: Path) -> None:
    async def write_something(call: ToolCall) -> ToolOutput:
        raise AssertionError("a denied call must not run")

    tool = write_tool(write_something)
    async with service_over(tmp_path, tool, HoldingBundle()) as service:
        held = await service.call_tool(context(WRITER, "r1"), tool.name, {})
        assert isinstance(held, HeldForApproval)
        await service._writes._approvals.decide(held.approval_id, approve=False, approver="alice")
        denied = await service.call_tool(resumed(WRITER, "r2", held.request_state), tool.name, {})
    assert isinstance(denied, dict) and denied["structuredContent"]["denied"] is True
    assert "approval.denied" in [reason["rule"] for reason in denied["structuredContent"]["reasons"]]
