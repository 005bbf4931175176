"""Cron expressions: the parser's sets and messages, and next/previous slots checked against a brute-force
walk over the minutes with a matcher of its own."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.automation import CronSchedule

UTC = dt.UTC
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
WINDOW_MINUTES = 3 * 24 * 60


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=UTC)


# Fields drawn as (text, the values they mean), each built beside its text rather than parsed from it.
@st.composite
def items(
    draw: st.DrawFn, low: int, high: int, names: tuple[str, ...] = (), base: int = 0
) -> tuple[str, set[int]]:
    def show(value: int) -> str:
        named: bool = draw(st.booleans())
        if names and named:
            return names[value - base] if value - base < len(names) else "7"
        return str(value)

    kind = draw(st.sampled_from(["value", "range", "range_step", "star_step"]))
    if kind == "star_step":
        step = draw(st.integers(1, high - low + 2))
        return f"*/{step}", set(range(low, high + 1, step))
    first = draw(st.integers(low, high))
    if kind == "value":
        return show(first), {first}
    last = draw(st.integers(first, high))
    if kind == "range":
        return f"{show(first)}-{show(last)}", set(range(first, last + 1))
    step = draw(st.integers(1, last - first + 2))
    return f"{show(first)}-{show(last)}/{step}", set(range(first, last + 1, step))


@st.composite
def fields(
    draw: st.DrawFn, low: int, high: int, names: tuple[str, ...] = (), base: int = 0
) -> tuple[str, set[int]]:
    if draw(st.integers(0, 3)) == 0:
        return "*", set(range(low, high + 1))
    parts = draw(st.lists(items(low, high, names, base), min_size=1, max_size=3))
    return ",".join(text for text, _ in parts), set().union(*(values for _, values in parts))


class Reference:
    """What an expression means, from the drawn sets: a minute matches when every field does, and a day
    when the day fields do (either of them, when both are restricted)."""

    def __init__(self, texts: list[str], sets: list[set[int]]) -> None:
        self.minutes, self.hours, self.days, self.months, weekdays = sets
        self.weekdays = {day % 7 for day in weekdays}
        self.either = not texts[2].startswith("*") and not texts[4].startswith("*")

    def day(self, t: dt.datetime) -> bool:
        if t.month not in self.months:
            return False
        in_days, in_weekdays = t.day in self.days, t.isoweekday() % 7 in self.weekdays
        return (in_days or in_weekdays) if self.either else (in_days and in_weekdays)

    def matches(self, t: dt.datetime) -> bool:
        return t.minute in self.minutes and t.hour in self.hours and self.day(t)

    def next_after(self, t: dt.datetime) -> dt.datetime:
        minute = t.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        return self._walk(minute, dt.timedelta(minutes=1))

    def latest_at_or_before(self, t: dt.datetime) -> dt.datetime:
        return self._walk(t.replace(second=0, microsecond=0), dt.timedelta(minutes=-1))

    def _walk(self, minute: dt.datetime, by: dt.timedelta) -> dt.datetime:
        """Minute by minute for three days; past them, day by day to a matching day, then minute by minute
        (a Feb 29 that is a Monday can be decades away)."""
        for _ in range(WINDOW_MINUTES):
            if self.matches(minute):
                return minute
            minute += by
        day = minute.replace(hour=0, minute=0) if by > dt.timedelta(0) else minute.replace(hour=23, minute=59)
        while True:
            if self.day(day):
                for offset in range(24 * 60):
                    if self.matches(day + offset * by):
                        return day + offset * by
            day += dt.timedelta(days=1) if by > dt.timedelta(0) else dt.timedelta(days=-1)


@st.composite
def expressions(draw: st.DrawFn) -> tuple[str, Reference]:
    drawn = [
        draw(fields(0, 59)),
        draw(fields(0, 23)),
        draw(fields(1, 31)),
        draw(fields(1, 12, MONTHS, 1)),
        draw(fields(0, 7, DAYS, 0)),
    ]
    texts, sets = [text for text, _ in drawn], [values for _, values in drawn]
    if texts[4] == "*":
        sets[4] = set(range(7))
    return " ".join(texts), Reference(texts, sets)


instants = st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2200, 1, 1)).map(
    lambda t: t.replace(tzinfo=UTC)
)


def parsed(text: str) -> CronSchedule | None:
    """The schedule, or None for an expression that never fires (checked apart)."""
    try:
        return CronSchedule.parse(text)
    except ValueError as exc:
        if "never fires" not in str(exc):
            raise
        return None


@settings(max_examples=400, deadline=None)
@given(expression=expressions(), t=instants)
def test_next_after_is_the_first_matching_minute(expression: tuple[str, Reference], t: dt.datetime) -> None:
    text, reference = expression
    schedule = parsed(text)
    if schedule is not None:
        assert schedule.next_after(t) == reference.next_after(t)


@settings(max_examples=400, deadline=None)
@given(expression=expressions(), t=instants)
def test_latest_at_or_before_is_the_last_matching_minute(
    expression: tuple[str, Reference], t: dt.datetime
) -> None:
    text, reference = expression
    schedule = parsed(text)
    if schedule is not None:
        assert schedule.latest_at_or_before(t) == reference.latest_at_or_before(t)


@settings(max_examples=200, deadline=None)
@given(expression=expressions(), t=instants, minutes=st.integers(0, 3000))
def test_slots_between_are_the_matching_minutes(
    expression: tuple[str, Reference], t: dt.datetime, minutes: int
) -> None:
    text, reference = expression
    schedule = parsed(text)
    if schedule is None:
        return
    until = t + dt.timedelta(minutes=minutes)
    first = t.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    walked = [first + dt.timedelta(minutes=i) for i in range(minutes + 1)]
    want = [minute for minute in walked if minute <= until and reference.matches(minute)]
    assert list(schedule.slots_between(t, until)) == want


@settings(max_examples=300, deadline=None)
@given(expression=expressions())
def test_an_expression_is_refused_exactly_when_it_never_fires(expression: tuple[str, Reference]) -> None:
    """Every (day, month) that exists falls on each weekday within 400 years, so an expression fires iff
    some matching day exists in a leap year or the next (checked day by day)."""
    text, reference = expression
    days = (dt.datetime(2024, 1, 1, tzinfo=UTC) + dt.timedelta(days=i) for i in range(366 * 28))
    fires = any(reference.day(day) for day in days)
    assert (parsed(text) is not None) is fires


@pytest.mark.parametrize(
    ("text", "t", "want"),
    [
        pytest.param("@hourly", "2026-12-03 10:00", "2026-12-03 11:00", id="hourly"),
        pytest.param("@daily", "2026-12-03 10:00", "2026-12-04 00:00", id="daily"),
        pytest.param("@midnight", "2026-12-31 23:59", "2027-01-01 00:00", id="midnight"),
        pytest.param("@weekly", "2026-12-03 10:00", "2026-12-06 00:00", id="weekly-sunday"),
        pytest.param("@monthly", "2026-12-03 10:00", "2027-01-01 00:00", id="monthly"),
        pytest.param("@yearly", "2026-12-03 10:00", "2027-01-01 00:00", id="yearly"),
        pytest.param("@ANNUALLY", "2027-01-01 00:00", "2028-01-01 00:00", id="annually-any-case"),
        pytest.param("30 9 * * 7", "2026-12-03 10:00", "2026-12-06 09:30", id="sunday-as-7"),
        pytest.param("0 0 * * fri-sun", "2026-12-05 00:00", "2026-12-06 00:00", id="range-ending-on-sunday"),
        pytest.param("0 12 13 * fri", "2026-12-04 12:00", "2026-12-11 12:00", id="either-day-field-weekday"),
        pytest.param("0 12 13 * fri", "2026-12-11 12:00", "2026-12-13 12:00", id="either-day-field-date"),
        pytest.param("0 12 */2 * fri", "2026-12-03 12:00", "2026-12-11 12:00", id="star-day-field-joins"),
        pytest.param("*/15 9-17 * * mon-fri", "2026-12-04 17:50", "2026-12-07 09:00", id="office-hours"),
        pytest.param("0 0 29 feb *", "2097-03-01 00:00", "2104-02-29 00:00", id="leap-day-past-2100"),
        pytest.param("0 6 1-5/2 JAN,Jul *", "2026-07-01 06:00", "2026-07-03 06:00", id="names-any-case"),
    ],
)
def test_next_slots(text: str, t: str, want: str) -> None:
    assert CronSchedule.parse(text).next_after(at(t)) == at(want)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("* * * *", "has 5 fields .* got 4", id="too-few-fields"),
        pytest.param("* * * * * *", "got 6", id="too-many-fields"),
        pytest.param("60 * * * *", r"minute '60': 60 is outside 0-59", id="minute-range"),
        pytest.param("* 24 * * *", r"hour '24': 24 is outside 0-23", id="hour-range"),
        pytest.param("* * 0 * *", r"day-of-month '0': 0 is outside 1-31", id="day-zero"),
        pytest.param("* * * 13 *", r"month '13': 13 is outside 1-12", id="month-range"),
        pytest.param("* * * * 8", r"day-of-week '8': 8 is outside 0-7", id="weekday-range"),
        pytest.param("* * * foo *", r"month 'foo': 'foo' is not a number or a name \(jan, ", id="bad-name"),
        pytest.param(
            "* * * * mon-sat,xyz", r"day-of-week .*'xyz' is not a number or a name \(sun, ", id="bad-day"
        ),
        pytest.param(
            "*/0 * * * *", r"minute '\*/0': the step '0' must be a whole number from 1", id="zero-step"
        ),
        pytest.param("*/x * * * *", r"minute '\*/x': the step 'x'", id="bad-step"),
        pytest.param(
            "5/15 * * * *",
            r"minute '5/15': a step needs a range or '\*' before it \(5-59/15\)",
            id="bare-step",
        ),
        pytest.param("* 9-5 * * *", r"hour '9-5': the range '9-5' runs backwards", id="backwards"),
        pytest.param("1,,2 * * * *", r"minute '1,,2': an empty list item", id="empty-item"),
        pytest.param("-1 * * * *", r"minute '-1': '' is not a number", id="negative"),
        pytest.param("* * * * ²", r"day-of-week '²'", id="unicode-digit"),
        pytest.param("@often", r"unknown cron nickname '@often'", id="nickname"),
        pytest.param("0 0 30 feb *", r"day-of-month: 30 never falls in the month\(s\) feb", id="feb-30"),
        pytest.param("0 0 31 apr,jun,sep,nov *", r"day-of-month: 31 never falls", id="31-in-short-months"),
        pytest.param("0 0 31 4 */2", r"never fires", id="31-april-weekday-star"),
    ],
)
def test_a_bad_expression_is_refused_naming_the_field(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        CronSchedule.parse(text)


def test_feb_30_is_fine_when_a_weekday_may_fire_instead() -> None:
    assert CronSchedule.parse("0 0 30 feb mon").next_after(at("2026-12-03 00:00")) == at("2027-02-01 00:00")


def test_an_instant_in_another_zone_is_read_in_utc() -> None:
    paris = dt.timezone(dt.timedelta(hours=1))
    slot = CronSchedule.parse("0 9 * * *").next_after(dt.datetime(2026, 12, 3, 9, 30, tzinfo=paris))
    assert slot == at("2026-12-03 09:00") and slot.tzinfo is UTC  # 09:30 in Paris is 08:30 UTC


def test_a_naive_instant_is_refused() -> None:
    with pytest.raises(ValueError, match="needs an aware datetime"):
        CronSchedule.parse("* * * * *").next_after(dt.datetime(2026, 12, 3))


def test_slots_between_is_bounded_by_its_end() -> None:
    schedule = CronSchedule.parse("0 0 29 2 *")
    assert list(schedule.slots_between(at("2097-01-01 00:00"), at("2103-12-31 00:00"))) == []
    every = CronSchedule.parse("* * * * *")
    hour = every.slots_between(at("2026-01-01 00:00"), at("2026-01-01 01:00"))
    assert len(list(itertools.islice(hour, 100))) == 60
