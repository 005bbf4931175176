"""A file a tool refuses as too large from its metadata (FileTooLarge): an error result naming its size and
the limit, audited as denied. Over the policy's max_file_bytes it is decided again with its size and
denied under the limit's rule; over the tool's own limit it is denied by the gateway."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from gateway.errors import FileTooLarge
from gateway.opa import Decision, Reason
from gateway.tools import Tool, ToolCall, ToolOutput
from tests.unit.core.harness import READER, audited, context, service_over
from tests.unit.core.test_scope_guard import CarelessBundle

TOOL_LIMIT = 5000
POLICY_RULE = Reason(rule="repo.acme/*.limits.max_file_bytes", effect="deny", source="policy.yaml:5")


class LimitedTo(CarelessBundle):
    """Allows every call, obliged to `max_file_bytes` when given; denies a resource larger than it."""

    def __init__(self, max_file_bytes: int | None) -> None:
        self.max_file_bytes = max_file_bytes
        self.decided: list[Mapping[str, Any]] = []

    async def decide(self, opa_input: Mapping[str, Any]) -> Decision:
        self.decided.append(opa_input)
        size, limit = opa_input["resource"]["size"], self.max_file_bytes
        if limit is not None and size is not None and size > limit:
            return Decision(allow=False, reasons=(POLICY_RULE,), decision_id="d2")
        decision = await super().decide(opa_input)
        obligations = {**decision.obligations, **({"max_file_bytes": limit} if limit is not None else {})}
        return Decision(allow=True, reasons=decision.reasons, decision_id="d1", obligations=obligations)


def sized_file(size: int, limits: list[int | None]) -> Tool:
    """A tool refusing a file of `size` bytes from its metadata, as get_file_contents does."""

    async def run(call: ToolCall) -> ToolOutput:
        limits.append(call.max_file_bytes)
        limit = TOOL_LIMIT if call.max_file_bytes is None else min(TOOL_LIMIT, call.max_file_bytes)
        raise FileTooLarge(size, limit)

    return Tool(
        name="read_file",
        title="Read",
        description="Reads a file.",
        capability="read",
        run=run,
        repo_scoped=False,
    )


@pytest.mark.parametrize(
    ("policy_limit", "limit", "reason"),
    [
        (None, TOOL_LIMIT, {"rule": "output.max_file_bytes", "effect": "deny", "source": "gateway"}),
        (1 << 20, TOOL_LIMIT, {"rule": "output.max_file_bytes", "effect": "deny", "source": "gateway"}),
        (1000, 1000, POLICY_RULE.as_dict()),
    ],
    ids=["tool-limit", "tool-limit-below-the-policy-one", "policy-limit"],
)
async def test_a_file_refused_from_its_size_is_an_audited_denial_naming_size_and_limit(
    tmp_path: Path, policy_limit: int | None, limit: int, reason: dict[str, str]
) -> None:
    limits: list[int | None] = []
    decider = LimitedTo(policy_limit)
    async with service_over(tmp_path, sized_file(9000, limits), decider) as service:
        result = await service.call_tool(context(READER, "r1"), "read_file", {})
    assert limits == [policy_limit]
    assert result["isError"] is True
    assert f"the file is 9000 bytes, over the limit of {limit} bytes" in result["content"][0]["text"]
    assert reason in result["structuredContent"]["reasons"]
    [entry] = audited(tmp_path)
    assert entry["outcome"] == "denied"
    assert reason in entry["reasons"]
    decided_sizes = [None, 9000] if policy_limit == 1000 else [None]  # what OPA decided on, recorded
    assert [opa_input["resource"]["size"] for opa_input in decider.decided] == decided_sizes
    assert entry["decision_input"]["resource"]["size"] == decided_sizes[-1]
