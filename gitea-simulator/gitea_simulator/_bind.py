"""Request bodies bound the way Gitea's ``bind`` middleware does: Go's JSON decoding, then binding rules.

A body must be JSON (``Content-Type`` containing ``json``); the first JSON value is decoded into the
option struct (unknown keys ignored, keys matched case-insensitively, ``null`` leaving a field unset,
trailing data ignored), then the ``binding`` rules (``Required``, ``GitRefName``, ``MaxSize(n)``) run in
field order. The first problem is a 422 ``"[Field]: reason"``, as Gitea answers.

Example::

    CREATE_ISSUE = FormSpec("CreateIssueOption", (Field("title", "Title", "string", ("Required",)),))
    form = await bind(request, CREATE_ISSUE)
    form.text("title")
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from starlette.requests import Request

from ._errors import ApiError
from ._refs import is_valid_ref_pattern

__all__ = ["Field", "Form", "FormSpec", "bind"]

_INT64: Final = range(-(2**63), 2**63)
_MAX_SIZE: Final = re.compile(r"^MaxSize\((\d+)\)$")
_GO_TYPES: Final = {
    "string": "string",
    "*string": "string",
    "bool": "bool",
    "*bool": "bool",
    "int64": "int64",
    "*int64": "int64",
    "[]int64": "[]int64",
    "[]string": "[]string",
    "[]any": "[]interface {}",
    "map[string]string": "map[string]string",
}
_SYNTAX: Final = {
    "Expecting value": "looking for beginning of value",
    "Expecting property name enclosed in double quotes": "looking for beginning of object key string",
    "Expecting ':' delimiter": "after object key",
    "Expecting ',' delimiter": "after object key:value pair",
}


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a Go option struct: its JSON key, Go name, Go kind and binding rules.

    Kinds: ``string``, ``bool``, ``int64``, their pointers ``*string`` ..., ``[]int64``, ``[]string``,
    ``[]any``, ``map[string]string``, and ``any`` for fields the simulator does not use (not type-checked).
    """

    json: str
    go: str
    kind: str
    rules: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FormSpec:
    name: str  # the Go type, for decoding errors ("CreateIssueOption")
    fields: tuple[Field, ...]


class _JsonFloat(float):
    """A JSON number that is not an integer literal, keeping its text for Go's error messages."""

    literal: str = ""


def _parse_float(text: str) -> _JsonFloat:
    number = _JsonFloat(text)
    number.literal = text
    return number


@dataclass(frozen=True, slots=True)
class Form:
    """The decoded body: each field's value, Go's zero value when absent (None for pointers and slices)."""

    values: Mapping[str, Any]

    def text(self, name: str) -> str:
        return str(self.values[name] or "")

    def optional_text(self, name: str) -> str | None:
        value = self.values[name]
        return None if value is None else str(value)

    def flag(self, name: str) -> bool:
        return bool(self.values[name])

    def number(self, name: str) -> int:
        return int(self.values[name] or 0)

    def optional_number(self, name: str) -> int | None:
        value = self.values[name]
        return None if value is None else int(value)

    def items(self, name: str) -> list[Any]:
        return list(self.values[name] or [])


def _json_kind(value: Any) -> str:
    """Go's name for a JSON value in ``UnmarshalTypeError``."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "array" if isinstance(value, list) else "object"


def _type_error(spec: FormSpec, field: Field, value: Any, go_type: str) -> ApiError:
    shown = _json_kind(value)
    if go_type == "int64" and shown == "number":  # Go names a number that does not fit an int64
        shown = f"number {value.literal if isinstance(value, _JsonFloat) else value}"
    return ApiError(
        422,
        f"[]: json: cannot unmarshal {shown} into Go struct field {spec.name}.{field.json} of type {go_type}",
    )


def _scalar(spec: FormSpec, field: Field, value: Any, go_type: str) -> Any:
    if go_type == "string" and isinstance(value, str):
        return value
    if go_type == "bool" and isinstance(value, bool):
        return value
    if go_type == "int64" and isinstance(value, int) and not isinstance(value, bool) and value in _INT64:
        return value
    raise _type_error(spec, field, value, go_type)


def _decode_field(spec: FormSpec, field: Field, value: Any) -> Any:
    """The Go value of one JSON member, or a 422 like Go's first ``UnmarshalTypeError``."""
    if field.kind == "any" or value is None:
        return value
    go_type = _GO_TYPES[field.kind]
    if field.kind == "map[string]string":
        if not isinstance(value, dict):
            raise _type_error(spec, field, value, go_type)
        return {
            key: "" if item is None else _scalar(spec, field, item, "string") for key, item in value.items()
        }
    if not field.kind.startswith("[]"):
        return _scalar(spec, field, value, go_type)
    if not isinstance(value, list):
        raise _type_error(spec, field, value, go_type)
    if field.kind == "[]any":
        return value
    element = go_type.removeprefix("[]")
    return [None if item is None else _scalar(spec, field, item, element) for item in value]


def _syntax_error(text: str, error: json.JSONDecodeError) -> ApiError:
    """Go's ``SyntaxError`` text, as near as Python's decoder lets us tell (the reason is approximate)."""
    if error.pos >= len(text) or error.msg.startswith("Unterminated"):
        return ApiError(422, "[]: unexpected EOF")
    char = text[error.pos]
    reason = _SYNTAX.get(error.msg, "looking for beginning of value")
    if error.msg.startswith("Invalid control character"):
        reason = "in string literal"
    return ApiError(422, f"[]: invalid character {json.dumps(char)[1:-1]!r} {reason}")


def _decode(spec: FormSpec, text: str) -> dict[str, Any]:
    values: dict[str, Any] = {field.json: None for field in spec.fields}
    stripped = text.lstrip(" \t\r\n")
    if not stripped:
        return values  # Go's decoder meets io.EOF, which binding ignores
    try:
        document, _ = json.JSONDecoder(parse_float=_parse_float).raw_decode(stripped)
    except json.JSONDecodeError as exc:
        raise _syntax_error(stripped, exc) from None
    if document is None:
        return values
    if not isinstance(document, dict):
        raise ApiError(
            422,
            f"[]: json: cannot unmarshal {_json_kind(document)} into Go value of type structs.{spec.name}",
        )
    by_name = {field.json: field for field in spec.fields}
    by_folded = {field.json.casefold(): field for field in spec.fields}
    for key, value in document.items():
        field = by_name.get(key) or by_folded.get(key.casefold())
        if field is not None and not (value is None and not field.kind.startswith(("*", "[]", "map["))):
            values[field.json] = _decode_field(spec, field, value)
    return values


def _rule_failure(rule: str, value: Any) -> str | None:
    """The binding error of ``rule`` for ``value``, or None when it holds."""
    if rule == "Required":
        return "Required" if value in (None, "", 0, False, []) else None
    if rule == "GitRefName":
        return "GitRefName" if value and not is_valid_ref_pattern(str(value)) else None
    size = _MAX_SIZE.match(rule)
    if size is not None:
        return "MaxSize" if len(str(value or "")) > int(size.group(1)) else None
    raise ValueError(f"unknown binding rule {rule!r}")


def _validate(spec: FormSpec, values: Mapping[str, Any]) -> None:
    for field in spec.fields:
        for rule in field.rules:
            failure = _rule_failure(rule, values[field.json])
            if failure is not None:
                raise ApiError(422, f"[{field.go}]: {failure}")


async def bind(request: Request, spec: FormSpec) -> Form:
    """Decode and validate the request's JSON body into ``spec``; 422 with Gitea's message otherwise."""
    content_type = request.headers.get("content-type", "")
    if "json" not in content_type:
        raise ApiError(422, "[]: Empty Content-Type" if not content_type else "[]: Unsupported Content-Type")
    text = (await request.body()).decode("utf-8", errors="replace")
    values = _decode(spec, text)
    _validate(spec, values)
    return Form(values)
