"""What a tool hands the sanitizer when the whole of a value must be scanned before it is cut or encoded,
and the scan of one text or byte string.

    scanned = scan_text("token ghp_...")          # invisible characters stripped, then secrets masked
    {"message": Clip(message, 4000)}               # scanned whole, then cut to 4000 characters
    {"content": Binary(raw)}                       # masked where it holds text, then base64-encoded
    locate_secrets("a\ntoken = ghp_...")            # (LocatedSecret("github_token", line=2, digest=...),)
"""

from __future__ import annotations

import dataclasses
import hashlib
import re

from gateway.sanitize._invisible import strip_invisible
from gateway.sanitize._secrets import find_spans, mask_secrets

# Text written in UTF-16 inside binary content (`strings -el`, `-eb`): runs of at least eight Latin-1
# characters (ASCII and U+00A0 to U+00FF), tabs and line breaks, each beside a NUL byte; little-endian first.
_UTF16_RUNS = (
    (re.compile(rb"(?:[\t\n\r\x20-\x7e\xa0-\xff]\x00){8,}"), "utf-16-le"),
    (re.compile(rb"(?:\x00[\t\n\r\x20-\x7e\xa0-\xff]){8,}"), "utf-16-be"),
)


@dataclasses.dataclass(frozen=True)
class ScannedText:
    """A text as an agent may see it: `text` without invisible characters and with its secrets masked,
    the kinds of the secrets masked (in order) and how many invisible characters were stripped."""

    text: str
    kinds: tuple[str, ...]
    stripped: int


def scan_text(text: str, *, name: str | None = None) -> ScannedText:
    """Strip invisible characters first, so that a secret they split is still found; then mask secrets.
    `name` is the key the text sits under in structured output, if any (see `mask_secrets`)."""
    visible, stripped = strip_invisible(text)
    masked, kinds = mask_secrets(visible, name=name)
    return ScannedText(masked, kinds, stripped)


@dataclasses.dataclass(frozen=True)
class LocatedSecret:
    """Where a secret is in a text, never the secret: its kind, the line it starts on (from 1; a line ends
    at `\n`, as in git, and stripping invisible characters removes no line break), and the SHA-256 (hex)
    of its characters, which tells one secret from another."""

    kind: str
    line: int
    digest: str


def locate_secrets(text: str) -> tuple[LocatedSecret, ...]:
    """The secrets `scan_text` would mask in `text` (found after invisible characters are stripped, so
    that a secret they split is still found), in order."""
    visible, _ = strip_invisible(text)  # no lone surrogate remains: every character encodes as UTF-8
    located: list[LocatedSecret] = []
    line = 1
    counted = 0
    for span in find_spans(visible):
        line += visible.count("\n", counted, span.start)
        counted = span.start
        digest = hashlib.sha256(visible[span.start : span.end].encode("utf-8")).hexdigest()
        located.append(LocatedSecret(span.kind, line, digest))
    return tuple(located)


def ascii_secret_kinds(data: bytes) -> tuple[str, ...]:
    """The kinds of the secrets written in `data` as ASCII, each byte read as one Latin-1 character: in
    bytes decoded as UTF-16 or UTF-32, such secrets would be read as other characters and not be found."""
    return mask_secrets(data.decode("latin-1"))[1]


def scan_bytes(data: bytes) -> tuple[bytes, tuple[str, ...]]:
    """`data` with the secrets written in it as ASCII or UTF-16 text masked (in the same encoding), the
    other bytes unchanged. ASCII is found by reading each byte as one Latin-1 character; a secret in any
    other encoding is not found."""
    masked, kinds = mask_secrets(data.decode("latin-1"))
    found = list(kinds)
    masked_bytes = masked.encode("latin-1")
    for pattern, codec in _UTF16_RUNS:
        masked_bytes = _mask_runs(masked_bytes, pattern, codec, found)
    return masked_bytes, tuple(found)


def _mask_runs(data: bytes, pattern: re.Pattern[bytes], codec: str, found: list[str]) -> bytes:
    """`data` with the secrets in each run of `pattern` (text in `codec`) masked, their kinds in `found`."""
    parts: list[bytes] = []
    position = 0
    for run in pattern.finditer(data):
        masked, kinds = mask_secrets(run.group().decode(codec))
        if kinds:
            parts += [data[position : run.start()], masked.encode(codec)]
            position = run.end()
            found += kinds
    return b"".join([*parts, data[position:]]) if parts else data


@dataclasses.dataclass(frozen=True)
class Clip:
    """A text of which only the first `max_chars` characters are shown (a commit message in a list). The
    sanitizer scans the whole text and cuts the masked one, so that no secret straddles the cut."""

    text: str
    max_chars: int

    def cut(self, masked: str) -> str:
        if len(masked) <= self.max_chars:
            return masked
        return f"{masked[: self.max_chars]}[... cut by Aegis: {len(masked) - self.max_chars} more characters]"


@dataclasses.dataclass(frozen=True)
class Binary:
    """Content that is not text, sent base64-encoded. Only the secrets written in it as ASCII or UTF-16 text
    can be found and masked, so a result holding one is marked as not fully scanned (and withheld under
    `block`)."""

    data: bytes
