from __future__ import annotations

import pytest

from gateway.sanitize._bounds import ByteBudget, truncation_marker


def test_strings_within_the_budget_are_unchanged() -> None:
    budget = ByteBudget(6)
    assert [budget.take("abc"), budget.take("dé"), budget.take("")] == ["abc", "dé", ""]
    assert (budget.remaining, budget.omitted) == (0, 0)


def test_the_string_that_overruns_keeps_what_fits_and_says_how_much_is_gone() -> None:
    budget = ByteBudget(5)
    assert budget.take("hello world") == "hello\n[... truncated by Aegis: 6 more bytes]"
    assert budget.omitted == 6


def test_after_a_cut_later_strings_keep_only_the_marker() -> None:
    budget = ByteBudget(8)
    taken = [budget.take("abcdef"), budget.take("ghijkl"), budget.take("x"), budget.take("")]
    assert taken == ["abcdef", "gh\n" + truncation_marker(4), truncation_marker(1), ""]
    assert budget.omitted == 5


TEXT = "aé中😀z"  # 1, 2, 3, 4 and 1 bytes of UTF-8


@pytest.mark.parametrize("limit", range(len(TEXT.encode())))
def test_multibyte_characters_are_never_cut(limit: int) -> None:
    taken = ByteBudget(limit).take(TEXT)
    kept, _, marker = taken.rpartition("\n")
    assert TEXT.startswith(kept)
    assert limit - 3 <= len(kept.encode()) <= limit
    assert marker == truncation_marker(len(TEXT.encode()) - len(kept.encode()))
