"""Durations as the jobs file writes them: a whole number and a unit, `500ms`, `30s`, `5m`, `2h`, `7d`."""

from __future__ import annotations

import re

_DURATION = re.compile(r"([0-9]+)(ms|s|m|h|d)")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """Seconds; raises ValueError for anything else than the form above."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration such as 30s, 5m, 2h or 7d")
    return int(match.group(1)) * _SECONDS[match.group(2)]
