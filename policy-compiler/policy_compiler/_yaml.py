"""Reads a YAML policy into plain values while remembering where every key and value stands.

Stricter than `yaml.safe_load`: duplicate keys, aliases, non-string keys and unknown tags are
reported as issues instead of being silently resolved. Nothing is constructed from tags, so no
YAML feature can run code.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path

import yaml

from policy_compiler._errors import PolicyIssue

__all__ = ["MAX_DEPTH", "Document", "JsonPath", "Location", "Opaque", "parse_yaml", "read_yaml_file"]

Location = tuple[int, int]
JsonPath = tuple[str | int, ...]

_CORE = "tag:yaml.org,2002:"
_PLAIN_SCALARS = frozenset({_CORE + "null", _CORE + "bool", _CORE + "int", _CORE + "float", _CORE + "str"})
# Tags the safe resolver gives plain values; they load, but as opaque values that fail every type check.
_OPAQUE_SCALARS = frozenset({_CORE + "timestamp", _CORE + "binary", _CORE + "merge", _CORE + "value"})
# A policy nests 5 levels deep; anything much deeper is refused before it reaches recursive code.
MAX_DEPTH = 32


@dataclasses.dataclass(frozen=True)
class Opaque:
    """A YAML value of a kind the policy does not accept as such (a date, binary data): its kind, and
    for a timestamp its text (the time fields of `principals` read it as a string)."""

    kind: str
    text: str | None = dataclasses.field(default=None, compare=False)


@dataclasses.dataclass(frozen=True)
class Document:
    """Plain data plus the 1-based position of each value and of the key that names it."""

    value: object
    values: Mapping[JsonPath, Location]
    keys: Mapping[JsonPath, Location]

    def value_at(self, path: JsonPath) -> Location:
        """Where the value at `path` starts, or its closest located ancestor."""
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, (1, 1))

    def key_at(self, path: JsonPath) -> Location:
        """Where the key naming the value at `path` starts; the value's own place for list items."""
        return self.keys.get(path) or self.value_at(path)


class _Loader(yaml.SafeLoader):
    """A safe loader that records aliases instead of following them silently."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.alias_locations: list[Location] = []

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        if self.check_event(yaml.AliasEvent):
            event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
            if event.start_mark is not None:
                self.alias_locations.append((event.start_mark.line + 1, event.start_mark.column + 1))
        return super().compose_node(parent, index)


def _location(mark: yaml.Mark) -> Location:
    return (mark.line + 1, mark.column + 1)


class _Converter:
    def __init__(self, file: str) -> None:
        self.file = file
        self.issues: list[PolicyIssue] = []
        self.values: dict[JsonPath, Location] = {}
        self.keys: dict[JsonPath, Location] = {}
        self._scalars = yaml.constructor.SafeConstructor()
        self._seen: set[int] = set()

    def issue(self, location: Location, message: str) -> None:
        self.issues.append(PolicyIssue(self.file, location[0], location[1], message))

    def convert(self, node: yaml.Node, path: JsonPath) -> object:
        self.values[path] = _location(node.start_mark)
        if id(node) in self._seen:  # reached through an alias, already reported: never expand it
            return Opaque("alias")
        self._seen.add(id(node))
        if len(path) > MAX_DEPTH:
            self.issue(self.values[path], f"nesting deeper than {MAX_DEPTH} levels")
            return Opaque("deep value")
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            self._check_collection_tag(node, _CORE + "seq")
            return [self.convert(item, (*path, index)) for index, item in enumerate(node.value)]
        return self._scalar(node)

    def _check_collection_tag(self, node: yaml.Node, expected: str) -> None:
        if node.tag != expected:
            self.issue(_location(node.start_mark), f"unsupported YAML tag {node.tag!r}")

    def _mapping(self, node: yaml.MappingNode, path: JsonPath) -> dict[str, object]:
        self._check_collection_tag(node, _CORE + "map")
        result: dict[str, object] = {}
        for key_node, value_node in node.value:
            key_location = _location(key_node.start_mark)
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag != _CORE + "str":
                self.issue(key_location, "mapping keys must be plain strings")
                continue
            key = str(key_node.value)
            child = (*path, key)
            if key in result:
                first_line = self.keys[child][0]
                self.issue(key_location, f"duplicate key {key!r} (first at line {first_line})")
                continue
            self.keys[child] = key_location
            result[key] = self.convert(value_node, child)
        return result

    def _scalar(self, node: yaml.Node) -> object:
        if node.tag in _PLAIN_SCALARS:
            return self._scalars.construct_object(node)
        if node.tag in _OPAQUE_SCALARS:
            kind = node.tag.removeprefix(_CORE)
            return Opaque(kind, str(node.value) if kind == "timestamp" else None)
        self.issue(_location(node.start_mark), f"unsupported YAML tag {node.tag!r}")
        return Opaque("tagged value")


def parse_yaml(text: str, file: str) -> tuple[Document | None, list[PolicyIssue]]:
    """Parse one YAML document. Returns the document (None when unreadable) and the issues found."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = _location(mark) if mark is not None else (1, 1)
        problem = exc.problem or exc.context or "unreadable YAML"
        return None, [PolicyIssue(file, line, column, f"invalid YAML: {problem}")]
    except yaml.YAMLError as exc:
        return None, [PolicyIssue(file, 1, 1, f"invalid YAML: {exc}")]
    except RecursionError:
        return None, [PolicyIssue(file, 1, 1, "invalid YAML: nesting is too deep")]
    finally:
        loader.dispose()
    if root is None:
        return None, [PolicyIssue(file, 1, 1, "the policy file is empty")]
    converter = _Converter(file)
    for location in loader.alias_locations:
        converter.issue(location, "YAML aliases are not supported in policy files; repeat the value")
    try:
        value = converter.convert(root, ())
    except RecursionError:
        return None, [PolicyIssue(file, 1, 1, "invalid YAML: nesting is too deep")]
    return Document(value, converter.values, converter.keys), converter.issues


def read_yaml_file(
    path: Path, file: str, *, kind: str, max_bytes: int
) -> tuple[bytes, Document | None, list[PolicyIssue]]:
    """Read the `kind` of file ("policy", "jobs") at `path`, at most `max_bytes` of UTF-8 (a byte order
    mark dropped), and parse it. Returns its bytes, the document (None when unreadable) and the issues,
    each named as `file`."""
    try:
        with path.open("rb") as stream:
            raw = stream.read(max_bytes + 1)
    except OSError as exc:
        return b"", None, [PolicyIssue(file, 1, 1, f"cannot read the {kind} file: {exc.strerror}")]
    if len(raw) > max_bytes:
        return raw, None, [PolicyIssue(file, 1, 1, f"the {kind} file is larger than {max_bytes} bytes")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return raw, None, [PolicyIssue(file, 1, 1, f"the {kind} file is not UTF-8 ({exc.reason})")]
    document, issues = parse_yaml(text.removeprefix("\ufeff"), file)
    return raw, document, issues
