"""File content as text: the encodings text files commonly use are decoded (so that their secrets can be
found), and binary content is told apart."""

from __future__ import annotations

import pytest

from gateway.tools._text import DecodedText, decode_text

TEXT = "Café settings\nGITHUB_TOKEN=x\n"


@pytest.mark.parametrize(
    ("codec", "charset"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8"),
        ("utf-16", "utf-16"),
        ("utf-16-le", "utf-16-le"),
        ("utf-16-be", "utf-16-be"),
        ("utf-32", "utf-32"),
        ("latin-1", "iso-8859-1"),
    ],
)
def test_text_in_a_common_encoding_is_decoded(codec: str, charset: str) -> None:
    assert decode_text(TEXT.encode(codec)) == DecodedText(TEXT, charset)


def test_windows_1252_is_told_apart_from_iso_8859_1_by_its_printable_c1_bytes() -> None:
    text = "\u201cquoted\u201d \u20ac5 " + TEXT
    assert decode_text(text.encode("cp1252")) == DecodedText(text, "windows-1252")


def test_bytes_windows_1252_leaves_undefined_are_read_as_iso_8859_1() -> None:
    assert decode_text(b"caf\xe9 \x81") == DecodedText("caf\xe9 \x81", "iso-8859-1")


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", id="png"),
        pytest.param(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)), id="elf"),
        pytest.param(bytes(range(1, 32)) * 20 + b"\xff", id="control-characters-not-utf-8"),
        pytest.param(b"\xff\xfe" + "abc".encode("utf-16-le") + b"\x00", id="utf-16-mark-odd-length"),
        pytest.param(b"\xff\xfe" + b"\x00\xd8", id="utf-16-mark-with-a-lone-surrogate"),
    ],
)
def test_binary_content_is_none(raw: bytes) -> None:
    """(The sanitizer still finds ASCII and UTF-16 secrets in what is binary: sanitize.Binary.)"""
    assert decode_text(raw) is None


@pytest.mark.parametrize(
    "text",
    [
        "\x1b[31mred\x1b[0m\n\f" + "x" * 300 + "\x07",
        "a\x01b\x01\nsee ghp_\u200bxyz\n",  # controls or not, UTF-8 is text: its invisibles get stripped
        "nul\x00 inside utf-8\n",
    ],
)
def test_utf_8_is_text_whatever_controls_it_holds(text: str) -> None:
    assert decode_text(text.encode()) == DecodedText(text, "utf-8")


def test_utf_16_without_a_mark_may_hold_characters_with_a_nul_byte() -> None:
    text = "\u4e00 \u0100 \u2000 GITHUB_TOKEN=x and some more ascii text\n"
    assert decode_text(text.encode("utf-16-le")) == DecodedText(text, "utf-16-le")
