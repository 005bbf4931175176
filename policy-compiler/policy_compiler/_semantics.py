"""Checks the schema cannot express: name and glob formats, duplicates, repository case clashes,
role references and times.

Runs on whatever the schema accepted or not: each check looks only at values of the right type.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from policy_compiler._errors import PolicyIssue
from policy_compiler._glob import glob_problem, normalize_glob
from policy_compiler._names import (
    normalize_repository,
    principal_name_problem,
    repository_pattern_problem,
    role_name_problem,
    tool_name_problem,
)
from policy_compiler._times import rfc3339_ns, time_problem
from policy_compiler._yaml import Document, JsonPath

__all__ = ["semantic_issues"]


class _Checker:
    def __init__(self, document: Document, file: str, known_tools: Collection[str] | None) -> None:
        self.document = document
        self.file = file
        self.known_tools = known_tools
        self.issues: list[PolicyIssue] = []

    def issue(self, location: tuple[int, int], message: str) -> None:
        self.issues.append(PolicyIssue(self.file, location[0], location[1], message))

    def run(self) -> list[PolicyIssue]:
        root = self.document.value
        if not isinstance(root, dict):
            return self.issues
        self.tool_rules(root.get("tools"), ("tools",))
        write = root.get("write")
        if isinstance(write, dict):
            self.repository_list(write.get("repositories"), ("write", "repositories"))
            self.string_list(write.get("branches"), ("write", "branches"), glob_problem, normalize_glob)
            self.tool_list(write.get("require_approval"), ("write", "require_approval"))
        audit = root.get("audit")
        if isinstance(audit, dict):
            self.string_list(audit.get("hash_arguments"), ("audit", "hash_arguments"), _no_problem, str)
        roles = root.get("roles")
        principals = root.get("principals")
        role_names = set(roles) if isinstance(roles, dict) else set()
        principal_names = set(principals) if isinstance(principals, dict) else set()
        repositories = root.get("repositories")
        if isinstance(repositories, dict):
            self.repositories(repositories, {"roles": role_names, "principals": principal_names})
        if isinstance(roles, dict):
            self.roles(roles)
        if isinstance(principals, dict):
            self.principals(principals, role_names)
        return self.issues

    def repositories(self, repositories: dict[str, object], defined: dict[str, set[str]]) -> None:
        first_seen: dict[str, str] = {}
        for name, rules in repositories.items():
            path: JsonPath = ("repositories", name)
            problem = repository_pattern_problem(name)
            if problem is not None:
                self.issue(self.document.key_at(path), problem)
            normalized = normalize_repository(name)
            if normalized in first_seen:
                first = first_seen[normalized]
                line = self.document.key_at(("repositories", first))[0]
                message = f"repository {name!r} repeats {first!r} (line {line}); names are case-insensitive"
                self.issue(self.document.key_at(path), message)
            else:
                first_seen[normalized] = name
            if isinstance(rules, dict):
                self.tool_rules(rules.get("tools"), (*path, "tools"))
                self.tool_list(rules.get("require_approval"), (*path, "require_approval"))
                paths = rules.get("paths")
                if isinstance(paths, dict):
                    self.path_globs(paths, (*path, "paths"))
                    for scope in ("roles", "principals"):
                        self.scoped_paths(paths.get(scope), (*path, "paths"), scope, defined[scope])

    def path_globs(self, paths: dict[str, object], path: JsonPath) -> None:
        for effect in ("allow", "deny"):
            self.string_list(paths.get(effect), (*path, effect), glob_problem, normalize_glob)

    def scoped_paths(self, blocks: object, paths: JsonPath, scope: str, defined: set[str]) -> None:
        """`paths.roles` or `paths.principals` (`scope`): each name defined under the top-level `roles`
        or `principals` (a misspelt one would restrict nobody), each block's globs valid."""
        if not isinstance(blocks, dict):
            return
        path = (*paths, scope)
        listed = ", ".join(sorted(defined)) or "none"
        for name, block in blocks.items():
            if name not in defined:
                where = "define it under 'roles'" if scope == "roles" else "list it under 'principals'"
                message = f"unknown {scope[:-1]} {name!r} in path rules; {where} ({scope}: {listed})"
                self.issue(self.document.key_at((*path, name)), message)
            if isinstance(block, dict):
                self.path_globs(block, (*path, name))

    def roles(self, roles: dict[str, object]) -> None:
        for name, role in roles.items():
            path: JsonPath = ("roles", name)
            problem = role_name_problem(name)
            if problem is not None:
                self.issue(self.document.key_at(path), problem)
            if isinstance(role, dict):
                self.tool_rules(role.get("tools"), (*path, "tools"))
                self.string_list(role.get("capabilities"), (*path, "capabilities"), _no_problem, str)
                self.repository_list(role.get("repositories"), (*path, "repositories"))

    def principals(self, principals: dict[str, object], roles: set[str]) -> None:
        for name, principal in principals.items():
            path: JsonPath = ("principals", name)
            problem = principal_name_problem(name)
            if problem is not None:
                self.issue(self.document.key_at(path), problem)
            if not isinstance(principal, dict):
                continue
            defined = ", ".join(sorted(roles)) or "none"

            def role_problem(role: str, defined: str = defined) -> str | None:
                if role in roles:
                    return None
                return f"unknown role {role!r}; define it under 'roles' (defined: {defined})"

            self.string_list(principal.get("roles"), (*path, "roles"), role_problem, str)
            self.repository_list(principal.get("repositories"), (*path, "repositories"))
            times: dict[str, int] = {}
            for key in ("not_before", "expires"):
                value = principal.get(key)
                if isinstance(value, str):
                    problem = time_problem(value)
                    if problem is None:
                        times[key] = rfc3339_ns(value)
                    else:
                        self.issue(self.document.value_at((*path, key)), problem)
            if len(times) == 2 and times["expires"] <= times["not_before"]:
                self.issue(
                    self.document.value_at((*path, "expires")), "'expires' must be later than 'not_before'"
                )

    def tool_rules(self, rules: object, path: JsonPath) -> None:
        if isinstance(rules, dict):
            for effect in ("allow", "deny"):
                self.tool_list(rules.get(effect), (*path, effect))

    def tool_list(self, items: object, path: JsonPath) -> None:
        self.string_list(items, path, self.tool_problem, str)

    def tool_problem(self, name: str) -> str | None:
        problem = tool_name_problem(name)
        if problem is None and self.known_tools is not None and name not in self.known_tools:
            problem = f"unknown tool {name!r}"
        return problem

    def repository_list(self, items: object, path: JsonPath) -> None:
        self.string_list(items, path, repository_pattern_problem, normalize_repository)

    def string_list(
        self,
        items: object,
        path: JsonPath,
        problem_of: Callable[[str], str | None],
        identity: Callable[[str], str],
    ) -> None:
        if not isinstance(items, list):
            return
        first_index: dict[str, int] = {}
        for index, item in enumerate(items):
            if not isinstance(item, str):
                continue  # the schema reports the type
            location = self.document.value_at((*path, index))
            problem = problem_of(item)
            if problem is not None:
                self.issue(location, problem)
                continue
            key = identity(item)
            if key in first_index:
                line = self.document.value_at((*path, first_index[key]))[0]
                self.issue(location, f"duplicate entry {item!r} (first at line {line})")
            else:
                first_index[key] = index


def _no_problem(_: str) -> str | None:
    return None  # capabilities and argument names: the schema checks the values


def semantic_issues(document: Document, file: str, known_tools: Collection[str] | None) -> list[PolicyIssue]:
    """Issues in names, globs, role references, times and duplicates of `document`; `known_tools`
    (if given) are the only tool names accepted."""
    return _Checker(document, file, known_tools).run()
