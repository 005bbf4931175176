"""Validates a policy document against schemas/policy.schema.json, reporting at line:column.

The schema checks structure (types, known keys, allowed values, non-empty allow lists). String
formats (tool names, repository names, globs) and duplicates are checked by `_semantics`, with
more precise messages, so the schema's `pattern`, length, `uniqueItems` errors are not repeated.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, cast

# jsonschema ships no type information; types-jsonschema may or may not be installed.
import jsonschema

from policy_compiler._errors import PolicyIssue
from policy_compiler._resources import schema_file
from policy_compiler._yaml import Document, JsonPath, Opaque

__all__ = ["located_schema_issues", "schema_issues"]

# Checked (with better messages) by _semantics; see the module docstring.
_LEFT_TO_SEMANTICS = frozenset({"pattern", "minLength", "maxLength", "uniqueItems", "propertyNames"})

_KINDS = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing (null)",
}


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(schema_file().read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def schema_issues(document: Document, file: str) -> list[PolicyIssue]:
    """Every schema violation in the policy `document`, each at the position of the offending key or value."""
    return located_schema_issues(document, file, _validator(), kind="policy")


def located_schema_issues(
    document: Document, file: str, validator: jsonschema.Draft202012Validator, *, kind: str
) -> list[PolicyIssue]:
    """Every violation of `validator`'s schema in `document` (a `kind` of file: "policy", "jobs"), at
    line:column, in the words the policy's own errors use."""
    issues: list[PolicyIssue] = []
    errors = list(validator.iter_errors(document.value))
    # A value of the wrong type is reported once, as such, not also for the constraints it misses.
    mistyped = {tuple(error.absolute_path) for error in errors if error.validator == "type"}
    for error in errors:
        if error.validator != "type" and tuple(error.absolute_path) in mistyped:
            continue
        for path, message, at_key in _describe(error, kind):
            line, column = document.key_at(path) if at_key else document.value_at(path)
            issues.append(PolicyIssue(file, line, column, message))
    return issues


def _describe(error: jsonschema.ValidationError, kind: str) -> Iterator[tuple[JsonPath, str, bool]]:
    path: JsonPath = tuple(error.absolute_path)
    validator = str(error.validator)
    where = _where(path)
    if validator in _LEFT_TO_SEMANTICS or error.instance == Opaque("alias"):
        return  # aliases are reported where they stand, by _yaml
    if validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        known = sorted(schema.get("properties", {}))
        for key in sorted(set(error.instance) - set(known)):
            expected = ", ".join(known)
            yield (*path, key), f"unknown key {key!r}{where}; expected one of: {expected}", True
    elif validator == "type":
        expected = _KINDS.get(str(error.validator_value), str(error.validator_value))
        yield path, f"expected {expected}{where}, got {_kind_of(error.instance)}", False
    elif validator == "enum":
        choices = " or ".join(repr(choice) for choice in cast(Iterable[Any], error.validator_value))
        hint = " (YAML reads yes/no/on/off as booleans)" if isinstance(error.instance, bool) else ""
        yield path, f"expected {choices}{where}, got {_shown(error.instance)}{hint}", False
    elif validator == "const" and path == ("version",):
        yield path, f"unsupported {kind} version {_shown(error.instance)}; the only version is 1", False
    elif validator == "minItems" and path and path[-1] == "allow":
        message = f"empty allow list{where} is ambiguous: list what is allowed, or remove the key"
        yield path, message, False
    elif validator == "minItems":
        message = f"empty list{where} is ambiguous: list at least one entry, or remove the key"
        yield path, message, False
    else:
        yield path, f"{error.message}{where}", False


def _where(path: JsonPath) -> str:
    return f" at '{'.'.join(str(part) for part in path)}'" if path else ""


def _kind_of(value: Any) -> str:
    if isinstance(value, Opaque):
        return f"a YAML {value.kind}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {_shown(value)}"
    if isinstance(value, int | float):
        return f"the number {value!r}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, list):
        return "a list"
    return "a mapping"


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return repr(value)
    return _kind_of(value)
