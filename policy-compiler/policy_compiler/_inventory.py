"""policy_names: the concrete names a policy refers to, for tools that compare two policies.

Example:
    names = policy_names(load_policy(Path("policy.yaml")))
    names.repositories  # ('acme/app', 'acme/infra', 'acme/x', ...): literal names, one sample per glob
"""

from __future__ import annotations

import dataclasses
import re

from policy_compiler._model import Policy, RuleList
from policy_compiler._names import repository_example
from policy_compiler._secret_stores import SECRET_STORE_GLOBS

__all__ = ["PolicyNames", "glob_example", "policy_names"]


@dataclasses.dataclass(frozen=True)
class PolicyNames:
    """Sorted, distinct sample values: literal names as written (normalized), and for each glob one
    concrete string it matches."""

    principals: tuple[str, ...]
    tools: tuple[str, ...]
    repositories: tuple[str, ...]
    paths: tuple[str, ...]


def glob_example(glob: str) -> str:
    """One path a (valid, normalized) path glob matches: each wildcard run becomes 'x'."""
    return "/".join("x" if segment == "**" else re.sub(r"[*?]+", "x", segment) for segment in glob.split("/"))


def policy_names(policy: Policy) -> PolicyNames:
    """The principals, tools, repositories and paths `policy` names, as sorted tuples.

    A policy that turns the built-in secret-store deny off (`secrets.store_paths: allow`) names a
    sample path of each secret-store glob too, so that comparing it with one that does not shows
    those paths.
    """
    tools: set[str] = set()
    repositories: set[str] = set()
    paths: set[str] = set()

    def add_tools(*lists: RuleList) -> None:
        tools.update(entry.value for rules in lists for entry in rules.entries)

    def add_repositories(rules: RuleList) -> None:
        repositories.update(repository_example(entry.value) for entry in rules.entries)

    add_tools(policy.tools_allow, policy.tools_deny, policy.write_require_approval)
    add_repositories(policy.write_repositories)
    for repo in policy.repositories:
        repositories.add(repository_example(repo.name))
        add_tools(repo.tools_allow, repo.tools_deny, repo.require_approval)
        paths.update(
            glob_example(entry.value) for entry in (*repo.paths_allow.entries, *repo.paths_deny.entries)
        )
    for role in policy.roles:
        add_tools(role.tools_allow, role.tools_deny)
        add_repositories(role.repositories)
    for principal in policy.principals:
        add_repositories(principal.repositories)
    if policy.secret_store_paths.effect == "allow":
        paths.update(glob_example(entry.glob) for entry in SECRET_STORE_GLOBS)
    return PolicyNames(
        principals=tuple(sorted(principal.name for principal in policy.principals)),
        tools=tuple(sorted(tools)),
        repositories=tuple(sorted(repositories)),
        paths=tuple(sorted(paths)),
    )
