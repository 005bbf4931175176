"""Sanitize one tool result: strip invisible characters, mask secrets, bound the size, report findings."""

from __future__ import annotations

import base64
import dataclasses
from typing import Any, Literal

from gateway.sanitize._bounds import DEFAULT_MAX_BYTES, DEFAULT_MAX_ITEMS, TRUNCATION_SUMMARY_KEY, ByteBudget
from gateway.sanitize._content import Binary, Clip, ScannedText, scan_bytes, scan_text
from gateway.sanitize._detectors import SECRET_NAME

SecretMode = Literal["mask", "block"]
TEXT_LOCATION = "text"


@dataclasses.dataclass(frozen=True)
class Finding:
    """A secret that was masked: its kind and where it was, as a JSON pointer into the sanitized
    `structured` output (`/issues/3/body`), or `text` for the plain text. Never the secret itself."""

    kind: str
    location: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Sanitized:
    """A sanitized tool result and what sanitizing it did. `unscanned` counts the binary values in it,
    which could be scanned only for secrets written as ASCII or UTF-16 text."""

    structured: dict[str, Any]
    text: str | None
    mode: SecretMode
    findings: tuple[Finding, ...]
    stripped_chars: int
    truncated_bytes: int
    omitted_items: int
    unscanned: int = 0

    @property
    def truncated(self) -> bool:
        return bool(self.truncated_bytes or self.omitted_items)

    @property
    def blocked(self) -> bool:
        """In mode "block", a result with findings, or not fully scanned, must be withheld and an error
        returned instead."""
        return self.mode == "block" and bool(self.findings or self.unscanned)


def sanitize_output(
    structured: dict[str, Any],
    text: str | Binary | None,
    *,
    mode: SecretMode,
    max_bytes: int = DEFAULT_MAX_BYTES,
    max_items: int = DEFAULT_MAX_ITEMS,
    found: tuple[Finding, ...] = (),
) -> Sanitized:
    """Sanitize a tool result before an agent sees it.

    Every string, dict keys included, is first stripped of invisible and control characters, then its
    secrets are masked as `[REDACTED:<kind>]`, then it is charged to the byte budget. A `Clip` is cut
    after that, and a `Binary` masked where it holds ASCII or UTF-16 text and then base64-encoded. `found` are
    secrets the tool masked itself in content it drew the result from (search excerpts). Secrets are
    masked in both modes, so even a caller that forgets to check `blocked` leaks nothing. `structured` and
    `text` (an alternative rendering of the same result, or the one place of a file's text or bytes) each
    get `max_bytes` of UTF-8 for their strings;
    a cut string ends with a marker, and a list keeps its first `max_items` items (the rest is neither
    scanned nor returned). When anything in `structured` was cut, it gains a `truncated_by_aegis`
    member with the totals. Keys that become equal once sanitized are told apart with a `~N` suffix.

    >>> result = sanitize_output({"body": "GITEA_TOKEN=" + "ab12" * 10 + " \\u200b"}, None, mode="block")
    >>> result.structured, result.findings, result.blocked
    ({'body': 'GITEA_TOKEN=[REDACTED:gitea_token] '}, (Finding(kind='gitea_token', location='/body'),), True)
    """
    if mode not in ("mask", "block"):
        raise ValueError(f"unknown secret mode {mode!r}")
    if max_bytes < 0 or max_items < 0:
        raise ValueError("max_bytes and max_items must not be negative")
    cleaned: _Cleaned = {}  # strings repeat (the keys of list items; `text` may repeat a value): scan once
    body = _Document(max_bytes=max_bytes, max_items=max_items, cleaned=cleaned)
    clean = body.mapping(structured, "", None)
    if body.budget.omitted or body.omitted_items:
        clean[TRUNCATION_SUMMARY_KEY] = {
            "omitted_bytes": body.budget.omitted,
            "omitted_items": body.omitted_items,
        }
    plain = _Document(max_bytes=max_bytes, max_items=max_items, cleaned=cleaned)
    clean_text = None if text is None else plain.value(text, TEXT_LOCATION, None)
    return Sanitized(
        structured=clean,
        text=clean_text,
        mode=mode,
        findings=(*found, *body.findings, *plain.findings),
        stripped_chars=body.stripped + plain.stripped,
        truncated_bytes=body.budget.omitted + plain.budget.omitted,
        omitted_items=body.omitted_items,
        unscanned=body.unscanned + plain.unscanned,
    )


def scan_size(structured: dict[str, Any], text: str | Binary | None) -> int:
    """How much sanitizing this result scans: the characters of its strings and keys (a Clip's whole
    text) and the bytes of its binary values. Scanning costs time in proportion: the caller decides by it
    whether to sanitize off the event loop."""
    size = 0
    pending: list[Any] = [structured, text]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            size += len(value)
        elif isinstance(value, Clip):
            size += len(value.text)
        elif isinstance(value, Binary):
            size += len(value.data)
        elif isinstance(value, dict):
            size += sum(len(key) for key in value if isinstance(key, str))
            pending += value.values()
        elif isinstance(value, list):
            pending += value
    return size


# (string, the key it sits under when that is secret-like) -> its scan
_Cleaned = dict[tuple[str, str | None], ScannedText]


class _Document:
    """One walk over a JSON-like document, with its own budget and tallies; `cleaned` remembers the
    strings already stripped and masked, and may be shared with the walk of another document."""

    def __init__(self, *, max_bytes: int, max_items: int, cleaned: _Cleaned) -> None:
        self.cleaned = cleaned
        self.budget = ByteBudget(max_bytes)
        self.max_items = max_items
        self.findings: list[Finding] = []
        self.stripped = 0
        self.omitted_items = 0
        self.unscanned = 0

    def value(self, value: Any, location: str, name: str | None) -> Any:
        """`name` is the key the value sits under, for judging a bare value such as a password."""
        if isinstance(value, str | Clip):
            whole = value if isinstance(value, str) else value.text
            masked, kinds = self._clean(whole, name)
            self._note(kinds, location)
            return self.budget.take(masked if isinstance(value, str) else value.cut(masked))
        if isinstance(value, Binary):
            masked_bytes, kinds = scan_bytes(value.data)
            self._note(kinds, location)
            self.unscanned += 1
            return self.budget.take(base64.b64encode(masked_bytes).decode("ascii"))
        if value is None or isinstance(value, bool | int | float):
            return value
        if isinstance(value, dict):
            return self.mapping(value, location, name)
        if isinstance(value, list):
            kept = value[: self.max_items]
            self.omitted_items += len(value) - len(kept)
            return [self.value(item, f"{location}/{index}", name) for index, item in enumerate(kept)]
        raise TypeError(f"not JSON-compatible: {type(value).__name__} at {location or '/'}")

    def mapping(self, value: dict[Any, Any], location: str, name: str | None) -> dict[str, Any]:
        clean: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError(f"not JSON-compatible: a {type(key).__name__} key at {location or '/'}")
            masked, kinds = self._clean(key, None)
            clean_key = _unused(masked, clean)
            member = f"{location}/{_escape(clean_key)}"
            self._note(kinds, member)
            clean[clean_key] = self.value(item, member, clean_key)
        return clean

    def _clean(self, text: str, name: str | None) -> tuple[str, tuple[str, ...]]:
        # The key matters only when it is secret-like: one string under `body` and as `text` is one scan.
        key = (text, name if name is not None and SECRET_NAME.search(name) else None)
        scanned = self.cleaned.get(key)
        if scanned is None:
            scanned = self.cleaned[key] = scan_text(text, name=name)
        self.stripped += scanned.stripped
        return scanned.text, scanned.kinds

    def _note(self, kinds: tuple[str, ...], location: str) -> None:
        self.findings.extend(Finding(kind, location) for kind in kinds)


def _unused(key: str, taken: dict[str, Any]) -> str:
    candidate, number = key, 1
    while candidate in taken:
        number += 1
        candidate = f"{key}~{number}"
    return candidate


def _escape(key: str) -> str:
    """A key as one JSON pointer (RFC 6901) reference token."""
    return key.replace("~", "~0").replace("/", "~1")
