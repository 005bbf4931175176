"""Every string of a JSON-like value, dict keys included: what tests search for leaks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def strings_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from strings_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings_in(item)
