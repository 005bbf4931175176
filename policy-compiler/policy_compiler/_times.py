"""RFC 3339 times for time-limited grants (`not_before`, `expires`), read to the nanosecond.

OPA compares them with `time.parse_rfc3339_ns(input.context.time)`, so the compiler ships each
time as integer nanoseconds since the epoch, computed exactly (no float, no truncation).

Example:
    >>> rfc3339_ns("1970-01-01T00:00:01.5+00:00")
    1500000000
"""

from __future__ import annotations

import datetime
import re

__all__ = ["rfc3339_ns", "time_problem"]

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:[Zz]|([+-])(\d{2}):(\d{2}))",
    re.ASCII,
)
_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.UTC)
# Times are signed 64-bit nanoseconds in OPA: keep well inside that range.
_LAST = datetime.datetime(2262, 1, 1, tzinfo=datetime.UTC)


def time_problem(text: str) -> str | None:
    """Why `text` is not an RFC 3339 time with a timezone that the policy accepts, or None."""
    try:
        rfc3339_ns(text)
    except ValueError as exc:
        return str(exc)
    return None


def rfc3339_ns(text: str) -> int:
    """Nanoseconds since 1970-01-01T00:00:00Z of the RFC 3339 time `text`; ValueError if invalid."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        raise ValueError(f"invalid time {text!r}: use RFC 3339 with a timezone, e.g. '2026-01-31T18:00:00Z'")
    year, month, day, hour, minute, second = (int(part) for part in match.group(1, 2, 3, 4, 5, 6))
    fraction = (match.group(7) or "").ljust(9, "0")
    sign, offset_hours, offset_minutes = match.group(8, 9, 10)
    offset = datetime.timedelta(0)
    if sign is not None:
        if int(offset_hours) > 23 or int(offset_minutes) > 59:
            raise ValueError(f"invalid time {text!r}: the timezone offset is out of range")
        offset = datetime.timedelta(hours=int(offset_hours), minutes=int(offset_minutes))
        offset = -offset if sign == "-" else offset
    try:
        moment = datetime.datetime(year, month, day, hour, minute, second, tzinfo=datetime.timezone(offset))
    except ValueError as exc:
        raise ValueError(f"invalid time {text!r}: {exc}") from None
    if not _EPOCH <= moment < _LAST:
        raise ValueError(f"time {text!r} is out of range: use a time from 1970 to 2261")
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + int(fraction)
