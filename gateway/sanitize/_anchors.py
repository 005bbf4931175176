"""Search a text for the detectors' patterns without trying each pattern at every position of it.

Each pattern comes with an anchor: an RE2 pattern that occurs in every match of the pattern, starting at
most `reach` characters after the match's start. RE2 finds an anchor's occurrences in time linear in the
text whatever the anchor; the pattern itself (Python's `re`, for the lookarounds, backreferences and
possessive quantifiers the detectors use) is tried only at the positions from `reach` before each
occurrence's start to that start. Every match starts at such a position, and the candidates are tried in
order, each one a match attempt that `re` would make on the whole text too: the matches are exactly those
of searching the whole text (`FullScan`, the definition, which the tests compare against).

One RE2 pass for all anchors at once first tells whether the text holds any anchor at all: most strings
of a result (keys, names, dates, prose, most source code) hold none, and cost that pass alone. Where an
anchor is dense (text made to hold one every few characters), trying the pattern around each occurrence
would cost more than searching the whole text, and the whole text is searched instead.

RE2 reads the text as ASCII with every other character replaced by `?`, so that positions stay the
same. Anchors are ASCII, and an anchor for a case-insensitive pattern (`caseless`) also takes `?` for the
letters that Python's case-insensitive matching finds in non-ASCII characters too (k: the Kelvin sign,
s: the long s, i: the dotted and dotless I).
"""

from __future__ import annotations

import bisect
import dataclasses
import re
from collections.abc import Iterable, Iterator
from typing import Any, Protocol

import re2

# An anchor occurring more than once in this many characters (and more than `_FEW` times) is dense.
_DENSE = 64
_FEW = 16
# ASCII letters that Python's case-insensitive matching also finds in non-ASCII characters.
FOLDS_BEYOND_ASCII = "iks"


def caseless(anchor: str) -> str:
    """`anchor`, made of letters and letter-free regular expression syntax, matching case-insensitively
    wherever Python's `(?i:anchor)` does, once non-ASCII characters are read as `?`."""
    return re.sub("[A-Za-z]", lambda letter: _either_case(letter[0]), anchor)


def _either_case(letter: str) -> str:
    lower = letter.lower()
    return f"[{lower}{lower.upper()}{'?' if lower in FOLDS_BEYOND_ASCII else ''}]"


@dataclasses.dataclass(frozen=True, eq=False)
class Anchored:
    """`pattern`, which never matches the empty string, with the RE2 `anchor` found in each of its matches
    at most `reach` characters after the match's start."""

    pattern: re.Pattern[str]
    anchor: str
    reach: int = 0
    compiled: Any = dataclasses.field(init=False, repr=False)  # google-re2 has no type information

    def __post_init__(self) -> None:
        object.__setattr__(self, "compiled", re2.compile(self.anchor.encode("ascii")))


class Scan(Protocol):
    """How the patterns are searched in one text."""

    @property
    def text(self) -> str: ...

    def search(self, anchored: Anchored, pos: int = 0) -> re.Match[str] | None:
        """The first match of `anchored.pattern` in `text` at or after `pos`, as `pattern.search`."""

    def finditer(self, anchored: Anchored) -> Iterator[re.Match[str]]:
        """The matches of `anchored.pattern` in `text`, as `pattern.finditer`."""


@dataclasses.dataclass(frozen=True)
class FullScan:
    """The definition: each pattern tried at every position of the text."""

    text: str

    def search(self, anchored: Anchored, pos: int = 0) -> re.Match[str] | None:
        return anchored.pattern.search(self.text, pos)

    def finditer(self, anchored: Anchored) -> Iterator[re.Match[str]]:
        return anchored.pattern.finditer(self.text)


class Anchors:
    """The patterns a scan may search for, and one RE2 pattern that matches wherever any of their
    anchors does."""

    def __init__(self, patterns: Iterable[Anchored]) -> None:
        self.patterns = frozenset(patterns)
        self.any = re2.compile("|".join(f"(?:{anchored.anchor})" for anchored in self.patterns).encode())


class AnchoredScan:
    """Each pattern tried only around its anchor's occurrences; the occurrences of an anchor are found
    once per text, when first needed, and none are looked for in a text without any anchor."""

    def __init__(self, text: str, anchors: Anchors) -> None:
        self.text = text
        self._subject = text.encode("ascii", "replace")  # one byte for each character, surrogates too
        self._patterns = anchors.patterns
        self.anchorless = anchors.any.search(self._subject) is None  # then no pattern matches
        self._most = len(text) // _DENSE + _FEW
        self._candidates: dict[Anchored, tuple[list[int], list[int]] | None] = {}

    def search(self, anchored: Anchored, pos: int = 0) -> re.Match[str] | None:
        if anchored not in self._candidates:
            if anchored not in self._patterns:  # its anchor is not in the one pass for all of them
                raise ValueError(f"not one of the scan's patterns: {anchored.pattern.pattern!r}")
            self._candidates[anchored] = ([], []) if self.anchorless else self._regions(anchored)
        regions = self._candidates[anchored]
        if regions is None:
            return anchored.pattern.search(self.text, pos)
        starts, ends = regions
        match = anchored.pattern.match
        for index in range(bisect.bisect_right(ends, pos), len(ends)):
            for candidate in range(max(starts[index], pos), ends[index]):
                if found := match(self.text, candidate):
                    return found
        return None

    def finditer(self, anchored: Anchored) -> Iterator[re.Match[str]]:
        position = 0
        while found := self.search(anchored, position):
            yield found
            position = max(found.end(), found.start() + 1)  # a pattern matching "" must not loop forever

    def _regions(self, anchored: Anchored) -> tuple[list[int], list[int]] | None:
        """The positions where a match of `anchored` may start, as sorted disjoint ranges; None where the
        anchor is dense. Each search for the next occurrence starts one character after the last one's
        start, so that occurrences overlapping it are found too."""
        search = anchored.compiled.search
        starts: list[int] = []
        ends: list[int] = []
        position = 0
        for _ in range(self._most):
            occurrence = search(self._subject, position)
            if occurrence is None:
                return starts, ends
            position = occurrence.start() + 1
            start = max(position - 1 - anchored.reach, 0)
            if ends and start <= ends[-1]:
                ends[-1] = position
            else:
                starts.append(start)
                ends.append(position)
        return None
