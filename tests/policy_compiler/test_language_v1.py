"""Policy language v1 in the compiler: times, repository globs and their index, policy_names."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from policy_compiler import glob_matches, glob_samples, load_policy, policy_names, repository_path_globs
from policy_compiler._names import repository_pattern_problem, repository_regex
from policy_compiler._times import rfc3339_ns, time_problem

from tests.policy_compiler.conftest import REPO_ROOT

WritePolicy = Callable[..., Path]

TIMES = [
    ("1970-01-01T00:00:00Z", 0),
    ("1970-01-01T00:00:01.5+00:00", 1_500_000_000),
    ("2026-01-01T01:00:00+01:00", 1_767_225_600_000_000_000),
    ("2026-01-01 00:00:00z", 1_767_225_600_000_000_000),
    ("2025-12-31T23:00:00.000000001-01:00", 1_767_225_600_000_000_001),
]


@pytest.mark.parametrize(("text", "ns"), TIMES, ids=[text for text, _ in TIMES])
def test_times_are_read_to_the_nanosecond(text: str, ns: int) -> None:
    assert rfc3339_ns(text) == ns


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "2026-01-01",
            "invalid time '2026-01-01': use RFC 3339 with a timezone, e.g. '2026-01-31T18:00:00Z'",
        ),
        ("2026-01-01T00:00:00", "invalid time '2026-01-01T00:00:00': use RFC 3339 with a timezone"),
        ("2026-13-01T00:00:00Z", "invalid time '2026-13-01T00:00:00Z': month must be in 1..12"),
        ("2026-01-01T00:00:00+24:00", "the timezone offset is out of range"),
        ("1969-12-31T23:59:59Z", "is out of range: use a time from 1970 to 2261"),
    ],
)
def test_bad_times_are_explained(text: str, message: str) -> None:
    problem = time_problem(text)
    assert problem is not None
    assert message in problem


REPOSITORY_GLOBS = [
    ("acme/*", "acme/app", True),
    ("acme/*", "acme", False),
    ("acme/*", "other/app", False),
    ("*/docs", "acme/docs", True),
    ("*/docs", "acme/docs2", False),
    ("ACME/App-?", "acme/app-1", True),
    ("acme/app-?", "acme/app-12", False),
    ("a.c/*", "abc/x", False),
    ("*/*", "x/y", True),
]


@pytest.mark.parametrize(
    ("glob", "repo", "matches"), REPOSITORY_GLOBS, ids=[f"{g} ~ {r}" for g, r, _ in REPOSITORY_GLOBS]
)
def test_repository_glob_semantics(glob: str, repo: str, matches: bool) -> None:
    assert repository_pattern_problem(glob) is None
    assert (re.fullmatch(repository_regex(glob), repo) is not None) is matches


def test_repository_globs_are_indexed_by_literal_owner(write_policy: WritePolicy) -> None:
    path = write_policy(
        "write: {repositories: [acme/app, 'acme/*', '*/docs']}\n"
        "repositories:\n  'acme/*': {}\n  '*/docs': {}\n  acme/app: {}\n"
    )
    data = load_policy(path).to_data()
    assert list(data["repositories"]) == ["acme/app"]  # type: ignore[call-overload]
    globs = data["repository_globs"]
    assert [rules["rule"] for rules in globs["by_owner"]["acme"]] == ["repo.acme/*"]  # type: ignore[index]
    assert [rules["rule"] for rules in globs["any_owner"]] == ["repo.*/docs"]  # type: ignore[index]
    index = data["write"]["repositories"]["index"]  # type: ignore[index]
    assert index == {"exact": {"acme/app": 0}, "by_owner": {"acme": [1]}, "any_owner": [2]}


def test_unquoted_and_quoted_times_compile_alike(write_policy: WritePolicy) -> None:
    unquoted = load_policy(write_policy("principals:\n  ci: {expires: 2026-01-01T00:00:00Z}\n")).to_data()
    quoted = load_policy(write_policy("principals:\n  ci: {expires: '2026-01-01T00:00:00Z'}\n")).to_data()
    assert unquoted["principals"] == quoted["principals"]
    assert unquoted["principals"]["ci"]["expires"] == {  # type: ignore[index]
        "rule": "principals.ci.expires",
        "source": "policy.yaml:2",
        "time": "2026-01-01T00:00:00Z",
        "ns": 1_767_225_600_000_000_000,
    }


def test_policy_names_of_the_team_example() -> None:
    names = policy_names(load_policy(REPO_ROOT / "examples" / "team-policy.yaml"))
    assert names.principals == ("ci-bot", "contractor")
    assert names.tools == (
        "create_file",
        "get_file_contents",
        "get_file_tree",
        "list_commits",
        "search_code",
        "update_file",
    )
    assert names.repositories == ("acme/app", "acme/docs-x", "acme/x", "x/handbook")
    assert names.paths == (
        ".env",
        "src/secrets",
        "src/secrets/x",
        "src/secrets/x/x",
        "srcx/secrets/x",
        "x.pem",
        "x/.env",
        "x/x.pem",
        "x/x/.env",
        "x/x/x.pem",
    )
    assert names.branches == ("aegis", "aegis/x", "aegis/x/x", "aegisx/x")


@pytest.mark.parametrize(
    ("glob", "inside", "outside"),
    [
        ("src/**", ("src", "src/x", "src/x/x"), ("srcx/x",)),
        ("**/.env", (".env", "x/.env", "x/x/.env"), ()),
        ("a/**/b", ("a/b", "a/x/b", "a/x/x/b"), ("ax/x/b",)),
        ("docs/*.md", ("docs/x.md",), ("docsx/x.md",)),
        ("README.md", ("README.md",), ("README.mdx",)),
        ("a?c", ("axc",), ()),
        ("**", ("x", "x/x"), ()),
    ],
)
def test_glob_samples_stand_on_both_sides_of_the_boundary(
    glob: str, inside: tuple[str, ...], outside: tuple[str, ...]
) -> None:
    assert set(glob_samples(glob)) == {*inside, *outside}
    assert all(glob_matches(glob, path) for path in inside)
    assert not any(glob_matches(glob, path) for path in outside)


def test_repository_path_globs_are_those_of_every_matching_key(write_policy: WritePolicy) -> None:
    path = write_policy(
        "roles: {docs-bot: {}}\nprincipals: {ci-bot: {}}\nrepositories:\n"
        '  acme/app:\n    paths:\n      allow: ["src/**"]\n'
        '      roles: {docs-bot: {deny: ["src/a"]}}\n      principals: {ci-bot: {allow: [b]}}\n'
        '  acme/*:\n    paths: {deny: ["**/*.pem"]}\n'
        "  other/app:\n    paths: {deny: [c]}\n"
    )
    policy = load_policy(path)
    assert repository_path_globs(policy, "acme/app") == ("**/*.pem", "src/**", "src/a", "b")
    assert repository_path_globs(policy, "acme/lib") == ("**/*.pem",)
    assert repository_path_globs(policy, "x/y") == ()


def test_every_path_sample_matches_its_glob(write_policy: WritePolicy) -> None:
    globs = ["src/**", "**/.env", "a/**/b", "a?c", "*.md", "x**y", "**"]
    path = write_policy("repositories:\n  acme/app:\n    paths: {deny: " + json.dumps(globs) + "}\n")
    samples = policy_names(load_policy(path)).paths
    assert all(any(glob_matches(glob, sample) for sample in samples) for glob in globs)


def test_policy_names_include_the_tools_held_for_approval(write_policy: WritePolicy) -> None:
    path = write_policy(
        "write:\n  require_approval: [create_pull_request]\n"
        "repositories:\n  acme/*:\n    require_approval: [add_labels]\n"
    )
    assert policy_names(load_policy(path)).tools == ("add_labels", "create_pull_request")
