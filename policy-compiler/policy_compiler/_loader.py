"""load_policy: read, validate and normalize one YAML policy file."""

from __future__ import annotations

import hashlib
from collections.abc import Collection
from pathlib import Path
from typing import Any, Literal, cast

from policy_compiler._errors import PolicyError, PolicyIssue
from policy_compiler._glob import glob_to_regex, normalize_glob
from policy_compiler._model import (
    BUILTIN,
    BUILTIN_SECRET_STORE_PATHS,
    BUILTIN_SECRETS_OUTPUT,
    Default,
    Effect,
    EntryKind,
    Limit,
    OutputMode,
    OutputRule,
    PathRules,
    Policy,
    PrincipalRules,
    RepositoryRules,
    RoleRules,
    Rule,
    RuleList,
    SecretStorePaths,
    TimeBound,
)
from policy_compiler._names import is_repository_glob, normalize_repository, repository_regex
from policy_compiler._schema import schema_issues
from policy_compiler._semantics import semantic_issues
from policy_compiler._times import rfc3339_ns
from policy_compiler._yaml import Document, JsonPath, Opaque, read_yaml_file

__all__ = ["MAX_POLICY_BYTES", "check", "load_policy"]

MAX_POLICY_BYTES = 1024 * 1024
_DEFAULT_EFFECTS: dict[str, Literal["allow", "deny"]] = {
    "read": "allow",
    "write": "deny",
    "automation": "deny",
}


def load_policy(path: Path, *, known_tools: Collection[str] | None = None) -> Policy:
    """Read and validate the policy at `path`; raise PolicyError listing every issue found.

    `known_tools`, when given, is the set of tool names the gateway serves: naming any other tool
    is then an error (a typo in a deny list would otherwise deny nothing).

    Example:
        policy = load_policy(Path("policy.yaml"))
        policy.defaults_write.effect  # 'deny'
    """
    file = str(path)
    raw, document, issues = read_yaml_file(path, file, kind="policy", max_bytes=MAX_POLICY_BYTES)
    if document is None:
        raise PolicyError(issues)
    _read_timestamps_as_text(document)
    issues += schema_issues(document, file)
    issues += semantic_issues(document, file, known_tools)
    if issues:
        raise PolicyError(issues)
    return _Builder(document, hashlib.sha256(raw).hexdigest()).build()


def check(path: Path, *, known_tools: Collection[str] | None = None) -> list[PolicyIssue]:
    """Every issue in the policy at `path`; an empty list when it is valid."""
    try:
        load_policy(path, known_tools=known_tools)
    except PolicyError as exc:
        return exc.issues
    return []


def _read_timestamps_as_text(document: Document) -> None:
    """An unquoted `expires: 2026-01-31T18:00:00Z` is a YAML timestamp; the time fields take its text."""
    root = document.value
    principals = root.get("principals") if isinstance(root, dict) else None
    if not isinstance(principals, dict):
        return
    for principal in principals.values():
        if isinstance(principal, dict):
            for key in ("not_before", "expires"):
                value = principal.get(key)
                if isinstance(value, Opaque) and value.text is not None:
                    principal[key] = value.text


# The name every rule's source gives the policy document, whatever its file is called: the same YAML
# compiles to the same bundle and revision under any file name (the gateway's policy archive records
# which file it was loaded from).
SOURCE_NAME = "policy.yaml"


class _Builder:
    """Turns a document that passed every check into a Policy, naming and locating each rule."""

    def __init__(self, document: Document, sha256: str) -> None:
        self.document = document
        self.sha256 = sha256
        self.root = cast(dict[str, Any], document.value)

    def source(self, path: JsonPath, *, key: bool = True) -> str:
        line = (self.document.key_at(path) if key else self.document.value_at(path))[0]
        return f"{SOURCE_NAME}:{line}"

    def build(self) -> Policy:
        defaults = cast(dict[str, str], self.root.get("defaults", {}))
        tools = cast(dict[str, list[str]], self.root.get("tools", {}))
        write = cast(dict[str, list[str]], self.root.get("write", {}))
        repositories = cast(dict[str, dict[str, Any]], self.root.get("repositories", {}))
        roles = cast(dict[str, dict[str, Any]], self.root.get("roles", {}))
        principals = cast(dict[str, dict[str, Any]], self.root.get("principals", {}))
        secrets = cast(dict[str, str], self.root.get("secrets", {}))
        audit = cast(dict[str, list[str]], self.root.get("audit", {}))
        version = self.root.get("version")
        return Policy(
            source_sha256=self.sha256,
            version=version if isinstance(version, int) else None,
            defaults_read=self.default(defaults, "read"),
            defaults_write=self.default(defaults, "write"),
            defaults_automation=self.default(defaults, "automation"),
            max_file_bytes=self.limit(self.root.get("limits", {}), ("limits",), "limits"),
            tools_allow=self.rules(tools, ("tools", "allow"), "tools.allow", "name"),
            tools_deny=self.rules(tools, ("tools", "deny"), "tools.deny", "name"),
            write_repositories=self.rules(write, ("write", "repositories"), "write.repositories", "repo"),
            write_branches=self.rules(write, ("write", "branches"), "write.branches", "glob"),
            write_require_approval=self.rules(
                write, ("write", "require_approval"), "write.require_approval", "name"
            ),
            repositories=tuple(
                sorted(
                    (self.repository(name, rules) for name, rules in repositories.items()),
                    key=lambda repo: repo.name,
                )
            ),
            roles=tuple(self.role(name, role) for name, role in sorted(roles.items())),
            principals=tuple(self.principal(name, rules) for name, rules in sorted(principals.items())),
            secrets_output=self.output(secrets, ("secrets",), "secrets") or BUILTIN_SECRETS_OUTPUT,
            secret_store_paths=self.store_paths(secrets),
            audit_hash_arguments=self.rules(
                audit, ("audit", "hash_arguments"), "audit.hash_arguments", "name"
            ),
        )

    def default(self, defaults: dict[str, str], capability: str) -> Default:
        rule = f"defaults.{capability}"
        if capability not in defaults:
            return Default(rule=rule, effect=_DEFAULT_EFFECTS[capability], source=BUILTIN)
        effect = cast(Literal["allow", "deny"], defaults[capability])
        return Default(rule=rule, effect=effect, source=self.source(("defaults", capability)))

    def limit(self, limits: dict[str, int], path: JsonPath, prefix: str) -> Limit | None:
        if "max_file_bytes" not in limits:
            return None
        where = (*path, "max_file_bytes")
        return Limit(
            rule=f"{prefix}.max_file_bytes", source=self.source(where), bytes=limits["max_file_bytes"]
        )

    def output(self, secrets: dict[str, str], path: JsonPath, prefix: str) -> OutputRule | None:
        if "output" not in secrets:
            return None
        mode = cast(OutputMode, secrets["output"])
        return OutputRule(rule=f"{prefix}.output", source=self.source((*path, "output")), mode=mode)

    def store_paths(self, secrets: dict[str, str]) -> SecretStorePaths:
        if "store_paths" not in secrets:
            return BUILTIN_SECRET_STORE_PATHS
        effect = cast(Effect, secrets["store_paths"])
        source = self.source(("secrets", "store_paths"))
        return SecretStorePaths(rule=BUILTIN_SECRET_STORE_PATHS.rule, source=source, effect=effect)

    def repository(self, name: str, rules: dict[str, Any]) -> RepositoryRules:
        path: JsonPath = ("repositories", name)
        normalized = normalize_repository(name)
        prefix = f"repo.{normalized}"
        tools = rules.get("tools", {})
        paths = rules.get("paths", {})
        return RepositoryRules(
            name=normalized,
            source=self.source(path),
            tools_allow=self.rules(tools, (*path, "tools", "allow"), f"{prefix}.tools.allow", "name"),
            tools_deny=self.rules(tools, (*path, "tools", "deny"), f"{prefix}.tools.deny", "name"),
            paths_allow=self.rules(paths, (*path, "paths", "allow"), f"{prefix}.paths.allow", "glob"),
            paths_deny=self.rules(paths, (*path, "paths", "deny"), f"{prefix}.paths.deny", "glob"),
            path_roles=self.scoped_paths(paths, (*path, "paths"), f"{prefix}.paths", "roles"),
            path_principals=self.scoped_paths(paths, (*path, "paths"), f"{prefix}.paths", "principals"),
            max_file_bytes=self.limit(rules.get("limits", {}), (*path, "limits"), f"{prefix}.limits"),
            secrets_output=self.output(rules.get("secrets", {}), (*path, "secrets"), f"{prefix}.secrets"),
            require_approval=self.rules(
                rules, (*path, "require_approval"), f"{prefix}.require_approval", "name"
            ),
        )

    def scoped_paths(
        self, paths: dict[str, Any], path: JsonPath, prefix: str, scope: str
    ) -> tuple[PathRules, ...]:
        """The path rules of each role (or principal) under `paths.<scope>`, sorted by name."""
        blocks = cast(dict[str, dict[str, Any]], paths.get(scope, {}))
        where, rule = (*path, scope), f"{prefix}.{scope}"
        return tuple(
            PathRules(
                name=name,
                allow=self.rules(block, (*where, name, "allow"), f"{rule}.{name}.allow", "glob"),
                deny=self.rules(block, (*where, name, "deny"), f"{rule}.{name}.deny", "glob"),
            )
            for name, block in sorted(blocks.items())
        )

    def role(self, name: str, role: dict[str, Any]) -> RoleRules:
        path: JsonPath = ("roles", name)
        prefix = f"roles.{name}"
        tools = role.get("tools", {})
        return RoleRules(
            name=name,
            source=self.source(path),
            tools_allow=self.rules(tools, (*path, "tools", "allow"), f"{prefix}.tools.allow", "name"),
            tools_deny=self.rules(tools, (*path, "tools", "deny"), f"{prefix}.tools.deny", "name"),
            capabilities=self.rules(role, (*path, "capabilities"), f"{prefix}.capabilities", "capability"),
            repositories=self.rules(role, (*path, "repositories"), f"{prefix}.repositories", "repo"),
        )

    def principal(self, name: str, rules: dict[str, Any]) -> PrincipalRules:
        path: JsonPath = ("principals", name)
        prefix = f"principals.{name}"
        return PrincipalRules(
            name=name,
            source=self.source(path),
            roles=self.rules(rules, (*path, "roles"), f"{prefix}.roles", "role"),
            not_before=self.time(rules, (*path, "not_before"), f"{prefix}.not_before"),
            expires=self.time(rules, (*path, "expires"), f"{prefix}.expires"),
            repositories=self.rules(rules, (*path, "repositories"), f"{prefix}.repositories", "repo"),
        )

    def time(self, parent: dict[str, Any], path: JsonPath, rule: str) -> TimeBound | None:
        if path[-1] not in parent:
            return None
        text = cast(str, parent[path[-1]])
        return TimeBound(rule=rule, source=self.source(path), time=text, ns=rfc3339_ns(text))

    def rules(self, parent: dict[str, Any], path: JsonPath, rule: str, kind: EntryKind) -> RuleList:
        if path[-1] not in parent:
            return RuleList(rule=rule, source=BUILTIN, kind=kind)
        entries = []
        for index, value in enumerate(cast(list[str], parent[path[-1]])):
            source = self.source((*path, index), key=False)
            name = f"{rule}[{index}]"
            if kind == "glob":
                glob = normalize_glob(value)
                entries.append(Rule(rule=name, source=source, value=glob, regex=glob_to_regex(glob)))
            elif kind == "repo":
                repo = normalize_repository(value)
                regex = repository_regex(repo) if is_repository_glob(repo) else None
                entries.append(Rule(rule=name, source=source, value=repo, regex=regex))
            else:
                entries.append(Rule(rule=name, source=source, value=value))
        return RuleList(rule=rule, source=self.source(path), kind=kind, entries=tuple(entries))
