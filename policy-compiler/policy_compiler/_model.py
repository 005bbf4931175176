"""The validated, normalized policy and the data document OPA reads as `data.aegis.policy`.

Every rule carries its name (`repo.acme/app.paths.deny[0]`) and its source (`policy.yaml:14`,
or `builtin` for a value the file does not set), so Rego copies them into decision reasons.

Lookups are indexed so that a decision costs the same with 10 or 10,000 repository rules:
exact repositories are object keys, repository globs are grouped by their literal owner (with a
short list for globs whose owner has a wildcard), and every list of repositories carries the same
index over its entries. Every list of globs (paths, branches) carries an index too (`_glob_index`),
so that a path is tried only against the globs that can match it.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from policy_compiler._glob_index import glob_index
from policy_compiler._names import is_repository_glob, repository_example, repository_owner, repository_regex
from policy_compiler._secret_stores import secret_store_data, secret_store_index

__all__ = [
    "CAPABILITIES",
    "DATA_FORMAT",
    "Default",
    "Limit",
    "OutputRule",
    "PathRules",
    "Policy",
    "PrincipalRules",
    "RepositoryRules",
    "RoleRules",
    "Rule",
    "RuleList",
    "SecretStorePaths",
    "TimeBound",
]

DATA_FORMAT = 6
BUILTIN = "builtin"
CAPABILITIES = ("read", "write", "automation")

Effect = Literal["allow", "deny"]
OutputMode = Literal["mask", "block"]
EntryKind = Literal["name", "repo", "glob", "capability", "role"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Rule:
    """One entry of a list: a tool name, a repository (or glob), a path glob, a capability, a role."""

    rule: str
    source: str
    value: str
    regex: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class RuleList:
    """An allow or deny list. `source` is where its key stands (`builtin` when absent)."""

    rule: str
    source: str
    kind: EntryKind
    entries: tuple[Rule, ...] = ()

    def to_data(self) -> dict[str, object]:
        entries: list[dict[str, str]] = []
        for entry in self.entries:
            item = {"rule": entry.rule, "source": entry.source, self.kind: entry.value}
            if entry.regex is not None:
                item["regex"] = entry.regex
            if self.kind == "repo" and entry.regex is not None:
                item["example"] = repository_example(entry.value)
            entries.append(item)
        data: dict[str, object] = {"rule": self.rule, "source": self.source, "entries": entries}
        if self.kind == "repo":
            data["index"] = _repository_index(self.entries)
        if self.kind == "glob":
            data["index"] = glob_index([entry.value for entry in self.entries])
        return data


def _repository_index(entries: tuple[Rule, ...]) -> dict[str, object]:
    """Positions of the entries: exact names by name, globs by literal owner, other globs listed."""
    exact: dict[str, int] = {}
    by_owner: dict[str, list[int]] = {}
    any_owner: list[int] = []
    for index, entry in enumerate(entries):
        owner = repository_owner(entry.value)
        if entry.regex is None:
            exact[entry.value] = index
        elif owner is None:
            any_owner.append(index)
        else:
            by_owner.setdefault(owner, []).append(index)
    return {"exact": exact, "by_owner": by_owner, "any_owner": any_owner}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Default:
    """`defaults.read`, `defaults.write` or `defaults.automation`."""

    rule: str
    effect: Effect
    source: str

    def to_data(self) -> dict[str, object]:
        return {"rule": self.rule, "effect": self.effect, "source": self.source}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Limit:
    """A size limit: `limits.max_file_bytes` or `repo.<key>.limits.max_file_bytes`."""

    rule: str
    source: str
    bytes: int

    def to_data(self) -> dict[str, object]:
        return {"rule": self.rule, "source": self.source, "bytes": self.bytes}


@dataclasses.dataclass(frozen=True, kw_only=True)
class OutputRule:
    """`secrets.output` or `repo.<key>.secrets.output`: what the gateway does with secrets it finds
    in tool output (`mask` them, or `block` the whole output)."""

    rule: str
    source: str
    mode: OutputMode

    def to_data(self) -> dict[str, object]:
        return {"rule": self.rule, "source": self.source, "mode": self.mode}


@dataclasses.dataclass(frozen=True, kw_only=True)
class SecretStorePaths:
    """`secrets.store_paths`: whether the built-in secret-store globs deny (`deny`) or not (`allow`).

    The globs ship in either case, so that an allowed call on such a path names this setting.
    """

    rule: str
    source: str
    effect: Effect

    def to_data(self) -> dict[str, object]:
        return {
            "rule": self.rule,
            "source": self.source,
            "effect": self.effect,
            "entries": secret_store_data(),
            "index": secret_store_index(),
        }


BUILTIN_SECRETS_OUTPUT = OutputRule(rule="secrets.output", source=BUILTIN, mode="mask")
BUILTIN_SECRET_STORE_PATHS = SecretStorePaths(rule="secrets.store_paths", source=BUILTIN, effect="deny")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TimeBound:
    """`principals.<id>.not_before` or `.expires`: the time as written and in nanoseconds."""

    rule: str
    source: str
    time: str
    ns: int

    def to_data(self) -> dict[str, object]:
        return {"rule": self.rule, "source": self.source, "time": self.time, "ns": self.ns}


@dataclasses.dataclass(frozen=True, kw_only=True)
class PathRules:
    """The path allow and deny lists of one role or one principal under a repository key's `paths`
    (`name` is the role or the principal)."""

    name: str
    allow: RuleList
    deny: RuleList

    def to_data(self) -> dict[str, object]:
        return {"allow": self.allow.to_data(), "deny": self.deny.to_data()}


@dataclasses.dataclass(frozen=True, kw_only=True)
class RepositoryRules:
    """The rules of one repository key: an exact name or a glob (`name` is lower-cased).
    `require_approval` names the tools whose gated calls on its repositories wait for a human;
    `path_roles` and `path_principals` are path rules of the holders of a role and of one principal."""

    name: str
    source: str
    tools_allow: RuleList
    tools_deny: RuleList
    paths_allow: RuleList
    paths_deny: RuleList
    require_approval: RuleList
    path_roles: tuple[PathRules, ...] = ()
    path_principals: tuple[PathRules, ...] = ()
    max_file_bytes: Limit | None = None
    secrets_output: OutputRule | None = None

    @property
    def is_glob(self) -> bool:
        return is_repository_glob(self.name)

    def to_data(self) -> dict[str, object]:
        data: dict[str, object] = {
            "rule": f"repo.{self.name}",
            "source": self.source,
            "tools": {"allow": self.tools_allow.to_data(), "deny": self.tools_deny.to_data()},
            "paths": {
                "allow": self.paths_allow.to_data(),
                "deny": self.paths_deny.to_data(),
                "roles": {rules.name: rules.to_data() for rules in self.path_roles},
                "principals": {rules.name: rules.to_data() for rules in self.path_principals},
            },
            "limits": {
                "max_file_bytes": None if self.max_file_bytes is None else self.max_file_bytes.to_data()
            },
            "secrets": {"output": None if self.secrets_output is None else self.secrets_output.to_data()},
            "require_approval": self.require_approval.to_data(),
        }
        if self.is_glob:
            data["glob"] = self.name
            data["regex"] = repository_regex(self.name)
        return data


@dataclasses.dataclass(frozen=True, kw_only=True)
class RoleRules:
    """A role: tools it allows or denies, capabilities it allows whole, repositories it is scoped to."""

    name: str
    source: str
    tools_allow: RuleList
    tools_deny: RuleList
    capabilities: RuleList
    repositories: RuleList

    def to_data(self) -> dict[str, object]:
        return {
            "rule": f"roles.{self.name}",
            "source": self.source,
            "tools": {"allow": self.tools_allow.to_data(), "deny": self.tools_deny.to_data()},
            "capabilities": self.capabilities.to_data(),
            "repositories": self.repositories.to_data(),
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class PrincipalRules:
    """A principal (an API key name): its roles, its time window, its repository scope."""

    name: str
    source: str
    roles: RuleList
    not_before: TimeBound | None
    expires: TimeBound | None
    repositories: RuleList

    def to_data(self) -> dict[str, object]:
        return {
            "rule": f"principals.{self.name}",
            "source": self.source,
            "roles": self.roles.to_data(),
            "not_before": None if self.not_before is None else self.not_before.to_data(),
            "expires": None if self.expires is None else self.expires.to_data(),
            "repositories": self.repositories.to_data(),
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class Policy:
    """A policy file that passed every check. `version` is None for a legacy file without one."""

    source_sha256: str
    version: int | None
    defaults_read: Default
    defaults_write: Default
    tools_allow: RuleList
    tools_deny: RuleList
    write_repositories: RuleList
    repositories: tuple[RepositoryRules, ...]
    defaults_automation: Default = Default(rule="defaults.automation", effect="deny", source=BUILTIN)
    max_file_bytes: Limit | None = None
    write_branches: RuleList = RuleList(rule="write.branches", source=BUILTIN, kind="glob")
    write_require_approval: RuleList = RuleList(rule="write.require_approval", source=BUILTIN, kind="name")
    roles: tuple[RoleRules, ...] = ()
    principals: tuple[PrincipalRules, ...] = ()
    secrets_output: OutputRule = BUILTIN_SECRETS_OUTPUT
    secret_store_paths: SecretStorePaths = BUILTIN_SECRET_STORE_PATHS
    audit_hash_arguments: RuleList = RuleList(rule="audit.hash_arguments", source=BUILTIN, kind="name")

    def repository(self, name: str) -> RepositoryRules | None:
        """The rules under repository key `name` (any case; exact or glob), or None."""
        wanted = name.lower()
        return next((repo for repo in self.repositories if repo.name == wanted), None)

    def to_data(self) -> dict[str, object]:
        """The JSON document shipped at aegis/policy/data.json."""
        by_owner: dict[str, list[dict[str, object]]] = {}
        any_owner: list[dict[str, object]] = []
        for repo in self.repositories:
            if repo.is_glob:
                owner = repository_owner(repo.name)
                (any_owner if owner is None else by_owner.setdefault(owner, [])).append(repo.to_data())
        return {
            "format": DATA_FORMAT,
            "source": {"sha256": self.source_sha256},
            "defaults": {
                "read": self.defaults_read.to_data(),
                "write": self.defaults_write.to_data(),
                "automation": self.defaults_automation.to_data(),
            },
            "limits": {
                "max_file_bytes": None if self.max_file_bytes is None else self.max_file_bytes.to_data()
            },
            "tools": {"allow": self.tools_allow.to_data(), "deny": self.tools_deny.to_data()},
            "secrets": {
                "output": self.secrets_output.to_data(),
                "store_paths": self.secret_store_paths.to_data(),
            },
            "audit": {"hash_arguments": self.audit_hash_arguments.to_data()},
            "write": {
                "repositories": self.write_repositories.to_data(),
                "branches": self.write_branches.to_data(),
                "require_approval": self.write_require_approval.to_data(),
            },
            "repositories": {repo.name: repo.to_data() for repo in self.repositories if not repo.is_glob},
            "repository_globs": {"by_owner": by_owner, "any_owner": any_owner},
            "roles": {role.name: role.to_data() for role in self.roles},
            "principals": {principal.name: principal.to_data() for principal in self.principals},
        }
