"""The query of search_code, compiled with RE2: matching time is linear in the text searched (no
backtracking, no backreferences or look-around). Linear is not yet cheap: the factor is the size of the
compiled program, which counted repetitions multiply (`[^x]{1000}y` takes seconds per MiB), so programs
are capped in size. A plain-text query is matched as an RE2 literal."""

from __future__ import annotations

import dataclasses

import re2

from gateway.errors import InvalidToolCall

MAX_PROGRAM_BYTES = 8 << 20
MAX_PROGRAM_SIZE = 1000  # RE2 instructions: `[a-z]{1,100}` is 203, `\w{400}` is about 1200


@dataclasses.dataclass(frozen=True)
class Hit:
    start: int
    end: int


class Matcher:
    """Example:
    matcher = Matcher("def \\w+\\(", regex=True, ignore_case=False)
    matcher.find("    def main():")  # Hit(start=4, end=13)
    """

    def __init__(self, query: str, *, regex: bool, ignore_case: bool) -> None:
        options = re2.Options()
        options.log_errors = False
        options.literal = not regex
        options.case_sensitive = not ignore_case
        options.never_nl = True  # a match never spans lines: results are lines
        options.max_mem = MAX_PROGRAM_BYTES
        try:
            self._pattern = re2.compile(query, options)
        except re2.error as exc:
            reason = exc.args[0].decode("utf-8", "replace") if exc.args else "unsupported"
            raise InvalidToolCall(
                f"Invalid arguments: 'query' is not a regular expression RE2 accepts: {reason}"
            ) from None
        if self._pattern.programsize > MAX_PROGRAM_SIZE:
            raise InvalidToolCall(
                "Invalid arguments: 'query' is too complex a regular expression (it compiles to"
                f" {self._pattern.programsize} RE2 instructions, at most {MAX_PROGRAM_SIZE}); use fewer or"
                " smaller counted repetitions"
            )

    def find(self, line: str) -> Hit | None:
        match = self._pattern.search(line)
        return None if match is None else Hit(*match.span())
