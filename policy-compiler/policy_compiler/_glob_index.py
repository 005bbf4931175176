"""The index of a list of path (or branch) globs, with which Rego tries only the globs that can match.

A glob whose first segment is literal matches only paths with that first segment (every later
piece of its expression begins with '/', or is the `(?:/.*)?` of a trailing `**`), so globs are
grouped by their literal first segment, and those with a wildcard there (`*`, `?`, `**`) under
`any_segment`. Rego tries the group of the path's first segment and `any_segment`. Each group comes
in chunks of `GLOB_CHUNK` globs, each with one expression matching where any of its globs does; only
the globs of a chunk whose expression matches are tried one by one, so that every glob that matches
is still found (each one is a reason of the decision).

The expression of a chunk is a trie of the globs' pieces (`(?:.*/)?.*\\.p(?:em|ub)` for `**/*.pem`
and `**/*.pub`): RE2 runs its alternatives side by side, and alternatives that each begin with `.*`
would keep one thread per glob alive over the whole path.

Example:
    >>> globs_to_regex(["**/*.pem", "**/*.pub", "src/**"])
    '(?s)^(?:(?:.*/)?.*\\\\.p(?:em|ub)|src(?:/.*)?)$'
    >>> glob_index(["src/**", "**/*.pem", "docs/*.md", "src/a"])["by_segment"]["src"]
    [{'regex': '(?s)^src(?:(?:/.*)?|/a)$', 'entries': [0, 3]}]
"""

from __future__ import annotations

from collections.abc import Sequence

from policy_compiler._glob import glob_tokens, normalize_glob

__all__ = ["GLOB_CHUNK", "glob_index", "globs_to_regex", "literal_first_segment"]

GLOB_CHUNK = 32
_END = ""  # the trie key marking that a glob ends at a node (no token is empty)

_Trie = dict[str, "_Trie"]


def glob_index(globs: Sequence[str]) -> dict[str, object]:
    """`{"by_segment": {segment: chunks}, "any_segment": chunks}` for the positions of `globs`, each chunk
    `{"regex": <matches where any of its globs does>, "entries": [positions, ascending]}`."""
    by_segment: dict[str, list[int]] = {}
    any_segment: list[int] = []
    for index, glob in enumerate(globs):
        segment = literal_first_segment(glob)
        (any_segment if segment is None else by_segment.setdefault(segment, [])).append(index)
    return {
        "by_segment": {segment: _chunks(globs, group) for segment, group in by_segment.items()},
        "any_segment": _chunks(globs, any_segment),
    }


def globs_to_regex(globs: Sequence[str]) -> str:
    """One anchored regular expression matching exactly the paths that at least one of `globs` matches.

    Raises ValueError for a glob that `glob_problem` rejects.
    """
    trie: _Trie = {}
    for glob in globs:
        node = trie
        for token in glob_tokens(glob):
            node = node.setdefault(token, {})
        node[_END] = {}
    return "(?s)^" + _alternation(trie) + "$"


def literal_first_segment(glob: str) -> str | None:
    """The first segment of `glob` when it has no wildcard, else None."""
    first = normalize_glob(glob).split("/", 1)[0]
    return None if "*" in first or "?" in first else first


def _chunks(globs: Sequence[str], group: list[int]) -> list[dict[str, object]]:
    # Alike globs in the same chunk, where they share the most pieces.
    alike = sorted(group, key=lambda i: (globs[i], i))
    chunks = [sorted(alike[start : start + GLOB_CHUNK]) for start in range(0, len(alike), GLOB_CHUNK)]
    return [{"regex": globs_to_regex([globs[i] for i in chunk]), "entries": chunk} for chunk in chunks]


def _alternation(node: _Trie) -> str:
    """The expression for the rest of the globs below `node`. It recurses only where globs part, at most
    once per glob of the chunk, never once per token."""
    alternatives: list[str] = []
    for token, child in node.items():
        text = token
        while len(child) == 1 and _END not in child:  # a run no glob leaves: one piece of text
            ((token, child),) = child.items()
            text += token
        alternatives.append(text + (_alternation(child) if child else ""))
    return alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
