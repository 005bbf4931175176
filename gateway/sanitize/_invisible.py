"""Strip characters a reader cannot see but a model still reads: bidirectional controls (Trojan Source),
zero-width and other invisible characters, Unicode tags (ASCII smuggling), and control characters.

Stripped, beyond the bidi, zero-width, tag and C0/C1 sets:
- the soft hyphen U+00AD and the combining grapheme joiner U+034F: invisible in running text and able to
  split a word or a secret so that a filter misses it; the text reads the same without them;
- the whole U+2060-U+206F block (word joiner, invisible operators, isolates, deprecated format controls);
- Mongolian free variation selectors U+180B-U+180F and the interlinear annotation controls U+FFF9-U+FFFB;
- variation selectors 17-256 (U+E0100-U+E01EF), which can carry hidden bytes after any character;
- lone surrogates U+D800-U+DFFF, which are not text and cannot be encoded as UTF-8.
Kept: tab, newline and carriage return; variation selectors 1-16 (U+FE00-U+FE0F), which choose how an
emoji is drawn; the line and paragraph separators U+2028 and U+2029, which are visible line breaks.
"""

from __future__ import annotations

import re

import re2

# What is stripped, as ranges of code points.
_STRIPPED = (
    (0x00, 0x08), (0x0B, 0x0C), (0x0E, 0x1F), (0x7F, 0x9F),  # C0 except \t \n \r, DEL, C1
    (0xAD, 0xAD), (0x34F, 0x34F), (0x61C, 0x61C),  # soft hyphen, grapheme joiner, Arabic letter mark
    (0x180B, 0x180F),  # Mongolian free variation selectors and vowel separator
    (0x200B, 0x200F), (0x202A, 0x202E), (0x2060, 0x206F),  # zero-width, LRM/RLM, bidi controls, isolates
    (0xFEFF, 0xFEFF), (0xFFF9, 0xFFFB),  # BOM/ZWNBSP, interlinear annotation
    (0xE0000, 0xE007F), (0xE0100, 0xE01EF),  # tags, variation selectors 17-256
)  # fmt: skip
_SURROGATES = (0xD800, 0xDFFF)  # stripped too; a text holding one cannot be encoded as UTF-8
_INVISIBLE = re.compile(
    "[" + "".join(f"\\U{first:08x}-\\U{last:08x}" for first, last in (*_STRIPPED, _SURROGATES)) + "]"
)
# The same in RE2, which tells in a fraction of the time whether a long text holds any at all.
_ANY_INVISIBLE = re2.compile(
    "[" + "".join(f"\\x{{{first:x}}}-\\x{{{last:x}}}" for first, last in _STRIPPED) + "]"
)
LONG = 256  # characters from which the RE2 search first is worth its fixed cost


def strip_invisible(text: str) -> tuple[str, int]:
    """`text` without invisible and control characters, and how many were removed."""
    if len(text) >= LONG:
        try:
            encoded = text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate
            return _INVISIBLE.subn("", text)
        if _ANY_INVISIBLE.search(encoded) is None:
            return text, 0
    return _INVISIBLE.subn("", text)
