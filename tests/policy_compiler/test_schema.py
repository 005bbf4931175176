"""The policy JSON Schema (policy_compiler's policy.schema.json): valid Draft 2020-12, accepts examples."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from policy_compiler._resources import schema_file

from gateway.demo import EXAMPLE_POLICY
from tests.policy_compiler.conftest import REPO_ROOT

SCHEMA = json.loads(schema_file().read_text(encoding="utf-8"))


def test_schema_is_draft_2020_12() -> None:
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


@pytest.mark.parametrize(
    "example",
    [EXAMPLE_POLICY, *(REPO_ROOT / "examples" / name for name in ("legacy-policy.yaml", "team-policy.yaml"))],
    ids=lambda path: path.name,
)
def test_examples_match_the_schema(example: Path) -> None:
    document = yaml.safe_load(example.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(SCHEMA).validate(document)


@pytest.mark.parametrize(
    "document",
    [
        {"version": 2},
        {"defaults": {"read": "yes"}},
        {"tools": {"allow": []}},
        {"tools": {"deny": ["a b"]}},
        {"repositories": {"acme": {}}},
        {"repositories": {"acme/app": {"paths": {"deny": ["/abs"]}}}},
        {"write": {"repositories": ["acme/app", "acme/app"]}},
        {"extra": 1},
        {"secrets": {"output": "redact"}},
        {"secrets": {"store_paths": False}},
        {"secrets": {"scan": True}},
        {"repositories": {"acme/app": {"secrets": {"store_paths": "allow"}}}},
        {"write": {"require_approval": "create_pull_request"}},
        {"write": {"require_approval": ["create pr"]}},
        {"write": {"require_approval": ["create_pull_request", "create_pull_request"]}},
        {"write": {"require_approval": [3]}},
        {"repositories": {"acme/*": {"require_approval": ["*"]}}},
        {"repositories": {"acme/*": {"require_approval": {"tools": ["add_labels"]}}}},
        {"repositories": {"acme/*": {"require_approvals": ["add_labels"]}}},
    ],
    ids=repr,
)
def test_schema_rejects_invalid_documents(document: dict[str, object]) -> None:
    assert not jsonschema.Draft202012Validator(SCHEMA).is_valid(document)


def test_schema_accepts_the_secrets_settings() -> None:
    document = {
        "secrets": {"output": "block", "store_paths": "allow"},
        "repositories": {"acme/*": {"secrets": {"output": "mask"}}},
    }
    jsonschema.Draft202012Validator(SCHEMA).validate(document)


def test_schema_accepts_require_approval_lists() -> None:
    document = {
        "write": {"repositories": ["acme/app"], "require_approval": ["create_pull_request"]},
        "repositories": {"acme/prod-*": {"require_approval": ["create_issue_comment", "add_labels"]}},
    }
    jsonschema.Draft202012Validator(SCHEMA).validate(document)
    jsonschema.Draft202012Validator(SCHEMA).validate({"write": {"require_approval": []}})
