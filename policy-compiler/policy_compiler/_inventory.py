"""policy_names: the concrete names a policy refers to, for tools that compare two policies.

Example:
    names = policy_names(load_policy(Path("policy.yaml")))
    names.repositories  # ('acme/app', 'acme/infra', 'acme/x', ...): literal names, one sample per glob
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable

from policy_compiler._model import Policy, RepositoryRules, RuleList
from policy_compiler._names import repository_example, repository_regex
from policy_compiler._secret_stores import SECRET_STORE_GLOBS

__all__ = ["PolicyNames", "glob_example", "glob_samples", "policy_names", "repository_path_globs"]

_WILDCARD = re.compile(r"[*?]")


@dataclasses.dataclass(frozen=True)
class PolicyNames:
    """Sorted, distinct sample values: literal names as written (normalized), for each repository glob
    one repository it matches, and for each path or branch glob the samples of `glob_samples`."""

    principals: tuple[str, ...]
    tools: tuple[str, ...]
    repositories: tuple[str, ...]
    paths: tuple[str, ...]
    branches: tuple[str, ...] = ()


def glob_example(glob: str) -> str:
    """One path a (valid, normalized) path glob matches: each wildcard run becomes 'x'."""
    return "/".join("x" if segment == "**" else re.sub(r"[*?]+", "x", segment) for segment in glob.split("/"))


def glob_samples(glob: str) -> tuple[str, ...]:
    """Paths on both sides of a (valid, normalized) glob's boundary: `glob_example`; the same with each
    `**` two directories deep and with each `**` matching no directory (`src/**` also gives `src/x/x`
    and `src`); and, when the glob starts with a literal segment, that segment's sibling, which the
    glob does not match (`srcx/x`; `README.mdx` for `README.md`).

    Example:
        glob_samples("src/**")  # ('src', 'src/x', 'src/x/x', 'srcx/x')
    """
    segments = glob.split("/")
    example = glob_example(glob)
    samples = {example}
    if "**" in segments:
        samples.add("/".join("x/x" if segment == "**" else glob_example(segment) for segment in segments))
        shallow = [glob_example(segment) for segment in segments if segment != "**"]
        if shallow:
            samples.add("/".join(shallow))
    first = segments[0]
    if not _WILDCARD.search(first):
        samples.add("/".join([first + "x", *example.split("/")[1:]]))
    return tuple(sorted(samples))


def policy_names(policy: Policy) -> PolicyNames:
    """The principals, tools, repositories and paths `policy` names, as sorted tuples.

    Paths are the samples of every path glob (repository-wide, of a role, of a principal), and
    branches those of the `write.branches` globs. A policy that turns the built-in secret-store
    deny off (`secrets.store_paths: allow`) names the samples of each secret-store glob too, so
    that comparing it with one that does not shows those paths.
    """
    tools: set[str] = set()
    repositories: set[str] = set()
    paths: set[str] = set()

    def add_paths(globs: Iterable[str]) -> None:
        paths.update(sample for glob in globs for sample in glob_samples(glob))

    def add_tools(*lists: RuleList) -> None:
        tools.update(entry.value for rules in lists for entry in rules.entries)

    def add_repositories(rules: RuleList) -> None:
        repositories.update(repository_example(entry.value) for entry in rules.entries)

    add_tools(policy.tools_allow, policy.tools_deny, policy.write_require_approval)
    add_repositories(policy.write_repositories)
    for repo in policy.repositories:
        repositories.add(repository_example(repo.name))
        add_tools(repo.tools_allow, repo.tools_deny, repo.require_approval)
        add_paths(_path_globs(repo))
    for role in policy.roles:
        add_tools(role.tools_allow, role.tools_deny)
        add_repositories(role.repositories)
    for principal in policy.principals:
        add_repositories(principal.repositories)
    if policy.secret_store_paths.effect == "allow":
        add_paths(entry.glob for entry in SECRET_STORE_GLOBS)
    branches = {sample for entry in policy.write_branches.entries for sample in glob_samples(entry.value)}
    return PolicyNames(
        principals=tuple(sorted(principal.name for principal in policy.principals)),
        tools=tuple(sorted(tools)),
        repositories=tuple(sorted(repositories)),
        paths=tuple(sorted(paths)),
        branches=tuple(sorted(branches)),
    )


def repository_path_globs(policy: Policy, repo: str) -> tuple[str, ...]:
    """Every path glob that applies to calls on repository `repo` (lower-cased `owner/name`): those of
    each repository key matching it, exact or glob, with their roles' and principals'. Paths that
    the same globs match, and the built-in secret-store list alike, are decided alike on `repo`."""
    return tuple(
        glob
        for rules in policy.repositories
        if re.fullmatch(repository_regex(rules.name), repo)
        for glob in _path_globs(rules)
    )


def _path_globs(repo: RepositoryRules) -> tuple[str, ...]:
    """Every path glob of a repository key: its own allow and deny, and those of its roles and principals."""
    blocks = [(repo.paths_allow, repo.paths_deny)]
    blocks += [(scoped.allow, scoped.deny) for scoped in (*repo.path_roles, *repo.path_principals)]
    return tuple(entry.value for lists in blocks for rules in lists for entry in rules.entries)
