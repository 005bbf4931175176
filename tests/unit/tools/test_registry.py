"""The registry binds each tool to its schema and refuses a tool whose audit record could show content."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from policy_compiler._resources import schema_file

from gateway.errors import ConfigError
from gateway.tools import CONTENT_ARGUMENTS, Tool, ToolCall, ToolOutput, ToolRegistry, default_registry


async def answer(call: ToolCall) -> ToolOutput:
    return ToolOutput({})


TOOL = Tool(name="note", title="Note", description="A tool of this test.", capability="write", run=answer)


@pytest.mark.parametrize(
    ("audited", "named"),
    [
        pytest.param(("index", "body"), "body", id="a content argument"),
        pytest.param(("index", "number"), "number", id="an argument the schema lacks"),
    ],
)
def test_a_tool_may_audit_only_target_arguments_of_its_schema(
    tmp_path: Path, audited: tuple[str, ...], named: str
) -> None:
    properties = {"index": {"type": "integer"}, "body": {"type": "string"}}
    schema = {"type": "object", "properties": properties, "additionalProperties": False}
    (tmp_path / "note.json").write_text(json.dumps(schema))
    assert ToolRegistry([dataclasses.replace(TOOL, audited_args=("index",))], tmp_path).get("note")
    with pytest.raises(
        ConfigError, match=f"audited_args must name target arguments of its schema, not {named}"
    ):
        ToolRegistry([dataclasses.replace(TOOL, audited_args=audited)], tmp_path)


def test_every_shipped_tool_leaves_content_out_of_its_audit_record() -> None:
    audited = {name for bound in default_registry() for name in bound.tool.audited_args}
    assert audited and audited.isdisjoint(CONTENT_ARGUMENTS)
    reads_without_path = {
        "get_pull_request",
        "search_code",
        "get_commit_diff",
        "compare_refs",
        "get_file_tree",
    }
    assert all(default_registry().get(name).tool.audited_args for name in reads_without_path)  # type: ignore[union-attr]


def test_the_policy_may_hash_exactly_the_target_arguments_of_the_tools() -> None:
    """A name in audit.hash_arguments that no tool records would hash nothing: the policy's schema
    accepts the target arguments of the shipped tools and nothing else."""
    audited = {name for bound in default_registry() for name in bound.tool.audited_args}
    schema = json.loads(schema_file().read_text(encoding="utf-8"))
    assert set(schema["$defs"]["targetArgument"]["enum"]) == audited
