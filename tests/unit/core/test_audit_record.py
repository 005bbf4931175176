"""What a tool call's audit entry says of who called and what the call named."""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from gateway.audit import canonical_json
from gateway.errors import InvalidToolCall
from gateway.opa import Decision
from gateway.tools import Tool, ToolCall, ToolOutput
from tests.unit.core.harness import READER, audited, context, service_over
from tests.unit.core.test_scope_guard import CarelessBundle


async def answer(call: ToolCall) -> ToolOutput:
    return ToolOutput({"ok": True})


READ_TOOL = Tool(
    name="read_something",
    title="Read",
    description="A read tool for this test.",
    capability="read",
    run=answer,
    repo_scoped=False,
)


async def test_the_entry_names_the_credential_beside_the_principal(tmp_path: Path) -> None:
    key = dataclasses.replace(READER, credential_id="4f2a9c01b7de")
    async with service_over(tmp_path, READ_TOOL, CarelessBundle()) as service:
        await service.call_tool(context(key, "r1"), READ_TOOL.name, {})
        await service.call_tool(context(READER, "r2"), READ_TOOL.name, {})
    with_id, without = audited(tmp_path)
    assert (with_id["principal"], with_id["credential_id"]) == ("reader", "4f2a9c01b7de")
    assert without["principal"] == "reader" and "credential_id" not in without


class DecidingWith(CarelessBundle):
    """Allows every call; its decisions name `hashed` as the arguments to hash (None: says nothing)."""

    def __init__(self, hashed: frozenset[str] | None) -> None:
        self.hashed = hashed

    async def decide(self, opa_input: Mapping[str, Any]) -> Decision:
        decision = await super().decide(opa_input)
        return dataclasses.replace(decision, hash_arguments=self.hashed)


def digest(value: object) -> dict[str, str]:
    return {"sha256": hashlib.sha256(canonical_json(value)).hexdigest()}


async def call_with(
    tmp_path: Path, hashed: frozenset[str] | None, arguments: dict[str, Any]
) -> dict[str, Any]:
    """The entry of one call of a read tool with the target arguments `query` and `ref` and the content
    argument `body`, allowed by a bundle that names `hashed` as the arguments to hash."""
    tool, bundle = dataclasses.replace(READ_TOOL, audited_args=("query", "ref")), DecidingWith(hashed)
    properties = {name: {"type": "string"} for name in ("query", "ref", "body")}
    async with service_over(tmp_path, tool, bundle, properties=properties) as service:
        with contextlib.suppress(InvalidToolCall):
            await service.call_tool(context(READER, "r1"), tool.name, arguments)
    (entry,) = audited(tmp_path)
    return entry


async def test_target_arguments_are_recorded_in_clear_and_contents_never(tmp_path: Path) -> None:
    entry = await call_with(tmp_path, frozenset(), {"query": "needle", "ref": "main", "body": "a secret"})
    assert entry["args"] == {"query": "needle", "ref": "main"}
    assert "a secret" not in json.dumps(entry)


async def test_an_argument_the_policy_names_is_recorded_only_as_its_digest(tmp_path: Path) -> None:
    entry = await call_with(tmp_path, frozenset({"query"}), {"query": "AKIA-token", "ref": "main"})
    assert entry["args"] == {"query": digest("AKIA-token"), "ref": "main"}
    assert "AKIA-token" not in json.dumps(entry)


async def test_without_the_policys_word_every_target_argument_is_hashed(tmp_path: Path) -> None:
    entry = await call_with(tmp_path, None, {"query": "needle", "ref": "main"})
    assert entry["args"] == {"query": digest("needle"), "ref": digest("main")}


async def test_arguments_that_did_not_validate_are_not_recorded(tmp_path: Path) -> None:
    entry = await call_with(tmp_path, frozenset(), {"query": 7})
    assert entry["outcome"] == "invalid" and "args" not in entry
