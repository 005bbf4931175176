"""A step's `when`: tests on what the run knows (the trigger, earlier steps' results), all of which must hold.

Each test takes one `value` (a template, usually one reference) and one operator. A reference that names
nothing, in the value or a templated operand, is null here, so that `empty: true` can ask whether a field
is absent; in a step's arguments it would be an error instead.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Callable, Mapping
from typing import Any

from policy_compiler import glob_matches

from gateway.automation._durations import parse_duration
from gateway.automation._template import TemplateError, render

OPERATORS = (
    "equals",
    "not_equals",
    "in",
    "matches",
    "any_matches",
    "contains",
    "not_contains",
    "empty",
    "greater_than",
    "less_than",
    "older_than",
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Condition:
    value: str  # a template
    operator: str
    operand: Any  # a template too, for equals, not_equals, in, contains and not_contains

    def holds(self, scope: Mapping[str, Any], now: datetime.datetime) -> bool:
        value = _rendered(self.value, scope)
        operand = _rendered(self.operand, scope) if self.operator in _TEMPLATED_OPERANDS else self.operand
        return _OPERATIONS[self.operator](value, operand, now)


def _rendered(template: Any, scope: Mapping[str, Any]) -> Any:
    """A template's value; null when a reference names nothing (Gitea sends null for an issue's
    missing assignee or milestone, so a reference through one names nothing)."""
    try:
        return render(template, scope)
    except TemplateError:
        return None


_TEMPLATED_OPERANDS = frozenset({"equals", "not_equals", "in", "contains", "not_contains"})


def _empty(value: Any, wanted: bool, _: datetime.datetime) -> bool:
    return (value is None or value in ("", [], {})) == wanted


def _equal(value: Any, operand: Any, _: datetime.datetime | None = None) -> bool:
    """Equal and of the same kind, all the way down: true is not 1 here, as it is in Python."""
    if isinstance(value, bool) != isinstance(operand, bool):
        return False
    if isinstance(value, list) and isinstance(operand, list):
        return len(value) == len(operand) and all(map(_equal, value, operand))
    if isinstance(value, dict) and isinstance(operand, dict):
        return value.keys() == operand.keys() and all(_equal(value[key], operand[key]) for key in value)
    return bool(value == operand)


def _in(value: Any, operand: list[Any], _: datetime.datetime) -> bool:
    return any(_equal(value, item) for item in operand)


def _contains(value: Any, operand: Any, _: datetime.datetime) -> bool:
    if isinstance(value, str) and isinstance(operand, str):
        return operand in value
    return isinstance(value, list) and any(_equal(item, operand) for item in value)


def _matches(value: Any, glob: str, _: datetime.datetime) -> bool:
    return isinstance(value, str) and glob_matches(glob, value)


def _any_matches(value: Any, glob: str, _: datetime.datetime) -> bool:
    return isinstance(value, list) and any(
        isinstance(item, str) and glob_matches(glob, item) for item in value
    )


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _greater(value: Any, bound: float, _: datetime.datetime) -> bool:
    number = _number(value)
    return number is not None and number > bound


def _less(value: Any, bound: float, _: datetime.datetime) -> bool:
    number = _number(value)
    return number is not None and number < bound


def _older_than(value: Any, duration: str, now: datetime.datetime) -> bool:
    """An RFC 3339 time (as Gitea writes them) more than `duration` before the run began."""
    if not isinstance(value, str):
        return False
    try:
        then = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return False
    if then.tzinfo is None:
        return False
    return now - then > datetime.timedelta(seconds=parse_duration(duration))


_OPERATIONS: dict[str, Callable[[Any, Any, datetime.datetime], bool]] = {
    "equals": _equal,
    "not_equals": lambda value, operand, now: not _equal(value, operand, now),
    "in": _in,
    "matches": _matches,
    "any_matches": _any_matches,
    "contains": _contains,
    "not_contains": lambda value, operand, now: not _contains(value, operand, now),
    "empty": _empty,
    "greater_than": _greater,
    "less_than": _less,
    "older_than": _older_than,
}
