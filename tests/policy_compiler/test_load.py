"""load_policy and check: golden cases, error reporting, and the Policy model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from policy_compiler import PolicyError, PolicyIssue, check, load_policy

from gateway.demo import EXAMPLE_POLICY
from tests.policy_compiler.conftest import REPO_ROOT
from tests.policy_compiler.golden import assert_subset, load_cases

WritePolicy = Callable[..., Path]


@pytest.mark.parametrize("case", load_cases("errors.yaml"))
def test_invalid_policy_reports_every_issue(case: dict[str, Any], write_policy: WritePolicy) -> None:
    path = write_policy(case["input"])
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert str(raised.value) + "\n" == case["want_error"]


@pytest.mark.parametrize("case", load_cases("compile.yaml"))
def test_valid_policy_compiles_to_data(case: dict[str, Any], write_policy: WritePolicy) -> None:
    path = write_policy(case["input"])
    assert check(path) == []
    assert_subset(case["want"], load_policy(path).to_data())


def test_issue_fields_are_one_based_and_printable(write_policy: WritePolicy) -> None:
    path = write_policy("tools:\n  deny: [1]\n")
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert raised.value.issues == [
        PolicyIssue(
            file="policy.yaml",
            line=2,
            column=10,
            message="expected a string at 'tools.deny.0', got the number 1",
        )
    ]
    assert (
        str(raised.value.issues[0])
        == "policy.yaml:2:10: expected a string at 'tools.deny.0', got the number 1"
    )


def test_issue_file_is_the_path_as_given(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "p.yaml"
    path.parent.mkdir()
    path.write_text("version: 9\n", encoding="utf-8")
    assert [str(issue) for issue in check(path)] == [
        f"{path}:1:10: unsupported policy version 9; the only version is 1"
    ]


def test_check_returns_the_issues_of_load_policy(write_policy: WritePolicy) -> None:
    path = write_policy("tools: {deny: [a, a]}\nversion: 0\n")
    with pytest.raises(PolicyError) as raised:
        load_policy(path)
    assert check(path) == raised.value.issues
    assert len(check(path)) == 2


def test_missing_file_is_an_issue(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    assert [issue.message for issue in check(path)] == [
        "cannot read the policy file: No such file or directory"
    ]


def test_non_utf8_file_is_an_issue(write_policy: WritePolicy) -> None:
    path = write_policy("")
    path.write_bytes(b"tools: {deny: [\xff]}\n")
    assert [(issue.line, issue.message) for issue in check(path)] == [
        (1, "the policy file is not UTF-8 (invalid start byte)")
    ]


def test_oversized_file_is_an_issue(write_policy: WritePolicy) -> None:
    path = write_policy("# " + "x" * (1024 * 1024) + "\n")
    assert [issue.message for issue in check(path)] == ["the policy file is larger than 1048576 bytes"]


def test_utf8_bom_is_accepted(write_policy: WritePolicy) -> None:
    path = write_policy("\ufeffversion: 1\n")
    assert load_policy(path).version == 1


def test_known_tools_reject_unknown_names(write_policy: WritePolicy) -> None:
    path = write_policy("tools:\n  deny: [get_issue, get_isue]\n")
    assert load_policy(path).tools_deny.entries[1].value == "get_isue"
    assert [str(issue) for issue in check(path, known_tools={"get_issue", "list_issues"})] == [
        "policy.yaml:2:21: unknown tool 'get_isue'"
    ]


def test_known_tools_reject_unknown_names_in_require_approval(write_policy: WritePolicy) -> None:
    path = write_policy(
        "write:\n  require_approval: [create_pull_request, create_pr]\n"
        "repositories:\n  acme/*:\n    require_approval: [add_label]\n"
    )
    known = {"create_pull_request", "add_labels"}
    assert [str(issue) for issue in check(path, known_tools=known)] == [
        "policy.yaml:2:43: unknown tool 'create_pr'",
        "policy.yaml:5:24: unknown tool 'add_label'",
    ]
    policy = load_policy(path)
    listed = [entry.value for entry in policy.write_require_approval.entries]
    assert listed == ["create_pull_request", "create_pr"]
    rules = policy.repository("ACME/*")
    assert rules is not None
    assert rules.require_approval.entries[0].rule == "repo.acme/*.require_approval[0]"
    assert rules.require_approval.entries[0].source == "policy.yaml:5"


def test_require_approval_is_absent_unless_written(write_policy: WritePolicy) -> None:
    policy = load_policy(write_policy("repositories:\n  acme/app: {}\n"))
    assert policy.write_require_approval.source == "builtin"
    assert policy.write_require_approval.entries == ()
    rules = policy.repository("acme/app")
    assert rules is not None
    assert rules.require_approval.rule == "repo.acme/app.require_approval"
    assert rules.require_approval.source == "builtin"


def test_policy_model_is_normalized(write_policy: WritePolicy) -> None:
    path = write_policy(
        "version: 1\nwrite: {repositories: [Acme/App]}\nrepositories:\n  Acme/App:\n    tools: {deny: [x]}\n"
    )
    policy = load_policy(path)
    assert policy.version == 1
    assert policy.write_repositories.entries[0].value == "acme/app"
    rules = policy.repository("ACME/app")
    assert rules is not None
    assert rules.tools_deny.entries[0].rule == "repo.acme/app.tools.deny[0]"
    assert policy.repository("acme/other") is None


def test_legacy_file_has_no_version(write_policy: WritePolicy) -> None:
    assert load_policy(write_policy("defaults: {read: allow}\n")).version is None


def test_examples_are_valid() -> None:
    for example in [EXAMPLE_POLICY, *sorted((REPO_ROOT / "examples").glob("*policy.yaml"))]:
        assert check(example) == [], example


def test_policy_error_needs_an_issue() -> None:
    with pytest.raises(ValueError, match="at least one issue"):
        PolicyError([])
