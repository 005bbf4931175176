"""Tools bound to their JSON Schemas, validators compiled once at start-up."""

from __future__ import annotations

import dataclasses
import importlib.resources
import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match

from gateway.errors import ConfigError, InvalidToolCall
from gateway.tools._spec import CONTENT_ARGUMENTS, Tool

MAX_ERROR_CHARS = 300


SCHEMAS = Path(str(importlib.resources.files("gateway.tools") / "schemas"))  # package data


@dataclasses.dataclass(frozen=True)
class BoundTool:
    tool: Tool
    schema: dict[str, Any]
    validator: Draft202012Validator

    def validate(self, arguments: Mapping[str, Any]) -> None:
        """Raise InvalidToolCall naming the offending field."""
        error = best_match(self.validator.iter_errors(arguments))
        if error is not None:
            raise InvalidToolCall(_describe(error))

    def describe(self) -> dict[str, Any]:
        """The tools/list entry."""
        return {
            "name": self.tool.name,
            "title": self.tool.title,
            "description": self.tool.description,
            "inputSchema": self.schema,
            "annotations": self.tool.annotations,
        }


class ToolRegistry:
    def __init__(self, tools: list[Tool], schema_root: Path) -> None:
        self._tools = {tool.name: _bind(tool, schema_root) for tool in tools}

    def get(self, name: str) -> BoundTool | None:
        return self._tools.get(name)

    def __iter__(self) -> Iterator[BoundTool]:
        return iter(self._tools.values())


def default_registry() -> ToolRegistry:
    """Every tool, bound to the schema the package ships for it (tools/schemas/<name>.json). The schemas
    are part of the code: no setting replaces them, since a looser one would let unchecked input reach
    OPA and Gitea."""
    from gateway.tools.read import READ_TOOLS
    from gateway.tools.read_changes import CHANGE_TOOLS
    from gateway.tools.read_refs import REF_TOOLS
    from gateway.tools.read_secrets import SECRET_TOOLS
    from gateway.tools.search import SEARCH_TOOLS
    from gateway.tools.write import WRITE_TOOLS

    tools = [*READ_TOOLS, *REF_TOOLS, *CHANGE_TOOLS, *SEARCH_TOOLS, *SECRET_TOOLS, *WRITE_TOOLS]
    return ToolRegistry(tools, SCHEMAS)


def _bind(tool: Tool, schema_root: Path) -> BoundTool:
    path = schema_root / f"{tool.name}.json"
    try:
        schema = json.loads(path.read_text(encoding="utf-8"))
        Draft202012Validator.check_schema(schema)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"tool {tool.name}: schema {path} is missing or invalid: {exc}") from exc
    if schema.get("additionalProperties") is not False:
        raise ConfigError(f"tool {tool.name}: schema must set additionalProperties to false")
    unknown = set(tool.audited_args) - set(schema.get("properties", {}))
    content = CONTENT_ARGUMENTS.intersection(tool.audited_args)
    if unknown or content:
        raise ConfigError(
            f"tool {tool.name}: audited_args must name target arguments of its schema, not"
            f" {', '.join(sorted(unknown | content))}"
        )
    return BoundTool(tool=tool, schema=schema, validator=Draft202012Validator(schema))


def _describe(error: ValidationError) -> str:
    field = "/".join(str(part) for part in error.absolute_path)
    where = f"'{field}'" if field else "arguments"
    message = f"Invalid arguments: {where}: {error.message}"
    return message if len(message) <= MAX_ERROR_CHARS else message[: MAX_ERROR_CHARS - 3] + "..."
