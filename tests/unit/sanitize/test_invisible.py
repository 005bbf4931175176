from __future__ import annotations

import sys

import pytest

from gateway.sanitize._invisible import LONG, strip_invisible

STRIPPED = {
    "bidi-embeddings-overrides": "\u202a\u202b\u202c\u202d\u202e",
    "bidi-isolates": "\u2066\u2067\u2068\u2069",
    "bidi-marks": "\u200e\u200f\u061c",
    "zero-width": "\u200b\u200c\u200d",
    "word-joiner-invisible-operators": "\u2060\u2061\u2062\u2063\u2064",
    "deprecated-format": "\u206a\u206f",
    "byte-order-mark": "\ufeff",
    "mongolian": "\u180b\u180e\u180f",
    "soft-hyphen": "\u00ad",
    "grapheme-joiner": "\u034f",
    "interlinear-annotation": "\ufff9\ufffa\ufffb",
    "tags": "\U000e0000\U000e0001\U000e0041\U000e007f",
    "variation-selectors-17-256": "\U000e0100\U000e01ef",
    "c0": "\x00\x01\x07\x08\x0b\x0c\x0e\x1b\x1f",
    "del-and-c1": "\x7f\x80\x85\x9b\x9f",
    "lone-surrogates": "\ud800\udfff",
}


@pytest.mark.parametrize("characters", STRIPPED.values(), ids=STRIPPED.keys())
def test_invisible_characters_are_stripped_and_counted(characters: str) -> None:
    text = "".join(f"{char}x" for char in characters)
    assert strip_invisible(f"<{text}>") == ("<" + "x" * len(characters) + ">", len(characters))


KEPT = {
    "tab-newline-return": "a\tb\nc\r\n",
    "accents-and-scripts": "Café, naïve, 中文, العربية, עברית",
    "emoji-with-presentation-selector": "\u2764\ufe0f \U0001f44d",
    "line-separators": "a\u2028b\u2029c",
    "spaces": "a\u00a0b\u2003c",
}


@pytest.mark.parametrize("text", KEPT.values(), ids=KEPT.keys())
def test_visible_text_is_kept(text: str) -> None:
    assert strip_invisible(text) == (text, 0)
    assert strip_invisible(text * LONG) == (text * LONG, 0)


def test_a_long_text_loses_every_character_a_short_one_loses() -> None:
    """A long text is first searched by RE2 for any invisible character at all: it must find each one."""
    every = "".join(chr(code) for code in range(sys.maxunicode + 1))
    stripped = [char for char in every if not strip_invisible(char)[0]]
    assert len(stripped) > 2048  # the surrogates and more
    padding = "x" * LONG
    for char in stripped:
        assert strip_invisible(f"{padding}{char}{padding}") == (padding * 2, 1)


def test_trojan_source_line_reads_as_it_runs() -> None:
    line = 'if access_level != "user\u202e \u2066// Check if admin\u2069 \u2066":'
    assert strip_invisible(line) == ('if access_level != "user // Check if admin ":', 4)
