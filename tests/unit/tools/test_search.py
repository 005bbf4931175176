"""search_code's pure parts: the RE2 query, the lines it reports, and the budget that bounds the walk."""

from __future__ import annotations

import time

import pytest

from gateway.errors import InvalidToolCall
from gateway.tools._matcher import Hit, Matcher
from gateway.tools._walk import MAX_BYTES_READ, MAX_FILES_READ, Budget
from gateway.tools.search import DEADLINE_CHECK_LINES, EXCERPT_CHARS, MAX_LINE_CHARS, _hits


def ample() -> Budget:
    return Budget(deadline=time.monotonic() + 60)


def test_plain_text_is_literal() -> None:
    matcher = Matcher("a.b(", regex=False, ignore_case=False)
    assert matcher.find("xx a.b( yy") == Hit(3, 7)
    assert matcher.find("axb(") is None


def test_case_is_respected_unless_ignored() -> None:
    assert Matcher("Token", regex=False, ignore_case=False).find("token") is None
    assert Matcher("Token", regex=False, ignore_case=True).find("a TOKEN") == Hit(2, 7)


def test_regex_matches_within_one_line() -> None:
    matcher = Matcher(r"def \w+\(", regex=True, ignore_case=False)
    assert matcher.find("    def main():") == Hit(4, 13)
    assert Matcher("a.*b", regex=True, ignore_case=False).find("a\nb") is None


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        (r"(a)\1", "invalid escape sequence"),
        (r"(?=a)", "invalid perl operator"),
        (r"(?<!a)b", "invalid perl operator"),
        ("a{1001}", "invalid repetition size"),
        ("(unclosed", "missing )"),
    ],
)
def test_patterns_re2_cannot_run_in_linear_time_are_invalid_arguments(pattern: str, reason: str) -> None:
    with pytest.raises(
        InvalidToolCall, match=r"'query' is not a regular expression RE2 accepts: .*"
    ) as raised:
        Matcher(pattern, regex=True, ignore_case=False)
    assert reason in str(raised.value)


@pytest.mark.parametrize("pattern", [r"[^x]{1000}y", r"(\w+\s*){1,1000}x", r"\w{400}"])
def test_a_pattern_whose_program_is_too_large_is_refused(pattern: str) -> None:
    with pytest.raises(InvalidToolCall, match="too complex a regular expression"):
        Matcher(pattern, regex=True, ignore_case=False)


def test_everyday_patterns_are_accepted() -> None:
    for pattern in (r"def \w+\(", r"[a-z]{1,100}", r"TODO|FIXME|XXX", r"^import (os|sys)$"):
        Matcher(pattern, regex=True, ignore_case=True)


def test_catastrophic_backtracking_patterns_run_in_linear_time() -> None:
    matcher = Matcher(r"(a+)+$", regex=True, ignore_case=False)
    started = time.perf_counter()
    assert matcher.find("a" * 100_000 + "!") is None
    assert time.perf_counter() - started < 1.0  # Python's re would not finish


def test_hits_report_line_numbers_and_bounded_excerpts() -> None:
    long_line = "x" * 1000 + "needle" + "y" * 1000
    text = f"first\nneedle here\n{long_line}\nlast needle"
    hits = _hits(Matcher("needle", regex=False, ignore_case=False), "a.py", text, 10, ample())
    assert [hit["line"] for hit in hits] == [2, 3, 4]
    assert hits[0] == {"path": "a.py", "line": 2, "excerpt": "needle here"}
    assert "needle" in hits[1]["excerpt"] and len(hits[1]["excerpt"]) == EXCERPT_CHARS
    assert _hits(Matcher("needle", regex=False, ignore_case=False), "a.py", text, 2, ample())[-1]["line"] == 3


def test_lines_end_at_newlines_only_as_in_git() -> None:
    text = "a\rb\x0cc\u2028d\nneedle"
    hits = _hits(Matcher("needle", regex=False, ignore_case=False), "a.py", text, 10, ample())
    assert [hit["line"] for hit in hits] == [2]


def test_only_the_start_of_a_very_long_line_is_searched() -> None:
    matcher = Matcher("needle", regex=False, ignore_case=False)
    early = "x" * (MAX_LINE_CHARS - 6) + "needle"
    late = "x" * MAX_LINE_CHARS + "needle"
    assert len(_hits(matcher, "a", early, 10, ample())) == 1
    assert _hits(matcher, "a", late, 10, ample()) == []


def test_matching_stops_at_the_deadline_and_says_so() -> None:
    budget = Budget(deadline=time.monotonic() - 1)
    text = "needle\n" * (DEADLINE_CHECK_LINES * 3)
    hits = _hits(Matcher("needle", regex=False, ignore_case=False), "a", text, 10_000, budget)
    assert len(hits) == DEADLINE_CHECK_LINES - 1 and budget.stopped == "time"


def test_budget_stops_at_the_first_bound_and_names_it() -> None:
    files = Budget(deadline=time.monotonic() + 60)
    assert all(files.admit(1) for _ in range(MAX_FILES_READ))
    assert not files.admit(1) and files.stopped == "max_files"

    size = Budget(deadline=time.monotonic() + 60)
    assert size.admit(MAX_BYTES_READ - 10)
    assert not size.admit(11) and size.stopped == "max_bytes"
    assert not size.admit(1)  # once stopped, stays stopped

    late = Budget(deadline=time.monotonic() - 1)
    assert not late.admit(1) and late.stopped == "time"
