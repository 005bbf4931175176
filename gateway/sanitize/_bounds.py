"""Bound an output: a byte budget for its strings and a cap on the items of each list, with markers."""

from __future__ import annotations

DEFAULT_MAX_BYTES = 2 << 20  # room for the largest file the read tools return (1 MiB), base64 and all
DEFAULT_MAX_ITEMS = 1000  # a full page of the file tree
TRUNCATION_SUMMARY_KEY = "truncated_by_aegis"


def truncation_marker(omitted_bytes: int) -> str:
    return f"[... truncated by Aegis: {omitted_bytes} more bytes]"


class ByteBudget:
    """The UTF-8 bytes that the strings of one document may still take, spent in document order.

    The string that overruns the budget keeps what fits (never half a character) and ends with a
    truncation marker; once one string is cut, every later non-empty string is cut to the marker alone,
    so the reader sees the beginning of the document rather than a patchwork.
    """

    def __init__(self, limit: int) -> None:
        self.remaining = limit
        self.omitted = 0

    def take(self, text: str) -> str:
        encoded = text.encode("utf-8")
        if len(encoded) <= self.remaining:
            self.remaining -= len(encoded)
            return text
        kept = encoded[: self.remaining].decode("utf-8", "ignore")  # drops only a cut last character
        omitted = len(encoded) - len(kept.encode("utf-8"))
        self.remaining = 0
        self.omitted += omitted
        marker = truncation_marker(omitted)
        return f"{kept}\n{marker}" if kept else marker
