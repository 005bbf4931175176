"""What a tool hands the sanitizer when the whole of a value must be scanned before it is cut or encoded,
and the scan of one text or byte string.

    ScannedText = scan_text("token ghp_...")      # invisible characters stripped, then secrets masked
    {"message": Clip(message, 4000)}               # scanned whole, then cut to 4000 characters
    {"content": Binary(raw)}                       # masked where it holds text, then base64-encoded
"""

from __future__ import annotations

import dataclasses

from gateway.sanitize._invisible import strip_invisible
from gateway.sanitize._secrets import mask_secrets


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


def scan_bytes(data: bytes) -> tuple[bytes, tuple[str, ...]]:
    """`data` with the secrets written in it as ASCII masked, each byte read as one Latin-1 character
    (so that the masked bytes are the others unchanged); a secret in another encoding is not found."""
    masked, kinds = mask_secrets(data.decode("latin-1"))
    return masked.encode("latin-1"), kinds


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
    """Content that is not text, sent base64-encoded. Only the secrets written in it as ASCII can be found
    and masked, so a result holding one is marked as not fully scanned (and withheld under `block`)."""

    data: bytes
