"""Jobs as the loader builds them from the jobs file: what starts each one and the tool calls it makes."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, Literal

from policy_compiler import glob_matches

from gateway.automation._conditions import Condition

PRINCIPAL_PREFIX = "automation:"


@dataclasses.dataclass(frozen=True, kw_only=True)
class WebhookTrigger:
    """A Gitea webhook delivery of one of `events`; every other filter that is set must match too."""

    events: tuple[str, ...]
    actions: tuple[str, ...] = ()
    repositories: tuple[str, ...] = ()  # globs over owner/name
    branches: tuple[str, ...] = ()  # globs over a push's branch or a pull request's base
    paths: tuple[str, ...] = ()  # globs, any of the trigger's paths matching any; or its paths incomplete
    labels: tuple[str, ...] = ()  # the issue or pull request carries one of them

    def matches(self, facts: Mapping[str, Any]) -> bool:
        return (
            facts.get("event") in self.events
            and (not self.actions or facts.get("action") in self.actions)
            and (not self.repositories or _any_glob(self.repositories, [facts.get("repository")]))
            and (not self.branches or _any_glob(self.branches, [facts.get("branch")]))
            and (not self.paths or _paths_match(self.paths, facts))
            and (not self.labels or any(label in self.labels for label in facts.get("labels") or []))
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class ScheduleTrigger:
    """A UTC cron schedule: each slot runs once across replicas; a missed slot is skipped, or the latest
    one is caught up once. With `repositories`, a slot runs the steps once per repository that the job's
    own `list_repositories` call shows and a glob matches, with `trigger.owner`, `trigger.repo` and
    `trigger.default_branch` set."""

    cron: str
    missed: Literal["skip", "catch_up"] = "skip"
    jitter_s: float = 0.0
    repositories: tuple[str, ...] = ()  # globs: the job runs once per repository it may list that matches

    def covers(self, repository: str) -> bool:
        return _any_glob(self.repositories, [repository])


@dataclasses.dataclass(frozen=True, kw_only=True)
class Step:
    name: str
    tool: str
    args: Mapping[str, Any]  # a template
    for_each: str | None = None  # a template naming a list: the step runs once per element (`item`)
    when: tuple[Condition, ...] = ()
    source: str  # file:line


@dataclasses.dataclass(frozen=True, kw_only=True)
class Job:
    name: str
    trigger: WebhookTrigger | ScheduleTrigger
    steps: tuple[Step, ...]
    timeout_s: float
    max_items: int  # per step with for_each; elements past it are not run, and the run says so
    description: str = ""
    source: str  # file:line

    @property
    def principal(self) -> str:
        return PRINCIPAL_PREFIX + self.name


def _paths_match(globs: tuple[str, ...], facts: Mapping[str, Any]) -> bool:
    """A path matches, or the payload does not list every path (a push of more commits than Gitea lists):
    a filter that cannot see every path cannot rule the job out."""
    return facts.get("paths_complete") is False or _any_glob(globs, facts.get("paths") or [])


def _any_glob(globs: tuple[str, ...], values: list[Any]) -> bool:
    return any(isinstance(value, str) and glob_matches(glob, value) for glob in globs for value in values)
