"""Mask the secrets in a text: run every detector, merge overlapping spans, replace each span."""

from __future__ import annotations

from collections.abc import Iterable

from gateway.sanitize._anchors import AnchoredScan, Scan
from gateway.sanitize._detectors import ANCHORS, DETECTORS, SECRET_KINDS, SECRET_NAME, classify_assigned
from gateway.sanitize._span import Span

_PRIORITY = {kind: rank for rank, kind in enumerate(SECRET_KINDS)}


def mask_secrets(text: str, *, name: str | None = None) -> tuple[str, tuple[str, ...]]:
    """`text` with each secret replaced by `[REDACTED:<kind>]`, and the kinds replaced, in order. A secret
    spanning several lines (a private key) is replaced by the marker and as many line breaks, so that every
    line after it keeps its number.

    `name` is the key that `text` is the value of in structured output: when it is secret-like
    (`{"password": "..."}`) and no detector matched, the whole value is judged as an assigned value.
    """
    spans = find_spans(text)
    if not spans and name is not None and SECRET_NAME.search(name):
        kind = classify_assigned(name, text, quoted=True)
        spans = [Span(0, len(text), kind)] if kind else []
    parts: list[str] = []
    position = 0
    for span in spans:
        line_breaks = "\n" * text.count("\n", span.start, span.end)
        parts += [text[position : span.start], f"[REDACTED:{span.kind}]{line_breaks}"]
        position = span.end
    parts.append(text[position:])
    return "".join(parts), tuple(span.kind for span in spans)


def find_spans(text: str) -> list[Span]:
    """The secrets in `text`, as `mask_secrets` masks them (without judging the text by a key name)."""
    scan = AnchoredScan(text, ANCHORS)
    return [] if scan.anchorless else secret_spans(scan)


def secret_spans(scan: Scan) -> list[Span]:
    """The secrets every detector finds in `scan.text`, overlapping ones merged, in order."""
    return _merge(span for detector in DETECTORS for span in detector(scan))


def _merge(spans: Iterable[Span]) -> list[Span]:
    """Overlapping spans become one span over their union, named by the most specific kind among them."""
    merged: list[Span] = []
    for span in sorted(spans, key=lambda span: (span.start, _PRIORITY[span.kind])):
        if merged and span.start < merged[-1].end:
            last = merged[-1]
            kind = min(last.kind, span.kind, key=_PRIORITY.__getitem__)
            merged[-1] = Span(last.start, max(last.end, span.end), kind)
        else:
            merged.append(span)
    return merged
