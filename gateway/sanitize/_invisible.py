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

_INVISIBLE = re.compile(
    "["
    "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f"  # C0 except \t \n \r, DEL, C1
    "\u00ad\u034f\u061c\u180b-\u180f"  # soft hyphen, grapheme joiner, Arabic letter mark, Mongolian
    "\u200b-\u200f\u202a-\u202e\u2060-\u206f"  # zero-width, LRM/RLM, embeddings, overrides, isolates
    "\ufeff\ufff9-\ufffb\ud800-\udfff"  # BOM/ZWNBSP, interlinear annotation, surrogates
    "\U000e0000-\U000e007f\U000e0100-\U000e01ef"  # tags, variation selectors 17-256
    "]"
)


def strip_invisible(text: str) -> tuple[str, int]:
    """`text` without invisible and control characters, and how many were removed."""
    return _INVISIBLE.subn("", text)
