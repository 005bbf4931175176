"""`aegis policy diff OLD NEW`: the (principal, tool, repository, path) decisions that change.

The names come from both files (principals, tools, repositories and paths as written; for a glob, one
concrete name it matches), plus the gateway's own tools, an unlisted key, and "no repository" / "no path".
Every combination is decided by the real OPA under each compiled policy.
"""

from __future__ import annotations

import dataclasses
import itertools
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from policy_compiler import build_bundle, load_policy, policy_names

from gateway.opa._eval import evaluate_decisions

UNLISTED_KEY = "unlisted-key"
ALL_SCOPES = ("tools:read", "tools:write", "tools:automation")


@dataclasses.dataclass(frozen=True)
class Change:
    principal: str
    tool: str
    repo: str | None
    path: str | None
    old: bool
    new: bool
    new_reasons: tuple[str, ...]

    def __str__(self) -> str:
        verdict = {True: "allow", False: "deny"}
        where = f"{self.repo or '-'} {self.path or '-'}"
        because = ", ".join(self.new_reasons) or "-"
        return (
            f"{self.principal:<16} {self.tool:<22} {where:<40} {verdict[self.old]} -> {verdict[self.new]}"
            f"  (now: {because})"
        )


def diff_policies(
    old: Path, new: Path, *, opa_bin: str, tools: Mapping[str, str], write_mode: bool, at: str
) -> list[Change]:
    """Every combination whose allow/deny differs between OLD and NEW. `tools` maps tool name to capability
    (the gateway's registry); a tool named only in a policy file is taken as a read tool."""
    names = [policy_names(load_policy(path)) for path in (old, new)]
    principals = sorted({UNLISTED_KEY, *(p for n in names for p in n.principals)})
    tool_names = sorted({*tools, *(t for n in names for t in n.tools)})
    repos: list[str | None] = [None, *sorted({r for n in names for r in n.repositories})]
    paths: list[str | None] = [None, *sorted({p for n in names for p in n.paths})]
    cases = [
        (principal, tool, repo, path)
        for principal, tool, repo, path in itertools.product(principals, tool_names, repos, paths)
        if repo is not None or path is None  # a path only exists within a repository
    ]
    inputs = [
        _input(*case, capability=tools.get(case[1], "read"), write_mode=write_mode, at=at) for case in cases
    ]
    with tempfile.TemporaryDirectory(prefix="aegis-diff-") as tmp:
        before = evaluate_decisions(opa_bin, build_bundle(old, Path(tmp) / "old.tar.gz").path, inputs)
        after = evaluate_decisions(opa_bin, build_bundle(new, Path(tmp) / "new.tar.gz").path, inputs)
    return [  # in the order of `cases`: by principal, tool, repository, path
        Change(
            *case,
            old=was["allow"] is True,
            new=now["allow"] is True,
            new_reasons=tuple(reason["rule"] for reason in now.get("reasons", [])),
        )
        for case, was, now in zip(cases, before, after, strict=True)
        if (was["allow"] is True) != (now["allow"] is True)
    ]


def _input(
    principal: str,
    tool: str,
    repo: str | None,
    path: str | None,
    *,
    capability: str,
    write_mode: bool,
    at: str,
) -> dict[str, Any]:
    return {
        "version": 1,
        "principal": {"id": principal, "kind": "api_key", "scopes": list(ALL_SCOPES), "roles": []},
        "tool": {"name": tool, "capability": capability},
        "resource": {"repo": repo, "path": path, "ref": None},
        "args": {},
        "context": {"write_mode": write_mode, "time": at, "client_ip": None, "request_id": "policy-diff"},
    }
