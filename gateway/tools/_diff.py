"""Split the text of `git diff` into per-file sections, failing closed.

The gateway drops the sections of files whose path the policy denies, so each section must name every
path it concerns (both sides of a rename or copy). A section is only "known" when its text follows git's
format line for line and all the places that name its paths agree; anything else (text before the first
`diff --git` line, an unrecognised header, a hunk whose line counts do not match, paths that cannot be
split unambiguously or that disagree) becomes a section with `paths == ()` and status "unknown", which the
caller withholds. Nothing is guessed.

    >>> sections = split_diff(text)
    >>> kept = [s for s in sections if s.paths and set(s.paths) <= allowed]
    >>> withheld = len(sections) - len(kept)
    >>> join_diff(kept)

Parsing is linear in the size of the input (no split point of a path is ever searched), since paths come
from pushed trees and may be arbitrarily long.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Final, Literal

__all__ = ["FileDiff", "Status", "join_diff", "split_diff"]

Status = Literal["added", "deleted", "modified", "renamed", "copied", "unknown"]

_GIT_HEADER: Final = "diff --git "
_DEV_NULL: Final = "/dev/null"
_NO_NEWLINE: Final = "\\ No newline at end of file"
_BINARY_PATCH: Final = "GIT binary patch"

_MODE = re.compile(r"[0-7]{6}")
_PERCENT = re.compile(r"\d{1,3}%")
_INDEX = re.compile(r"[0-9a-f]{4,64}\.\.[0-9a-f]{4,64}(?: [0-7]{6})?")
_ANY = re.compile(r".+", re.DOTALL)
# Extended headers git writes between `diff --git` and `---`, with the shape of their value.
_EXTENDED: Final[dict[str, re.Pattern[str]]] = {
    "old mode": _MODE,
    "new mode": _MODE,
    "deleted file mode": _MODE,
    "new file mode": _MODE,
    "similarity index": _PERCENT,
    "dissimilarity index": _PERCENT,
    "rename from": _ANY,
    "rename to": _ANY,
    "copy from": _ANY,
    "copy to": _ANY,
    "index": _INDEX,
}
# Ten digits at most: a count is bounded by the input anyway, and int() refuses very long digit strings.
_HUNK = re.compile(r"@@ -\d{1,10}(?:,(\d{1,10}))? \+\d{1,10}(?:,(\d{1,10}))? @@(?: .*)?", re.DOTALL)
_BINARY_BLOCK = re.compile(r"(?:literal|delta) \d{1,20}")
_BASE85_LINE = re.compile(r"[A-Za-z][0-9A-Za-z!#$%&()*+\-;<=>?@^_`{|}~]+")
_C_ESCAPES: Final = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


@dataclasses.dataclass(frozen=True)
class FileDiff:
    """One file's section of a diff. `paths` is every path the section concerns (old then new,
    deduplicated), or `()` when they could not be determined (status "unknown"): withhold such a section.
    `text` is the section exactly as in the input, headers included."""

    paths: tuple[str, ...]
    old_path: str | None
    new_path: str | None
    status: Status
    binary: bool
    additions: int
    deletions: int
    text: str


def split_diff(diff: str) -> list[FileDiff]:
    """The sections of `diff`, in order; joining their texts gives back `diff` exactly."""
    lines = _split_lines(diff)
    sections: list[FileDiff] = []
    start = 0
    while start < len(lines):
        if not _is_git_header(lines[start]):
            end = _next_git_header(lines, start + 1)
            sections.append(_unknown(lines[start:end]))
        else:
            try:
                end, section = _parse_section(lines, start)
            except _MalformedError as exc:
                end = _next_git_header(lines, exc.at)
                section = _unknown(lines[start:end])
            sections.append(section)
        start = end
    return sections


def join_diff(sections: Iterable[FileDiff]) -> str:
    """The diff made of `sections` (typically those the policy allows), as `git diff` would print it."""
    return "".join(section.text for section in sections)


class _MalformedError(Exception):
    """The section does not follow git's format; `at` is the index of the first line that does not fit."""

    def __init__(self, at: int) -> None:
        super().__init__(at)
        self.at = at


class _DisagreementError(Exception):
    """The places that name a section's paths are ambiguous or disagree."""


@dataclasses.dataclass
class _Section:
    """What a section's lines say, before the places naming its paths are checked against each other."""

    git_line: str
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    labels: tuple[str, str] | None = None  # the `---` and `+++` names, "/dev/null" or a path
    binary_line: str | None = None
    binary: bool = False
    additions: int = 0
    deletions: int = 0


def _split_lines(diff: str) -> list[str]:
    """Lines with their "\\n" kept; only "\\n" ends a line (a "\\r" in content is content)."""
    parts = diff.split("\n")
    lines = [part + "\n" for part in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _body(line: str) -> str:
    return line[:-1] if line.endswith("\n") else line


def _is_git_header(line: str) -> bool:
    return line.startswith(_GIT_HEADER)


def _next_git_header(lines: list[str], start: int) -> int:
    for index in range(start, len(lines)):
        if _is_git_header(lines[index]):
            return index
    return len(lines)


def _unknown(lines: list[str]) -> FileDiff:
    return FileDiff((), None, None, "unknown", False, 0, 0, "".join(lines))


def _parse_section(lines: list[str], start: int) -> tuple[int, FileDiff]:
    """Parse the section starting at `start`; it must end exactly at the next `diff --git` line."""
    section = _Section(git_line=_body(lines[start])[len(_GIT_HEADER) :])
    at = _read_extended(lines, start + 1, section)
    at = _read_content(lines, at, section)
    if at < len(lines) and not _is_git_header(lines[at]):
        raise _MalformedError(at)
    try:
        old, new, status = _resolve(section)
    except _DisagreementError:
        raise _MalformedError(at) from None
    paths = tuple(dict.fromkeys(path for path in (old, new) if path is not None))
    text = "".join(lines[start:at])
    return at, FileDiff(paths, old, new, status, section.binary, section.additions, section.deletions, text)


def _read_extended(lines: list[str], at: int, section: _Section) -> int:
    while at < len(lines):
        header = _extended_header(_body(lines[at]))
        if header is None:
            break
        key, value = header
        if key in section.headers:
            raise _MalformedError(at)
        section.headers[key] = value
        at += 1
    return at


def _extended_header(line: str) -> tuple[str, str] | None:
    for key, shape in _EXTENDED.items():
        if line.startswith(key + " ") and shape.fullmatch(value := line[len(key) + 1 :]):
            return key, value
    return None


def _read_content(lines: list[str], at: int, section: _Section) -> int:
    """Read what follows the extended headers: `---`/`+++` and hunks, or a binary notice or patch."""
    if at >= len(lines):
        return at
    line = _body(lines[at])
    if line.startswith("Binary files "):
        section.binary, section.binary_line = True, line
        return at + 1
    if line == _BINARY_PATCH:
        section.binary = True
        return _read_binary_patch(lines, at + 1)
    if not line.startswith("--- "):
        return at
    if at + 1 >= len(lines) or not (plus := _body(lines[at + 1])).startswith("+++ "):
        raise _MalformedError(at + 1)
    section.labels = (line[4:], plus[4:])
    at += 2
    while at < len(lines) and lines[at].startswith("@@"):
        at = _read_hunk(lines, at, section)
    return at


def _read_hunk(lines: list[str], at: int, section: _Section) -> int:
    """Consume one hunk by its line counts, so that no content line is ever read as a header."""
    match = _HUNK.fullmatch(_body(lines[at]))
    if match is None:
        raise _MalformedError(at)
    old, new = int(match[1] or 1), int(match[2] or 1)
    at += 1
    after_content = False
    while True:
        if after_content and at < len(lines) and _body(lines[at]) == _NO_NEWLINE:
            after_content, at = False, at + 1
            continue
        if not (old or new):
            return at
        kind = lines[at][:1] if at < len(lines) else ""
        if kind == " " and old and new:
            old, new = old - 1, new - 1
        elif kind == "-" and old:
            old, section.deletions = old - 1, section.deletions + 1
        elif kind == "+" and new:
            new, section.additions = new - 1, section.additions + 1
        else:
            raise _MalformedError(at)
        after_content, at = True, at + 1


def _read_binary_patch(lines: list[str], at: int) -> int:
    """Consume the forward and reverse blocks of a `GIT binary patch`, each ended by an empty line."""
    blocks = 0
    while at < len(lines) and _BINARY_BLOCK.fullmatch(_body(lines[at])):
        at += 1
        while at < len(lines) and _BASE85_LINE.fullmatch(_body(lines[at])):
            at += 1
        if at >= len(lines) or lines[at] != "\n":
            raise _MalformedError(at)
        at, blocks = at + 1, blocks + 1
    if blocks not in (1, 2):
        raise _MalformedError(at)
    return at


def _resolve(section: _Section) -> tuple[str | None, str | None, Status]:
    """The old path, new path and status, once every place that names them agrees."""
    status = _status(section.headers)
    if status in ("renamed", "copied"):
        verb = "rename" if status == "renamed" else "copy"
        old = new = None
        if f"{verb} from" in section.headers and f"{verb} to" in section.headers:
            old = _decode_name(section.headers[f"{verb} from"])
            new = _decode_name(section.headers[f"{verb} to"])
        if old is None or new is None:
            raise _DisagreementError("a rename or copy without both of its paths")
        if section.labels is not None and _labels(section.labels) != (old, new):
            raise _DisagreementError("the ---/+++ lines disagree with the rename or copy")
        _check_git_line(section.git_line, old, new)
    else:
        path = _single_path(section, status)
        _check_git_line(section.git_line, path, path)
        old = None if status == "added" else path
        new = None if status == "deleted" else path
    if section.binary_line is not None:
        _check_binary_line(section.binary_line, old, new)
    return old, new, status


def _status(headers: dict[str, str]) -> Status:
    kinds: list[Status] = []
    if "new file mode" in headers:
        kinds.append("added")
    if "deleted file mode" in headers:
        kinds.append("deleted")
    if "rename from" in headers or "rename to" in headers:
        kinds.append("renamed")
    if "copy from" in headers or "copy to" in headers:
        kinds.append("copied")
    if len(kinds) > 1:
        raise _DisagreementError("contradictory extended headers")
    return kinds[0] if kinds else "modified"


def _single_path(section: _Section, status: Status) -> str:
    """The one path of a section that is not a rename or copy: from `---`/`+++`, or else from the
    `diff --git` line, which is unambiguous only when it names the same path twice."""
    if section.labels is None:
        path = _same_path(section.git_line)
        if path is None:
            raise _DisagreementError("the diff --git line cannot be split unambiguously")
        return path
    old, new = _labels(section.labels)
    if (old is None) != (status == "added") or (new is None) != (status == "deleted"):
        raise _DisagreementError("/dev/null does not match the file's status")
    if old is not None and new is not None and old != new:
        raise _DisagreementError("--- and +++ name different files without a rename")
    path = old if old is not None else new
    if path is None:
        raise _DisagreementError("both sides are /dev/null")
    return path


def _labels(labels: tuple[str, str]) -> tuple[str | None, str | None]:
    """The paths of the `---` and `+++` lines (None for /dev/null)."""
    return _label(labels[0], "a/"), _label(labels[1], "b/")


def _label(label: str, prefix: str) -> str | None:
    # git appends a tab to a name containing a space; a name never holds a raw tab (git quotes it).
    label = label.removesuffix("\t")
    if label == _DEV_NULL:
        return None
    name = _decode_name(label)
    if name is None or not name.startswith(prefix) or len(name) == len(prefix):
        raise _DisagreementError("a ---/+++ line does not name a path")
    return name[len(prefix) :]


def _check_git_line(git_line: str, old: str, new: str) -> None:
    rest = _consume_name(git_line, "a/" + old)
    if rest is None or not rest.startswith(" ") or _consume_name(rest[1:], "b/" + new) != "":
        raise _DisagreementError("the diff --git line disagrees with the other headers")


def _check_binary_line(line: str, old: str | None, new: str | None) -> None:
    if not line.endswith(" differ"):
        raise _DisagreementError("a Binary files line without its ending")
    middle = line.removeprefix("Binary files ").removesuffix(" differ")
    rest = _consume_name(middle, _DEV_NULL if old is None else "a/" + old)
    if rest is None or not rest.startswith(" and "):
        raise _DisagreementError("the Binary files line disagrees with the headers")
    if _consume_name(rest[5:], _DEV_NULL if new is None else "b/" + new) != "":
        raise _DisagreementError("the Binary files line disagrees with the headers")


def _same_path(git_line: str) -> str | None:
    """P when `git_line` is `a/P b/P` (each side bare or C-quoted), else None. The split is unique:
    after a quoted first name; before the first quote (a bare name holds none); or in the middle."""
    if git_line.startswith('"'):
        end = _quoted_end(git_line)
        if end < 0 or git_line[end : end + 1] != " ":
            return None
        first, second = git_line[:end], git_line[end + 1 :]
    elif '"' in git_line:
        quote = git_line.index('"')
        if git_line[quote - 1] != " ":
            return None
        first, second = git_line[: quote - 1], git_line[quote:]
    else:
        middle = len(git_line) // 2
        if len(git_line) % 2 != 1 or git_line[middle] != " ":
            return None
        first, second = git_line[:middle], git_line[middle + 1 :]
    old, new = _decode_name(first), _decode_name(second)
    if old is None or new is None or not (old.startswith("a/") and new.startswith("b/")):
        return None
    return old[2:] if old[2:] == new[2:] and len(old) > 2 else None


def _consume_name(text: str, name: str) -> str | None:
    """What follows `name` at the start of `text`, written bare or C-quoted as git would; else None."""
    if text.startswith('"'):
        end = _quoted_end(text)
        return text[end:] if end > 0 and _unquote(text[:end]) == name else None
    return text[len(name) :] if text.startswith(name) and _is_bare(name) else None


def _decode_name(token: str) -> str | None:
    """The name a whole token stands for (C-quoted or bare), or None if git could not have written it."""
    if token.startswith('"'):
        return _unquote(token) if _quoted_end(token) == len(token) else None
    return token if _is_bare(token) else None


def _is_bare(name: str) -> bool:
    """Whether git writes `name` unquoted: it quotes a name holding `"`, `\\` or a control character
    (and non-ASCII with core.quotePath, but a bare non-ASCII name is still unambiguous)."""
    return bool(name) and not any(char in '"\\' or ord(char) < 0x20 or ord(char) == 0x7F for char in name)


def _quoted_end(text: str) -> int:
    """The index just past the closing quote of the C-quoted string opening `text`, or -1."""
    index = 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
        elif text[index] == '"':
            return index + 1
        else:
            index += 1
    return -1


def _unquote(token: str) -> str | None:
    """Decode a C-quoted name (octal escapes are bytes of UTF-8), or None if malformed."""
    raw = bytearray()
    inner, index = token[1:-1], 0
    while index < len(inner):
        char = inner[index]
        if char == "\\":
            escape = inner[index + 1 : index + 4]
            if escape[:1] in _C_ESCAPES:
                raw.append(_C_ESCAPES[escape[:1]])
                index += 2
                continue
            if not re.fullmatch(r"[0-3][0-7]{2}", escape):
                return None
            raw.append(int(escape, 8))
            index += 4
            continue
        if char == '"' or ord(char) < 0x20 or ord(char) == 0x7F:
            return None
        raw += char.encode("utf-8", "surrogateescape")
        index += 1
    try:
        name = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return name or None
