"""Normalize the resource of a call once; the same values go to OPA and to Gitea.

Repository names are lower-cased (Gitea resolves them case-insensitively), paths NFC-normalized and
rejected when absolute, climbing (`..`), or carrying NUL, backslash, control or invisible characters.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Any

from gateway.errors import InvalidToolCall
from gateway.tools import BoundTool
from gateway.vocabulary import Resource

MAX_PATH_LENGTH = 4096
MAX_REF_LENGTH = 255
_NAME = re.compile(r"[a-z0-9_.-]{1,100}")
# Git ref names (git check-ref-format) without the characters that could alter a URL or a git range.
_REF_FORBIDDEN = re.compile(r"\.\.|@\{|//|/\.|\.lock(?:/|$)|[\s~^:?*\[\\\x00-\x1f\x7f#%&+;=]")
_REF_SHAPE = re.compile(r"[A-Za-z0-9._/@-]+")
_PATHSPEC_SPECIAL = re.compile(r"[*?\[\]]")
# Characters that one more decoding or folding layer (URL decoding, NFKC, a git revision parser) could
# turn into a different path: refused, so that the path OPA authorizes is the only one it can mean.
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
_PATH_URL_OR_REVISION = re.compile(r"[?#~^]|@\{")
_LOOKALIKE_FOLD = re.compile(r"[./\\]")
# Look-alikes NFKC leaves alone (from Unicode's confusables of '.', '/' and '\').
_LOOKALIKES = frozenset("\u2215\u2044\u29f8\u2571\u3002\ufe52\u2216\u29f5\u29f9\u2572\ufe68")
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def normalize_name(field: str, value: str) -> str:
    lowered = value.lower()
    if not _NAME.fullmatch(lowered) or lowered.endswith((".", ".git", ".wiki")):
        raise InvalidToolCall(f"Invalid arguments: {field!r} is not a valid Gitea owner or repository name")
    return lowered


def normalize_path(field: str, value: str) -> str:
    path = unicodedata.normalize("NFC", value)
    problem = _path_problem(path)
    if problem:
        raise InvalidToolCall(f"Invalid arguments: {field!r} {problem}")
    return path.rstrip("/")


def normalize_pathspec(field: str, value: str) -> str:
    """A path that Gitea hands to git as a pathspec (e.g. `/commits?path=`): also free of glob and magic
    syntax, so git matches exactly the path OPA authorized and not, through `src/*`, a denied sibling."""
    path = normalize_path(field, value)
    if _PATHSPEC_SPECIAL.search(path) or path.startswith(":"):
        raise InvalidToolCall(f"Invalid arguments: {field!r} must not contain *, ?, [, ] or start with ':'")
    return path


def normalize_ref(field: str, value: str) -> str:
    if (
        not value
        or len(value) > MAX_REF_LENGTH
        or not _REF_SHAPE.fullmatch(value)
        or _REF_FORBIDDEN.search(value)
        or value == "@"
        or value.startswith(("-", "/", "."))
        or value.endswith(("/", "."))
    ):
        raise InvalidToolCall(f"Invalid arguments: {field!r} is not a valid git ref")
    return value


def _is_lookalike(char: str) -> bool:
    return char in _LOOKALIKES or _LOOKALIKE_FOLD.search(unicodedata.normalize("NFKC", char)) is not None


def _path_problem(path: str) -> str | None:
    if not path or len(path) > MAX_PATH_LENGTH:
        return f"must be 1 to {MAX_PATH_LENGTH} characters"
    if path.startswith("/"):
        return "must be relative to the repository root"
    if "\\" in path:
        return "must not contain a backslash"
    if any(unicodedata.category(char) in _UNSAFE_CATEGORIES for char in path):
        return "must not contain control or invisible characters"
    if any(not char.isascii() and _is_lookalike(char) for char in path):
        return "must not contain look-alikes of '.', '/' or '\\'"
    if _PERCENT_ESCAPE.search(path) or _PATH_URL_OR_REVISION.search(path):
        return "must not contain percent escapes, URL or git revision syntax (?, #, ~, ^, @{)"
    segments = path.rstrip("/").split("/")
    if any(segment.strip() in {"", ".", ".."} for segment in segments):
        return "must not contain empty, '.' or '..' segments (spaces around them included)"
    return None


def normalize_call(bound: BoundTool, arguments: Mapping[str, Any]) -> tuple[Resource, dict[str, Any]]:
    """The resource and the arguments with owner, repo, path and ref replaced by their normalized values."""
    tool = bound.tool
    normalized = dict(arguments)
    owner = name = path = ref = branch = None
    if tool.repo_scoped:
        owner = normalized["owner"] = normalize_name("owner", arguments["owner"])
        name = normalized["repo"] = normalize_name("repo", arguments["repo"])
    if tool.path_arg and arguments.get(tool.path_arg) is not None:
        normalizer = normalize_pathspec if tool.path_is_pathspec else normalize_path
        path = normalized[tool.path_arg] = normalizer(tool.path_arg, arguments[tool.path_arg])
    if tool.ref_arg and arguments.get(tool.ref_arg) is not None:
        ref = normalized[tool.ref_arg] = normalize_ref(tool.ref_arg, arguments[tool.ref_arg])
    if tool.branch_arg and arguments.get(tool.branch_arg) is not None:
        branch = normalized[tool.branch_arg] = normalize_ref(tool.branch_arg, arguments[tool.branch_arg])
    for field in tool.other_ref_args:
        if arguments.get(field) is not None:
            normalized[field] = normalize_ref(field, arguments[field])
    size = tool.write_size(normalized) if tool.write_size else None
    return Resource(owner=owner, name=name, path=path, ref=ref, size=size, branch=branch), normalized
