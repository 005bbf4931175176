"""Path globs: validation and translation into anchored regular expressions.

The same expression is used by Python and, through `regex.match`, by OPA, so both agree on what a
glob matches. Only constructs both engines read identically are emitted (Go RE2 syntax and Python
`re` overlap): `.`, `.*`, `(?:...)?`, escaped ASCII punctuation, and literal characters.

Semantics (fnmatch-compatible, see docs/policy.md):
- a glob matches the whole path, case-sensitively;
- `*` matches any run of characters, including `/`; `?` matches any one character, including `/`;
- a `**` segment also matches zero directories: `**/.env` matches `.env` and `a/b/.env`,
  `src/**` matches `src` itself and everything below it, `a/**/b` matches `a/b` and `a/x/y/b`;
- every other character is literal.

Example:
    >>> glob_to_regex("src/secrets/**")
    '(?s)^src/secrets(?:/.*)?$'
    >>> glob_matches("src/*", "src/a/b.py")
    True
"""

from __future__ import annotations

import re
import unicodedata

__all__ = [
    "MAX_GLOB_LENGTH",
    "glob_matches",
    "glob_problem",
    "glob_to_regex",
    "glob_tokens",
    "normalize_glob",
]

MAX_GLOB_LENGTH = 1024
_UNSUPPORTED = frozenset("[]{}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def normalize_glob(glob: str) -> str:
    """Globs are compared with NFC-normalized paths, so they are NFC-normalized too."""
    return unicodedata.normalize("NFC", glob)


def glob_problem(glob: str) -> str | None:
    """Why `glob` is not an acceptable path glob, or None."""
    if not glob:
        return "empty path glob"
    if len(glob) > MAX_GLOB_LENGTH:
        return f"path glob longer than {MAX_GLOB_LENGTH} characters"
    if _CONTROL.search(glob):
        return f"path glob {glob!r} contains a control character"
    if "\\" in glob:
        return f"path glob {glob!r} contains a backslash; paths use '/'"
    if _UNSUPPORTED.intersection(glob):
        return f"path glob {glob!r}: '[', ']', '{{' and '}}' are not supported; list each path instead"
    if glob.startswith("/"):
        return f"path glob {glob!r} is absolute; globs are relative to the repository root"
    if glob.endswith("/"):
        return f"path glob {glob!r} ends with '/'; write {glob + '**'!r} for a directory and its contents"
    for segment in glob.split("/"):
        if segment == "":
            return f"path glob {glob!r} has an empty segment ('//')"
        if segment in (".", ".."):
            return f"path glob {glob!r} has a {segment!r} segment; paths are normalized and never contain one"
    return None


def glob_to_regex(glob: str) -> str:
    """The anchored regular expression matching exactly the paths `glob` matches.

    Raises ValueError for a glob that `glob_problem` rejects.
    """
    return "(?s)^" + "".join(glob_tokens(glob)) + "$"


def glob_tokens(glob: str) -> list[str]:
    """The pieces of `glob_to_regex(glob)` between its anchors, one per wildcard, literal character or
    separator: globs that begin alike begin with the same pieces.

    Raises ValueError for a glob that `glob_problem` rejects.
    """
    problem = glob_problem(glob)
    if problem is not None:
        raise ValueError(problem)
    segments = _collapse_globstars(normalize_glob(glob).split("/"))
    if segments == ["**"]:
        return [".*"]
    tokens: list[str] = []
    last = len(segments) - 1
    for index, segment in enumerate(segments):
        if segment == "**" and index == 0:
            tokens.append("(?:.*/)?")  # zero or more leading directories, with their '/'
        elif segment == "**" and index == last:
            tokens.append("(?:/.*)?")  # the directory itself, or anything below it
        elif segment == "**":
            tokens.append("/(?:.*/)?")  # one '/', then zero or more directories
        else:
            previous_is_open = index > 0 and segments[index - 1] == "**"
            if index > 0 and not previous_is_open:
                tokens.append("/")
            tokens.extend(_segment_tokens(segment))
    return tokens


def glob_matches(glob: str, path: str) -> bool:
    """Whether `glob` matches the whole of `path` (a normalized, relative repository path)."""
    return re.fullmatch(glob_to_regex(glob), path) is not None


def _collapse_globstars(segments: list[str]) -> list[str]:
    collapsed: list[str] = []
    for segment in segments:
        if segment == "**" and collapsed and collapsed[-1] == "**":
            continue
        collapsed.append(segment)
    return collapsed


def _segment_tokens(segment: str) -> list[str]:
    out: list[str] = []
    for char in segment:
        if char == "*":
            if not out or out[-1] != ".*":
                out.append(".*")
        elif char == "?":
            out.append(".")
        else:
            out.append(_literal(char))
    return out


def _literal(char: str) -> str:
    # ASCII punctuation (but '_' and '-') and space are escaped, a literal in both engines; letters,
    # digits and non-ASCII characters stand for themselves (neither engine gives them a meaning).
    if char.isascii() and not char.isalnum() and char not in "_-":
        return "\\" + char
    return char
