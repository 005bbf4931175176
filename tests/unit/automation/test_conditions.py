"""`when` tests: each operator, a missing reference as null, kinds kept apart."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from gateway.automation._conditions import Condition

NOW = datetime.datetime(2026, 12, 3, 12, 0, tzinfo=datetime.UTC)
SCOPE: dict[str, Any] = {
    "item": {
        "updated_at": "2026-10-01T08:00:00Z",
        "title": "Secret abc123 in x",
        "count": 3,
        "flag": True,
        "flags": [True],
    },
    "steps": {"open": {"result": {"titles": ["abc123", "def"], "paths": ["docs/a.md", "src/x.py"]}}},
}


@pytest.mark.parametrize(
    ("value", "operator", "operand", "expected"),
    [
        ("{{ item.count }}", "equals", 3, True),
        ("{{ item.flag }}", "equals", 1, False),  # true is not 1
        ("{{ item.flags }}", "equals", [1], False),  # nor inside a list
        ("{{ item.flags }}", "equals", [True], True),
        ("{{ item.count }}", "not_equals", 4, True),
        ("{{ item.count }}", "in", [1, 3], True),
        ("{{ item.flag }}", "in", [1], False),
        ("{{ item.title }}", "matches", "Secret*", True),
        ("{{ steps.open.result.paths }}", "any_matches", "docs/**", True),
        ("{{ steps.open.result.paths }}", "any_matches", "lib/**", False),
        ("{{ steps.open.result.titles }}", "contains", "abc123", True),
        ("{{ steps.open.result.titles }}", "not_contains", "{{ item.count }}", True),
        ("{{ item.title }}", "contains", "abc123", True),
        ("{{ item.missing }}", "empty", True, True),
        ("{{ steps.open.result.titles }}", "empty", False, True),
        ("{{ item.count }}", "greater_than", 2, True),
        ("{{ item.flag }}", "greater_than", 0, False),
        ("{{ item.count }}", "less_than", 3, False),
        ("{{ item.updated_at }}", "older_than", "30d", True),
        ("{{ item.updated_at }}", "older_than", "90d", False),
        ("{{ item.title }}", "older_than", "1d", False),
    ],
)
def test_operators(value: str, operator: str, operand: object, expected: bool) -> None:
    assert Condition(value=value, operator=operator, operand=operand).holds(SCOPE, NOW) is expected


def test_a_templated_operand_is_rendered_from_the_run() -> None:
    test = Condition(value="{{ steps.open.result.titles }}", operator="contains", operand="{{ item.title }}")
    assert not test.holds(SCOPE, NOW)
    scope = {**SCOPE, "item": {**SCOPE["item"], "title": "def"}}
    assert test.holds(scope, NOW)
