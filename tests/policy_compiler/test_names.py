"""Tool and repository names, and that the JSON Schema patterns agree with the Python checks."""

from __future__ import annotations

import json
import random
import re

import pytest
from policy_compiler._glob import glob_problem
from policy_compiler._names import (
    principal_name_problem,
    repository_pattern_problem,
    repository_problem,
    role_name_problem,
    tool_name_problem,
)
from policy_compiler._resources import schema_file

GOOD_TOOLS = ["get_file_contents", "a", "x" * 128, "Tool.Name-2", "list_repositories"]
BAD_TOOLS = ["", "x" * 129, "get issue", "*", "get_*", "a/b", "é", "tool\n"]
GOOD_REPOS = ["acme/app", "Acme/App", "a/b", "my-org/my.repo_1", "o" * 40 + "/" + "r" * 100, ".hidden/.x"]
BAD_REPOS = [
    "acme",
    "acme/app/src",
    "/app",
    "acme/",
    "acme/*",
    "*/app",
    "../app",
    "acme/..",
    "./app",
    "acme/.",
    "o" * 41 + "/r",
    "o/" + "r" * 101,
    "a b/c",
    "acme/app ",
    "https://gitea.example/acme/app",
    "acme/ap\u00e9",
]


# Principals: API key names, and automation:<job> (a job named like a key).
GOOD_PRINCIPALS = [
    "ci-bot",
    "a",
    "x" * 64,
    "automation:nightly",
    "automation:" + "j" * 64,
    "automation:triage.v2",
]
BAD_PRINCIPALS = [
    "CI-Bot",
    "-bot",
    "x" * 65,
    "automation:",
    "automation:Nightly",
    "automation:-x",
    "automation:" + "j" * 65,
    "oauth:alice",
    "automation:a:b",
    ":nightly",
]


@pytest.mark.parametrize("name", GOOD_PRINCIPALS)
def test_good_principal_names(name: str) -> None:
    assert principal_name_problem(name) is None


@pytest.mark.parametrize("name", BAD_PRINCIPALS)
def test_bad_principal_names(name: str) -> None:
    assert principal_name_problem(name) is not None


@pytest.mark.parametrize("name", GOOD_TOOLS)
def test_valid_tool_name(name: str) -> None:
    assert tool_name_problem(name) is None


@pytest.mark.parametrize("name", BAD_TOOLS)
def test_invalid_tool_name(name: str) -> None:
    assert tool_name_problem(name) == (
        f"invalid tool name {name!r}: use 1 to 128 letters, digits, '_', '-' or '.'"
    )


@pytest.mark.parametrize("name", GOOD_REPOS)
def test_valid_repository(name: str) -> None:
    assert repository_problem(name) is None


@pytest.mark.parametrize("name", BAD_REPOS)
def test_invalid_repository(name: str) -> None:
    problem = repository_problem(name)
    assert problem is not None
    assert problem.startswith(f"invalid repository {name!r}: ")


def _pattern(definition: str) -> re.Pattern[str]:
    """The schema pattern read as ECMA-262 does: Python's `$` would also match before a final
    newline (so jsonschema alone would accept 'tool\\n'; the compiler's own checks do not)."""
    schema = json.loads(schema_file().read_text(encoding="utf-8"))
    pattern: str = schema["$defs"][definition]["pattern"]
    assert pattern.endswith("$")
    return re.compile(pattern[:-1] + r"\Z")


def _strings(alphabet: str, count: int) -> list[str]:
    rng = random.Random(7)  # noqa: S311 (test data, fixed seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(count)]


def test_schema_patterns_agree_with_python_checks() -> None:
    """The schema (for editors) accepts exactly what the compiler accepts, glob segments aside."""
    tool = _pattern("toolName")
    repo = _pattern("repository")
    glob = _pattern("glob")
    names = GOOD_TOOLS + BAD_TOOLS + GOOD_REPOS + BAD_REPOS + _strings("ab./-_*? é\\[{\x00", 3000)
    for name in names:
        assert (tool.search(name) is not None) == (tool_name_problem(name) is None), name
        assert (repo.search(name) is not None) == (repository_problem(name) is None), name
        if glob_problem(name) is None:  # the compiler is stricter about globs than the schema
            assert glob.search(name) is not None, name


def test_schema_patterns_of_v1_names_agree_with_python_checks() -> None:
    pattern = _pattern("repositoryPattern")
    principal = _pattern("principalName")
    role = _pattern("roleName")
    names = GOOD_REPOS + BAD_REPOS + ["acme/*", "*/docs", "a?/b*", "acme/**", "*", "*/..", "./*"]
    names += GOOD_PRINCIPALS + BAD_PRINCIPALS
    names += _strings("ab./-_*?A \\[", 3000)
    for name in names:
        assert (pattern.search(name) is not None) == (repository_pattern_problem(name) is None), name
        assert (principal.search(name) is not None) == (principal_name_problem(name) is None), name
        assert (role.search(name) is not None) == (role_name_problem(name) is None), name
