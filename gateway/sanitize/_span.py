"""What a detector reports: the span of one secret in a text, and its kind."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

from gateway.sanitize._anchors import Scan


class Span(NamedTuple):
    start: int
    end: int
    kind: str


Detector = Callable[[Scan], Iterator[Span]]
