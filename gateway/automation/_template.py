"""The template language of job steps: field references, nothing else.

A string may hold references `{{ root.field.field }}` into what a run knows (`event`, `trigger`, `steps`,
`item`, `job`, `run`). A string that is exactly one reference becomes the referenced value itself, of
whatever type (a number stays a number, a list a list); a reference inside other text must name text, a
number or a boolean, and is written into it. A segment of digits indexes a list; `*` maps the rest of the
path over every element of a list. Rendering is one pass: a value brought in by a reference is never
read as a template again, so text from an issue cannot smuggle in a reference of its own. There are no
expressions, filters or calls.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

ROOTS = ("event", "trigger", "steps", "item", "job", "run")
_REFERENCE = re.compile(r"\{\{((?:(?!\}\}).)*)\}\}")  # one reference: no '}}' inside
_PATH = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*(?:\.(?:[A-Za-z0-9_-]+|\*))*")


class TemplateError(ValueError):
    """A reference that names nothing in this run, or a value that cannot stand where it is used."""


def reference_issues(value: Any) -> Iterator[str]:
    """What is wrong with the references in a template value (checked when the jobs file is loaded)."""
    for text in _strings(value):
        rest = _REFERENCE.sub("", text)
        if "{{" in rest or "}}" in rest:
            yield f"unbalanced '{{{{' or '}}}}' in {text!r}"
        for match in _REFERENCE.finditer(text):
            path = match.group(1).strip()
            if not _PATH.fullmatch(path):
                yield f"{match.group(0)!r} is not a field reference (names joined by '.', no expressions)"
            elif path.split(".")[0] not in ROOTS:
                roots, root = ", ".join(ROOTS), path.split(".")[0]
                yield f"{match.group(0)!r} starts at {root!r}; a reference starts at one of: {roots}"


def references(value: Any) -> Iterator[tuple[str, ...]]:
    """Every well-formed reference in a template value, as its path segments."""
    for text in _strings(value):
        for match in _REFERENCE.finditer(text):
            path = match.group(1).strip()
            if _PATH.fullmatch(path):
                yield tuple(path.split("."))


def render(value: Any, scope: Mapping[str, Any]) -> Any:
    """`value` with every reference replaced from `scope`; raises TemplateError."""
    if isinstance(value, str):
        return _render_text(value, scope)
    if isinstance(value, list):
        return [render(item, scope) for item in value]
    if isinstance(value, dict):
        return {key: render(item, scope) for key, item in value.items()}
    return value


def resolve(path: str, scope: Mapping[str, Any]) -> Any:
    """The value a reference's path names in `scope`; raises TemplateError when it names nothing."""
    return _walk(scope, tuple(path.split(".")), path)


def _render_text(text: str, scope: Mapping[str, Any]) -> Any:
    found = list(_REFERENCE.finditer(text))
    if len(found) == 1 and found[0].span() == (0, len(text)):  # the whole string is one reference
        return resolve(found[0].group(1).strip(), scope)
    return _REFERENCE.sub(lambda match: _as_text(match.group(1).strip(), scope), text)


def _as_text(path: str, scope: Mapping[str, Any]) -> str:
    value = resolve(path, scope)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    kind = "nothing (null)" if value is None else type(value).__name__
    raise TemplateError(f"{{{{ {path} }}}} is {kind}, which cannot be written into text")


def _walk(value: Any, segments: tuple[str, ...], path: str) -> Any:
    for position, segment in enumerate(segments):
        if segment == "*":
            if not isinstance(value, list):
                raise TemplateError(f"{{{{ {path} }}}}: '*' needs a list, found {type(value).__name__}")
            rest = segments[position + 1 :]
            return [_walk(item, rest, path) for item in value]
        if isinstance(value, Mapping) and segment in value:
            value = value[segment]
        elif isinstance(value, list) and segment.isdigit() and int(segment) < len(value):
            value = value[int(segment)]
        else:
            where = ".".join(segments[:position]) or "the run"
            raise TemplateError(f"{{{{ {path} }}}}: {where} has no {segment!r}")
    return value


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
