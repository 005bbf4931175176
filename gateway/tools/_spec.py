"""The shape of a tool definition."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Literal

from gateway.core.normalize import Resource
from gateway.gitea import GiteaClient

Capability = Literal["read", "write"]


@dataclasses.dataclass(frozen=True)
class ToolOutput:
    """A tool's result: `structured` always; `text` when plain text reads better than its JSON;
    `content_bytes`, the size of the file content it returns, so that size limits can be enforced."""

    structured: dict[str, Any]
    text: str | None = None
    content_bytes: int | None = None


Runner = Callable[[GiteaClient, Resource, Mapping[str, Any]], Awaitable[ToolOutput]]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Tool:
    """A tool. `run` takes the normalized resource (owner, name, path, ref) and the validated arguments;
    it must take those four values from the resource, never from the arguments. `path_is_pathspec` marks a
    path that Gitea matches as a git pathspec, which is then held to a stricter form."""

    name: str
    title: str
    description: str
    capability: Capability
    run: Runner
    repo_scoped: bool = True
    path_arg: str | None = None
    path_is_pathspec: bool = False
    ref_arg: str | None = None

    @property
    def annotations(self) -> dict[str, Any]:
        read_only = self.capability == "read"
        return {
            "title": self.title,
            "readOnlyHint": read_only,
            "destructiveHint": False,
            "idempotentHint": read_only,
            "openWorldHint": False,
        }
