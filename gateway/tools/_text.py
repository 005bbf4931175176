"""File content as text: decoded from the encodings text files commonly use, or None for binary content,
so that the sanitizer scans the text an agent would read rather than an encoding it cannot see into.

    decode_text("Café".encode("utf-16"))  # DecodedText(text="Café", charset="utf-16")
    decode_text(b"\\x89PNG\\r\\n\\x1a\\n\\x00")    # None: binary
"""

from __future__ import annotations

import codecs
import dataclasses
import re

from gateway.sanitize import ascii_secret_kinds

SNIFF_BYTES = 8000  # git's own look for a NUL byte ("buffer_is_binary")
# A byte order mark, the codec that reads it, and the charset it names. UTF-32's little-endian mark
# starts with UTF-16's, so it is tried first.
_BYTE_ORDER_MARKS = (
    (codecs.BOM_UTF32_LE, "utf-32", "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "utf-16"),
)
# UTF-16 without a mark: in text that is mostly ASCII, one byte of most pairs is NUL, the other seldom
# (U+4E00 and U+2000 have a NUL low byte).
_UTF16_NUL_SHARE = 0.3
_UTF16_OTHER_NUL_SHARE = 0.1
# Control characters text does not hold (tab, line breaks, form feed and escape aside); above this share
# of the characters, bytes in a single-byte encoding are binary.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_MAX_CONTROL_SHARE = 0.01
_WINDOWS_1252_ONLY = re.compile(rb"[\x80-\x9f]")  # printable in windows-1252, controls in ISO-8859-1
_WIDE_CHARSETS = frozenset({"utf-16", "utf-16-le", "utf-16-be", "utf-32"})


@dataclasses.dataclass(frozen=True)
class DecodedText:
    text: str
    charset: str  # the file's own encoding: utf-8, utf-16, utf-16-le, utf-16-be, utf-32, ...


def decode_text(raw: bytes) -> DecodedText | None:
    """The text of `raw`: by its byte order mark; else UTF-16 without one when its NUL bytes say so;
    else UTF-8 (whatever control characters it holds: the sanitizer strips them); else windows-1252 or
    ISO-8859-1 unless control characters say it is binary. None when it is binary, and when it decodes
    as UTF-16 or UTF-32 but holds a secret written as ASCII (appended to a UTF-16 file, say), which that
    decoding would turn into other characters: as binary, both are found and masked."""
    decoded = _decode(raw)
    if decoded is not None and decoded.charset in _WIDE_CHARSETS and ascii_secret_kinds(raw):
        return None
    return decoded


def _decode(raw: bytes) -> DecodedText | None:
    for mark, codec, charset in _BYTE_ORDER_MARKS:
        if raw.startswith(mark):
            return _decoded(raw, codec, charset, guessed=False)
    utf16 = _utf16_without_mark(raw) if b"\x00" in raw[:SNIFF_BYTES] else None
    if utf16 is not None:
        return utf16
    try:
        return DecodedText(raw.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    if b"\x00" in raw[:SNIFF_BYTES]:
        return None
    if _WINDOWS_1252_ONLY.search(raw):
        return _decoded(raw, "windows-1252", "windows-1252") or _decoded(raw, "iso-8859-1", "iso-8859-1")
    return _decoded(raw, "iso-8859-1", "iso-8859-1")


def _utf16_without_mark(raw: bytes) -> DecodedText | None:
    sample = raw[: SNIFF_BYTES - SNIFF_BYTES % 2]
    pairs = len(sample) // 2
    if not pairs or len(raw) % 2:
        return None
    nul_low, nul_high = sample[0::2].count(0), sample[1::2].count(0)
    if nul_high >= _UTF16_NUL_SHARE * pairs and nul_low <= _UTF16_OTHER_NUL_SHARE * pairs:
        return _decoded(raw, "utf-16-le", "utf-16-le")
    if nul_low >= _UTF16_NUL_SHARE * pairs and nul_high <= _UTF16_OTHER_NUL_SHARE * pairs:
        return _decoded(raw, "utf-16-be", "utf-16-be")
    return None


def _decoded(raw: bytes, codec: str, charset: str, *, guessed: bool = True) -> DecodedText | None:
    """`raw` decoded strictly by `codec`; when the codec is only `guessed` (no byte order mark said so),
    only if that gives text rather than control characters."""
    try:
        text = raw.decode(codec)
    except UnicodeDecodeError:
        return None
    sample = text[:SNIFF_BYTES]
    if guessed and len(_CONTROL.findall(sample)) > _MAX_CONTROL_SHARE * len(sample):
        return None
    return DecodedText(text, charset)
