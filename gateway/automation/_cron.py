"""Cron expressions: when a scheduled job is due, in UTC, to the minute.

The five standard fields (minute, hour, day of month, month, day of week) with `*`, lists, ranges and steps
(`*/15`, `1-5/2`), month and weekday names (`jan`, `mon-fri`), Sunday as 0 or 7, and the nicknames
`@hourly`, `@daily` (`@midnight`), `@weekly`, `@monthly`, `@yearly` (`@annually`). When both day fields
are restricted a day matches either of them (`0 9 1 * mon`: the 1st, and every Monday); a day field
written with a leading `*` (`*`, `*/2`) counts as unrestricted, as in Vixie cron, so the other one alone
decides the day. An expression that can never fire (`0 0 30 feb *`) is refused when parsed.

Example:
    schedule = CronSchedule.parse("*/15 9-17 * * mon-fri")
    schedule.next_after(datetime(2026, 12, 4, 17, 50, tzinfo=UTC))  # 2026-12-07 09:00 UTC, a Monday
"""

from __future__ import annotations

import bisect
import calendar
import dataclasses
import datetime as dt
from collections.abc import Iterator

UTC = dt.UTC
MINUTE = dt.timedelta(minutes=1)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_NICKNAMES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
# The longest a month can be (February: in a leap year).
_MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)
# The Gregorian calendar repeats every 400 years: a search that finds no slot in that many months never will.
_SEARCH_MONTHS = 400 * 12 + 1


@dataclasses.dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    names: tuple[str, ...] = ()
    name_base: int = 0  # the number of names[0]


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day-of-month", 1, 31),
    _Field("month", 1, 12, _MONTHS, 1),
    _Field("day-of-week", 0, 7, _WEEKDAYS, 0),  # 7 is Sunday too
)


@dataclasses.dataclass(frozen=True)
class CronSchedule:
    """A parsed cron expression: the sets of values each field allows. Build it with `parse`."""

    text: str
    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: frozenset[int]  # of the month, 1-31
    months: frozenset[int]  # 1-12
    weekdays: frozenset[int]  # 0-6, Sunday 0
    days_restricted: bool  # day of month written without a leading `*`
    weekdays_restricted: bool

    @classmethod
    def parse(cls, text: str) -> CronSchedule:
        """Parse `text`; raises ValueError naming the field and what is wrong with it."""
        expression = text.strip()
        if expression.startswith("@"):
            if expression.lower() not in _NICKNAMES:
                raise ValueError(f"unknown cron nickname {expression!r}; known: {', '.join(_NICKNAMES)}")
            expression = _NICKNAMES[expression.lower()]
        parts = expression.split()
        if len(parts) != len(_FIELDS):
            raise ValueError(
                f"a cron expression has 5 fields (minute hour day-of-month month day-of-week),"
                f" got {len(parts)} in {text!r}"
            )
        minutes, hours, days, months, weekdays = (
            _parse_field(field, part) for field, part in zip(_FIELDS, parts, strict=True)
        )
        schedule = cls(
            text=text.strip(),
            minutes=tuple(sorted(minutes)),
            hours=tuple(sorted(hours)),
            days=frozenset(days),
            months=frozenset(months),
            weekdays=frozenset(day % 7 for day in weekdays),
            days_restricted=not parts[2].startswith("*"),
            weekdays_restricted=not parts[4].startswith("*"),
        )
        schedule._check_fires()
        return schedule

    def _check_fires(self) -> None:
        """A day-of-month that alone decides the day must fall in one of the months (February has a 29th
        in leap years). Every other combination fires: each month has every weekday, and each day of a
        month falls on every weekday within the 400-year cycle."""
        if self.weekdays_restricted and self.days_restricted:
            return  # either day field matches: the weekdays alone fire every week
        if any(day <= _MONTH_DAYS[month - 1] for month in self.months for day in self.days):
            return
        months = ",".join(_MONTHS[month - 1] for month in sorted(self.months))
        raise ValueError(
            f"day-of-month: {', '.join(map(str, sorted(self.days)))} never falls in the month(s) {months},"
            f" so {self.text!r} never fires"
        )

    def matches(self, t: dt.datetime) -> bool:
        """Whether the minute of `t` (an aware datetime) is a slot."""
        t = _utc(t)
        return (
            t.minute in self.minutes
            and t.hour in self.hours
            and t.month in self.months
            and self._day_matches(t.year, t.month, t.day)
        )

    def next_after(self, t: dt.datetime) -> dt.datetime:
        """The first slot strictly after `t` (an aware datetime), in UTC."""
        start = _utc(t).replace(second=0, microsecond=0) + MINUTE
        return self._search(start, forward=True)

    def latest_at_or_before(self, t: dt.datetime) -> dt.datetime:
        """The last slot at or before `t` (an aware datetime), in UTC."""
        return self._search(_utc(t).replace(second=0, microsecond=0), forward=False)

    def slots_between(self, after: dt.datetime, until: dt.datetime) -> Iterator[dt.datetime]:
        """The slots strictly after `after` and at or before `until`, in order."""
        until = _utc(until)
        slot = self.next_after(after)
        while slot <= until:
            yield slot
            slot = self.next_after(slot)

    def _day_matches(self, year: int, month: int, day: int) -> bool:
        in_days = day in self.days
        in_weekdays = (calendar.weekday(year, month, day) + 1) % 7 in self.weekdays  # Monday is 0 there
        if self.days_restricted and self.weekdays_restricted:
            return in_days or in_weekdays
        return in_days and in_weekdays

    def _search(self, start: dt.datetime, *, forward: bool) -> dt.datetime:
        """The first slot from `start` on (forward) or back (not forward), `start` included, month by
        month: bounded by the calendar's 400-year cycle, which `parse` made sure holds a slot."""
        year, month = start.year, start.month
        for _ in range(_SEARCH_MONTHS):
            if month in self.months:
                found = self._in_month(year, month, start, forward=forward)
                if found is not None:
                    return found
            year, month = _step_month(year, month, 1 if forward else -1)
        raise AssertionError(f"no slot of {self.text!r} within 400 years of {start}")  # parse rules it out

    def _in_month(self, year: int, month: int, start: dt.datetime, *, forward: bool) -> dt.datetime | None:
        last_day = calendar.monthrange(year, month)[1]
        this_month = (year, month) == (start.year, start.month)
        if forward:
            days = range(start.day if this_month else 1, last_day + 1)
        else:
            days = range(start.day if this_month else last_day, 0, -1)
        for day in days:
            if not self._day_matches(year, month, day):
                continue
            on_start_day = this_month and day == start.day
            time = self._time_in_day(start if on_start_day else None, forward=forward)
            if time is not None:
                return dt.datetime(year, month, day, time[0], time[1], tzinfo=UTC)
        return None

    def _time_in_day(self, start: dt.datetime | None, *, forward: bool) -> tuple[int, int] | None:
        """The first (hour, minute) of a matching day from `start`'s time on (or back), the day's first
        (or last) with no `start`."""
        if start is None:
            return (self.hours[0], self.minutes[0]) if forward else (self.hours[-1], self.minutes[-1])
        if forward:
            i = bisect.bisect_left(self.hours, start.hour)
            if i == len(self.hours):
                return None
            hour = self.hours[i]
            if hour > start.hour:
                return hour, self.minutes[0]
            j = bisect.bisect_left(self.minutes, start.minute)
            if j < len(self.minutes):
                return hour, self.minutes[j]
            return (self.hours[i + 1], self.minutes[0]) if i + 1 < len(self.hours) else None
        i = bisect.bisect_right(self.hours, start.hour) - 1
        if i < 0:
            return None
        hour = self.hours[i]
        if hour < start.hour:
            return hour, self.minutes[-1]
        j = bisect.bisect_right(self.minutes, start.minute) - 1
        if j >= 0:
            return hour, self.minutes[j]
        return (self.hours[i - 1], self.minutes[-1]) if i > 0 else None


def _parse_field(field: _Field, text: str) -> set[int]:
    values: set[int] = set()
    for item in text.split(","):
        values |= _parse_item(field, item, text)
    return values


def _parse_item(field: _Field, item: str, text: str) -> set[int]:
    where = f"{field.name} {text!r}"
    if not item:
        raise ValueError(f"{where}: an empty list item")
    span, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not _is_number(step_text) or int(step_text) == 0:
            raise ValueError(f"{where}: the step {step_text!r} must be a whole number from 1")
        step = int(step_text)
    if span == "*":
        low, high = field.low, field.high
        if field.name == "day-of-week":
            high = 6  # `*` is each day once; 7 is only another name for Sunday
    elif "-" in span:
        first, _, last = span.partition("-")
        low, high = _value(field, first, where), _value(field, last, where)
        if field.name == "day-of-week" and high == 0 and low > 0:
            high = 7  # `fri-sun`: Sunday as 7 ends a range
        if low > high:
            raise ValueError(f"{where}: the range {span!r} runs backwards")
    elif slash:
        raise ValueError(f"{where}: a step needs a range or '*' before it ({span}-{field.high}/{step})")
    else:
        low = high = _value(field, span, where)
    return set(range(low, high + 1, step))


def _value(field: _Field, text: str, where: str) -> int:
    word = text.lower()
    if word in field.names:
        return field.names.index(word) + field.name_base
    if not _is_number(text):
        named = f" or a name ({', '.join(field.names)})" if field.names else ""
        raise ValueError(f"{where}: {text!r} is not a number{named}")
    value = int(text)
    if not field.low <= value <= field.high:
        raise ValueError(f"{where}: {value} is outside {field.low}-{field.high}")
    return value


def _is_number(text: str) -> bool:
    return text.isascii() and text.isdigit()


def _step_month(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + by
    return index // 12, index % 12 + 1


def _utc(t: dt.datetime) -> dt.datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ValueError(f"a schedule needs an aware datetime (UTC), got the naive {t.isoformat()}")
    return t.astimezone(UTC)
