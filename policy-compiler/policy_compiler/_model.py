"""The validated, normalized policy and the data document OPA reads as `data.aegis.policy`.

Every rule carries its name (`repo.acme/app.paths.deny[0]`) and its source (`policy.yaml:14`,
or `builtin` for a value the file does not set), so Rego copies them into decision reasons.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

__all__ = ["DATA_FORMAT", "Default", "Policy", "RepositoryRules", "Rule", "RuleList"]

DATA_FORMAT = 1
BUILTIN = "builtin"

Effect = Literal["allow", "deny"]
EntryKind = Literal["name", "repo", "glob"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Rule:
    """One entry of a list: a tool name, a repository, or a path glob (with its regex)."""

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
            entries.append(item)
        return {"rule": self.rule, "source": self.source, "entries": entries}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Default:
    """`defaults.read` or `defaults.write`."""

    rule: str
    effect: Effect
    source: str

    def to_data(self) -> dict[str, object]:
        return {"rule": self.rule, "effect": self.effect, "source": self.source}


@dataclasses.dataclass(frozen=True, kw_only=True)
class RepositoryRules:
    """The rules of one repository (`name` is lower-cased)."""

    name: str
    source: str
    tools_allow: RuleList
    tools_deny: RuleList
    paths_allow: RuleList
    paths_deny: RuleList

    def to_data(self) -> dict[str, object]:
        return {
            "rule": f"repo.{self.name}",
            "source": self.source,
            "tools": {"allow": self.tools_allow.to_data(), "deny": self.tools_deny.to_data()},
            "paths": {"allow": self.paths_allow.to_data(), "deny": self.paths_deny.to_data()},
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class Policy:
    """A policy file that passed every check. `version` is None for a legacy file without one."""

    file: str
    source_sha256: str
    version: int | None
    defaults_read: Default
    defaults_write: Default
    tools_allow: RuleList
    tools_deny: RuleList
    write_repositories: RuleList
    repositories: tuple[RepositoryRules, ...]

    def repository(self, name: str) -> RepositoryRules | None:
        """The rules of repository `name` (any case), or None when it has none."""
        wanted = name.lower()
        return next((repo for repo in self.repositories if repo.name == wanted), None)

    def to_data(self) -> dict[str, object]:
        """The JSON document shipped at aegis/policy/data.json."""
        return {
            "format": DATA_FORMAT,
            "source": {"file": self.file, "sha256": self.source_sha256},
            "defaults": {"read": self.defaults_read.to_data(), "write": self.defaults_write.to_data()},
            "tools": {"allow": self.tools_allow.to_data(), "deny": self.tools_deny.to_data()},
            "write": {"repositories": self.write_repositories.to_data()},
            "repositories": {repo.name: repo.to_data() for repo in self.repositories},
        }
