"""Is a value assigned to a secret-like name (`password = ...`) a real secret, or a placeholder, a word,
a number or a reference in code? The heuristics, and why they are set where they are.

A value counts as a secret when all of these hold:
- at least `MIN_SECRET_LENGTH` (8) characters and no whitespace: shorter values are mostly flags, ports
  and words, and a value with spaces is prose;
- at least one digit or symbol: identifiers and words (`access_token`, `bert-base-uncased`,
  `authToken`, `password`) have none, while generated secrets nearly always do (the miss: a letters-only
  random value);
- Shannon entropy of at least `MIN_ENTROPY_BITS` (2.5) bits per character. Eight characters can reach
  3.0 at most, so a higher bar would let through human passwords such as `Password1` (2.95) and `P@ssword!`
  (2.95); 2.5 still rejects repetitive values (`aaaa1111` 1.0, `abcabc12` 2.25) and placeholders
  (`xxxxxxxx` 0), while random values score far above it (16 alphanumerics about 3.7, 40 hex about 3.8);
- not a placeholder (`${VAR}`, `$VAR`, `{{ var }}`, `<your-token>`, `%VAR%`, `changeme`, `example`,
  `your...`, `xxxx`, `redacted`, `dummy`, or two distinct characters or fewer), not made only of digits
  and `.:/+-TZ` (numbers, dates, times, versions, addresses) and not a URL (credentials inside a URL are
  found by their own detector);
- when the value is not quoted: not a reference in code such as `self._token`, `tokens[0]` or
  `get_token(1)`.
"""

from __future__ import annotations

import math
import re
from collections import Counter

MIN_SECRET_LENGTH = 8
MIN_ENTROPY_BITS = 2.5
_PLACEHOLDER_WORDS = ("changeme", "change_me", "change-me", "example", "placeholder", "redacted", "your",
                      "xxxx", "dummy")  # fmt: skip
_PLACEHOLDER_REMAINDER = 16  # characters left once the placeholder words are removed
_TEMPLATE = re.compile(r"\$[{(A-Za-z_]|<|%[A-Za-z_]")  # at the start of a value
_TEMPLATE_INSIDE = ("${", "{{", "%(")
_NUMERIC = re.compile(r"[0-9.:/+TZ-]{1,8192}")
_CODE_REFERENCE = re.compile(
    r"[A-Za-z_$][\w$]{0,200}+(?:\.[A-Za-z_$][\w$]{0,200}+|\[[^\]]{0,200}+\]|\([^)]{0,200}+\)){1,20}+"
)
_CODE_PUNCTUATION = frozenset("_.-/$()[]")


def shannon_entropy(text: str) -> float:
    """Bits per character of `text` taken as a sample of its own character distribution."""
    if not text:
        return 0.0
    total = len(text)
    return sum(count / total * math.log2(total / count) for count in Counter(text).values())


def is_placeholder(value: str) -> bool:
    """A stand-in for a secret rather than a secret: a template, an example word, a repeated character."""
    lowered = value.lower()
    return (
        _TEMPLATE.match(value) is not None
        or any(marker in value for marker in _TEMPLATE_INSIDE)
        or "[redacted:" in lowered  # already masked by Aegis: sanitizing twice finds nothing new
        or _mostly_placeholder_words(lowered)
        or len(set(value)) <= 2
    )


def _mostly_placeholder_words(lowered: str) -> bool:
    """`your-token-here`, `changeme123`: a placeholder word with little else. A long random value that
    merely contains one (AWS's documented `...EXAMPLEKEY` secret key) is still a secret."""
    remainder = lowered
    for word in _PLACEHOLDER_WORDS:
        remainder = remainder.replace(word, "")
    return len(remainder) < len(lowered) and len(remainder) < _PLACEHOLDER_REMAINDER


def looks_like_secret(value: str, *, quoted: bool) -> bool:
    """Whether a value assigned to a secret-like name is worth masking (see the module docstring)."""
    return (
        len(value) >= MIN_SECRET_LENGTH
        and not any(char.isspace() for char in value)
        and not is_placeholder(value)
        and _NUMERIC.fullmatch(value) is None
        and "://" not in value
        and (quoted or _CODE_REFERENCE.fullmatch(value) is None)
        and any(char.isdigit() or not (char.isalpha() or char in _CODE_PUNCTUATION) for char in value)
        and shannon_entropy(value) >= MIN_ENTROPY_BITS
    )
