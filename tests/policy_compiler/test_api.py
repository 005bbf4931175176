"""The public surface of policy_compiler, and robustness of load_policy on arbitrary input."""

from __future__ import annotations

import json
import re
from pathlib import Path

import policy_compiler
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from policy_compiler import BundleError, PolicyCompilerError, PolicyError, check, load_policy


def test_public_names() -> None:
    assert sorted(policy_compiler.__all__) == sorted(
        [
            "COMPILER_ID",
            "SOURCE_NAME",
            "BundleError",
            "BundleInfo",
            "Default",
            "Document",
            "JsonPath",
            "Limit",
            "OutputRule",
            "PathRules",
            "Policy",
            "PolicyCompilerError",
            "PolicyError",
            "PolicyIssue",
            "PolicyNames",
            "PrincipalRules",
            "RepositoryRules",
            "RoleRules",
            "Rule",
            "RuleList",
            "SECRET_STORE_GLOBS",
            "SUPPORTED_ALGORITHMS",
            "SecretStoreGlob",
            "SecretStorePaths",
            "SigningError",
            "TimeBound",
            "build_bundle",
            "bundle_revision",
            "check",
            "glob_matches",
            "glob_samples",
            "glob_to_regex",
            "is_secret_store_path",
            "load_policy",
            "located_schema_issues",
            "read_yaml_file",
            "policy_names",
            "repository_path_globs",
            "sign_bundle",
        ]
    )
    for name in policy_compiler.__all__:
        assert hasattr(policy_compiler, name), name


def test_one_exception_root() -> None:
    assert issubclass(PolicyError, PolicyCompilerError)
    assert issubclass(BundleError, PolicyCompilerError)


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    for depth in (40, 100_000):
        path.write_text("tools: " + "[" * depth + "]" * depth + "\n", encoding="utf-8")
        messages = [issue.message for issue in check(path)]
        assert any("nesting" in message for message in messages), messages


_KEYS = st.sampled_from(
    [
        "version",
        "defaults",
        "read",
        "write",
        "tools",
        "allow",
        "deny",
        "repositories",
        "paths",
        "secrets",
        "output",
        "store_paths",
        "acme/app",
        "x",
    ]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.sampled_from(
        [
            "allow",
            "deny",
            "mask",
            "block",
            "get_issue",
            "src/**",
            "acme/app",
            "/abs",
            "a//b",
            "*",
            "",
            "Acme/App",
        ]
    ),
    st.text(max_size=6),
)
_VALUES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(_KEYS, inner, max_size=4)),
    max_leaves=25,
)


@settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(document=st.dictionaries(_KEYS, _VALUES, max_size=5))
def test_any_document_loads_or_fails_with_issues(document: dict[str, object], tmp_path: Path) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    issues = check(path)  # load_policy raising PolicyError, or nothing else
    if issues:
        assert all(issue.line >= 1 and issue.column >= 1 and issue.message for issue in issues)
        return
    policy = load_policy(path)
    json.dumps(policy.to_data())
    for repo in policy.repositories:
        for entry in (*repo.paths_allow.entries, *repo.paths_deny.entries):
            assert entry.regex is not None
            re.compile(entry.regex)
