"""The shape of a tool definition."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Collection, Mapping
from typing import Any, Literal, Protocol

from gateway.gitea import GiteaClient
from gateway.sanitize import Binary, Finding, SecretMode
from gateway.vocabulary import FileSnapshot, Resource

Capability = Literal["read", "write"]
# Arguments that carry content, never a target: they are not written to the audit log in clear
# (`Tool.audited_args` may not name them) and the bundle's decision-log mask removes them.
CONTENT_ARGUMENTS = frozenset({"content", "body", "title", "message"})


@dataclasses.dataclass(frozen=True)
class ToolOutput:
    """A tool's result: `structured` always; `text` when plain text reads better than its JSON (a file's
    bytes as `Binary` when they are not text);
    `content_bytes`, the size of the repository content it returns (a file, a diff), so that size limits
    can be enforced and a large result is sanitized off the event loop.
    A write also says what Gitea made (`upstream`: commit sha, issue or PR number, for the audit log) and,
    for a file write, what it replaced (`snapshot`, kept for rollback). `withheld` counts the items (tree
    entries, files of a diff, search hits, repositories) left out because the policy denies them to this
    call. `findings` are the secrets the tool masked itself, in content it drew excerpts from (search)."""

    structured: dict[str, Any]
    text: str | Binary | None = None
    content_bytes: int | None = None
    upstream: dict[str, Any] | None = None
    snapshot: FileSnapshot | None = None
    withheld: int = 0
    findings: tuple[Finding, ...] = ()


class ShownFilter(Protocol):
    """Which of the names its result would show (repository paths, or `owner/name` of repositories) a call
    may show, as OPA decides them for that call (gateway.core.shown)."""

    async def allowed(self, names: Collection[str]) -> frozenset[str]: ...


@dataclasses.dataclass(frozen=True)
class ToolCall:
    """What a tool runs with: Gitea, the normalized resource, the validated arguments (normalized where
    they name a repository, path or ref), the filters every path and repository in its result must pass,
    what the policy says of secrets in its output (a tool that scans content itself, as search does,
    leaves out what `block` would withhold), and its `max_file_bytes` obligation, if any: a tool that learns
    a file's size before reading it refuses a larger one there (`FileTooLarge`)."""

    gitea: GiteaClient
    resource: Resource
    args: Mapping[str, Any]
    paths: ShownFilter
    repos: ShownFilter
    secrets: SecretMode
    max_file_bytes: int | None = None


Runner = Callable[[ToolCall], Awaitable[ToolOutput]]
WriteSize = Callable[[Mapping[str, Any]], int]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Tool:
    """A tool. `run` takes the normalized resource (owner, name, path, ref, branch) and the validated
    arguments; it must take those values from the resource, never from the arguments. `path_is_pathspec`
    marks a path that Gitea matches as a git pathspec, which is then held to a stricter form;
    `shows_paths` a tool whose result shows repository paths, each withheld unless the same call on it
    would be allowed (`ToolCall.paths`).

    A write names the branch it targets (`branch_arg`, checked against write.branches), any further
    git refs it passes to Gitea (`other_ref_args`, normalized like `ref_arg`), and `write_size`, the bytes
    it stores: the policy's size limits and the key's write quotas are held against it before it runs.

    `audited_args` are its target arguments (a number, a sha or ref, a query, a path), which its audit
    entries record in clear unless the policy says to hash them; never content (`CONTENT_ARGUMENTS`),
    and owner and repo are recorded as the entry's `repo` already."""

    name: str
    title: str
    description: str
    capability: Capability
    run: Runner
    repo_scoped: bool = True
    path_arg: str | None = None
    path_is_pathspec: bool = False
    shows_paths: bool = False
    ref_arg: str | None = None
    branch_arg: str | None = None
    other_ref_args: tuple[str, ...] = ()
    audited_args: tuple[str, ...] = ()
    write_size: WriteSize | None = None
    destructive: bool = False

    @property
    def annotations(self) -> dict[str, Any]:
        read_only = self.capability == "read"
        return {
            "title": self.title,
            "readOnlyHint": read_only,
            "destructiveHint": self.destructive,
            "idempotentHint": read_only,
            "openWorldHint": False,
        }
