"""Review of the requestState of held calls (commits 2c74767..394c9e2): attacks that the design withstands,
kept as regression tests, and the verifier's handling of a hostile state body."""

from __future__ import annotations

import asyncio
import base64
from pathlib import Path

import pytest

from gateway.core.request_state import RequestStates
from gateway.errors import InvalidRequestState
from gateway.tools import ToolCall, ToolOutput
from gateway.vocabulary import HeldForApproval
from tests.unit.core.harness import STATE_KEY, WRITER, audited, context, service_over
from tests.unit.core.test_request_state import HoldingBundle, resumed
from tests.unit.core.test_scope_guard import write_tool


async def test_two_racing_retries_with_one_state_run_the_write_once(tmp_path: Path) -> None:
    """Control (holds): the approval's conditional update lets exactly one of two simultaneous retries run."""
    runs: list[str] = []

    async def write_something(call: ToolCall) -> ToolOutput:
        runs.append("ran")
        await asyncio.sleep(0)
        return ToolOutput({"written": True})

    tool = write_tool(write_something)
    async with service_over(tmp_path, tool, HoldingBundle()) as service:
        held = await service.call_tool(context(WRITER, "r1"), tool.name, {})
        assert isinstance(held, HeldForApproval)
        await service._writes._approvals.decide(held.approval_id, approve=True, approver="alice")
        outcomes = await asyncio.gather(
            *(service.call_tool(resumed(WRITER, f"r{n}", held.request_state), tool.name, {}) for n in (2, 3)),
            return_exceptions=True,
        )
    assert runs == ["ran"]
    assert sum(isinstance(outcome, InvalidRequestState) for outcome in outcomes) == 1
    calls = [entry["outcome"] for entry in audited(tmp_path) if entry["event"] == "tool_call"]
    assert sorted(calls) == ["allowed", "invalid", "pending"]


def test_the_seal_is_checked_before_the_body_is_parsed() -> None:
    """FINDING 3 (unit level). open() json-decodes the unauthenticated body first: 1500 nested arrays
    raise RecursionError, not InvalidRequestState, so the caller's `except InvalidRequestState` never
    sees it. Verifying the MAC first (constant time, over the body string it already uses) removes the
    whole class: nothing the gateway did not seal is ever parsed."""
    states = RequestStates(key=STATE_KEY, ttl_s=60)
    body = base64.urlsafe_b64encode(b"[" * 1500).rstrip(b"=").decode()
    with pytest.raises(InvalidRequestState):
        states.open(body + "." + "A" * 43)
