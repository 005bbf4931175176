"""`aegis policy diff OLD NEW`: the calls whose decision changes, and only calls that can happen.

A call is a principal (each one either file lists, and an unlisted key), a tool the gateway serves, with
what the tool can name: a repository (each one either file names, one for each repository glob, and one
that neither names), a path and a target branch. Paths are drawn from the globs of both files, on both
sides of each glob's boundary (`src/**` gives `src`, `src/x`, `src/x/x` and `srcx/x`), and from real
trees (`trees`, per repository). Paths that the same globs match are decided alike, so each such class
is decided once by its first path and reported with the count of the others. Every call is decided by
the real OPA under each compiled policy; a change is a different verdict, or for an allowed call a
different `require_approval` or `max_file_bytes` obligation.

Example:
    shapes = [ToolShape(name="get_file_contents", capability="read", path="required", shows_paths=True)]
    diff = diff_policies(old, new, opa_bin="opa", tools=shapes, write_mode=True, at="2026-01-01T00:00:00Z")
    for change in diff.changes:
        print(change)  # ci-bot  get_file_contents  acme/app README.md (+2 alike)  allow -> deny  (now: ...)
"""

from __future__ import annotations

import dataclasses
import itertools
import tempfile
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Literal

from policy_compiler import (
    Policy,
    build_bundle,
    glob_matches,
    is_secret_store_path,
    load_policy,
    policy_names,
    repository_path_globs,
)

from gateway.opa._eval import evaluate_decisions

__all__ = [
    "OTHER_BRANCH",
    "OTHER_PATH",
    "OTHER_REPOSITORY",
    "UNLISTED_KEY",
    "Change",
    "Diff",
    "ToolShape",
    "diff_policies",
]

UNLISTED_KEY = "unlisted-key"
OTHER_REPOSITORY = "other/repository"  # a repository that no key of either file names
OTHER_BRANCH = "main"  # a branch, for the writes that name one, whatever write.branches lists
OTHER_PATH = "README.md"  # a path, for the tools that take or show one, whatever the globs name
ALL_SCOPES = ("tools:read", "tools:write", "tools:automation")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ToolShape:
    """What a call of a tool can name: a repository (`repo_scoped`), a path (never, optionally, always),
    paths in its result (`shows_paths`: each shown only where the same call on it would be allowed), and
    a target branch (`branch`: always, when it has one)."""

    name: str
    capability: str
    repo_scoped: bool = True
    path: Literal["none", "optional", "required"] = "none"
    shows_paths: bool = False
    branch: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True)
class Change:
    """One call whose decision changes. `path` stands for itself and `alike` more paths decided alike
    (`branch` and `branches_alike` likewise); `in_results` marks a path the tool does not take but shows
    (or withholds) in its result."""

    principal: str
    tool: str
    repo: str | None
    path: str | None
    branch: str | None
    old: str
    new: str
    reasons: tuple[str, ...]
    alike: int = 0
    branches_alike: int = 0
    in_results: bool = False

    def __str__(self) -> str:
        where = " ".join(
            part
            for part in (
                self.repo or "-",
                self.path or "-",
                "(in results)" if self.in_results else "",
                f"(+{self.alike} alike)" if self.alike else "",
                f"on branch {self.branch}" if self.branch is not None else "",
                f"(+{self.branches_alike} alike)" if self.branches_alike else "",
            )
            if part
        )
        because = ", ".join(self.reasons) or "-"
        return f"{self.principal:<16} {self.tool:<22} {where:<40} {self.old} -> {self.new}  (now: {because})"


@dataclasses.dataclass(frozen=True)
class Diff:
    """The changes, in the order principal, tool, repository, path, branch; and the tools a file names
    that the gateway does not serve (no call of theirs can happen, so none is decided)."""

    changes: tuple[Change, ...]
    unserved: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class _Call:
    principal: str
    tool: ToolShape
    repo: str | None
    paths: tuple[str, ...] | None  # a class of paths decided alike, the first standing for all
    branches: tuple[str, ...] | None  # the same for the branch a write targets

    @property
    def in_results(self) -> bool:
        return self.paths is not None and self.tool.path == "none"


def diff_policies(
    old: Path,
    new: Path,
    *,
    opa_bin: str,
    tools: Sequence[ToolShape],
    write_mode: bool,
    at: str,
    trees: Mapping[str, Sequence[str]] | None = None,
) -> Diff:
    """Every possible call whose decision differs between OLD and NEW. `tools` are the gateway's; `trees`
    maps a repository (lower-cased `owner/name`) to the paths of a real tree of it."""
    trees = trees or {}
    policies = (load_policy(old), load_policy(new))
    names = [policy_names(policy) for policy in policies]
    served = {tool.name for tool in tools}
    unserved = tuple(sorted({tool for name in names for tool in name.tools} - served))
    principals = sorted({UNLISTED_KEY, *(p for name in names for p in name.principals)})
    repos = sorted({OTHER_REPOSITORY, *trees, *(r for name in names for r in name.repositories)})
    branches = _branch_classes(policies, {b for name in names for b in name.branches})
    samples = {OTHER_PATH, *(path for name in names for path in name.paths)}
    classes = {repo: _path_classes(policies, repo, samples, trees.get(repo, ())) for repo in repos}
    calls = [
        _Call(principal, tool, repo, paths, branch)
        for principal, tool in itertools.product(principals, sorted(tools, key=lambda tool: tool.name))
        for repo in (repos if tool.repo_scoped else [None])
        for paths in _paths_of(tool, classes.get(repo, []) if repo else [])
        for branch in (branches if tool.branch else [None])
    ]
    inputs = [_input(call, write_mode=write_mode, at=at) for call in calls]
    with tempfile.TemporaryDirectory(prefix="aegis-diff-") as tmp, ThreadPoolExecutor(2) as pool:
        bundles = [
            build_bundle(path, Path(tmp) / f"{side}.tar.gz").path
            for side, path in (("old", old), ("new", new))
        ]
        before, after = pool.map(lambda bundle: evaluate_decisions(opa_bin, bundle, inputs), bundles)
    changes = []
    for call, was, now in zip(calls, before, after, strict=True):
        old_said, new_said = _said(was, call), _said(now, call)
        if old_said != new_said:
            changes.append(
                Change(
                    principal=call.principal,
                    tool=call.tool.name,
                    repo=call.repo,
                    path=call.paths[0] if call.paths else None,
                    branch=call.branches[0] if call.branches else None,
                    old=old_said,
                    new=new_said,
                    reasons=_reasons(now),
                    alike=len(call.paths) - 1 if call.paths else 0,
                    branches_alike=len(call.branches) - 1 if call.branches else 0,
                    in_results=call.in_results,
                )
            )
    return Diff(tuple(changes), unserved)


def _path_classes(
    policies: Sequence[Policy], repo: str, samples: set[str], tree: Sequence[str]
) -> list[tuple[str, ...]]:
    """The candidate paths of `repo` grouped by what decides them there: which of the path globs that
    apply on `repo` (of either policy) match, and whether a path is a built-in secret store. The
    tree's paths come first in their class (they are real)."""
    globs = sorted({glob for policy in policies for glob in repository_path_globs(policy, repo)})
    return _classes(
        tree,
        samples,
        lambda path: (*(glob_matches(glob, path) for glob in globs), is_secret_store_path(path)),
    )


def _branch_classes(policies: Sequence[Policy], samples: set[str]) -> list[tuple[str, ...]]:
    """The candidate branches grouped by the write.branches globs (of either policy) that match them;
    OTHER_BRANCH first in its class."""
    globs = sorted({entry.value for policy in policies for entry in policy.write_branches.entries})
    return _classes(
        [OTHER_BRANCH], samples, lambda branch: tuple(glob_matches(glob, branch) for glob in globs)
    )


def _classes(
    first: Sequence[str], rest: set[str], signature: Callable[[str], tuple[bool, ...]]
) -> list[tuple[str, ...]]:
    """`first` and then `rest`, each sorted, grouped by `signature`: values of one class are decided alike."""
    by_signature: dict[tuple[bool, ...], list[str]] = {}
    for value in [*sorted(set(first)), *sorted(rest - set(first))]:
        by_signature.setdefault(signature(value), []).append(value)
    return sorted(tuple(values) for values in by_signature.values())


def _paths_of(tool: ToolShape, classes: list[tuple[str, ...]]) -> list[tuple[str, ...] | None]:
    """What a call of `tool` can name as its path: nothing (unless it must name one), and a path of each
    class when it takes one or shows paths in its result."""
    without: list[tuple[str, ...] | None] = [] if tool.path == "required" else [None]
    with_path = classes if tool.path != "none" or tool.shows_paths else []
    return [*without, *with_path]


def _said(decision: Mapping[str, Any], call: _Call) -> str:
    """The verdict, and for an allowed call what the gateway must still enforce: held for approval, the
    size limit. A path shown in a result is only shown or withheld: its verdict alone counts."""
    if decision.get("allow") is not True:
        return "deny"
    if call.in_results:
        return "allow"
    obligations = decision.get("obligations") or {}
    parts = ["allow"]
    if obligations.get("require_approval"):
        parts.append("held for approval")
    if "max_file_bytes" in obligations:
        parts.append(f"max_file_bytes {obligations['max_file_bytes']}")
    return ", ".join(parts)


def _reasons(decision: Mapping[str, Any]) -> tuple[str, ...]:
    """The rules the decision names, then the entries that hold it for approval."""
    held = (decision.get("obligations") or {}).get("require_approval") or []
    return (
        *(reason["rule"] for reason in decision.get("reasons", [])),
        *(f"approval {entry['rule']}" for entry in held),
    )


def _input(call: _Call, *, write_mode: bool, at: str) -> dict[str, Any]:
    return {
        "version": 1,
        "principal": {"id": call.principal, "kind": "api_key", "scopes": list(ALL_SCOPES), "roles": []},
        "tool": {"name": call.tool.name, "capability": call.tool.capability},
        "resource": {
            "repo": call.repo,
            "path": call.paths[0] if call.paths else None,
            "ref": None,
            "branch": call.branches[0] if call.branches else None,
        },
        "args": {},
        "context": {"write_mode": write_mode, "time": at, "client_ip": None, "request_id": "policy-diff"},
    }
