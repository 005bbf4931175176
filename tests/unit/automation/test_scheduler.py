"""The scheduler on a virtual clock (no wall-clock waits but a timeout's), with real leases in a state
database: slots run at their time, within their jitter, once across replicas; missed slots follow the
job's policy; a slow run neither overlaps the next nor runs its slot twice."""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import itertools
import random
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from gateway.automation import CronSchedule, ScheduledJob, Scheduler, scheduler_wanted
from gateway.automation._scheduler import MAX_SLEEP_S, Missed
from gateway.errors import StateUnavailable
from gateway.observability.metrics import Metrics
from gateway.state import Database, ScheduleLeases

UTC = dt.UTC
HOURLY = CronSchedule.parse("0 * * * *")


def at(hhmm: str, day: int = 3) -> dt.datetime:
    hours, minutes = hhmm.split(":")
    return dt.datetime(2026, 12, day, int(hours), int(minutes), tzinfo=UTC)


class CountingLeases(ScheduleLeases):
    """Real leases that know whether a call of theirs is still going (so that time moves on only once
    the database has answered)."""

    busy = 0

    async def claim(self, job: str, slot: dt.datetime, *, holder: str) -> bool:
        CountingLeases.busy += 1
        try:
            return await super().claim(job, slot, holder=holder)
        finally:
            CountingLeases.busy -= 1

    async def last_slot(self, job: str) -> dt.datetime | None:
        CountingLeases.busy += 1
        try:
            return await super().last_slot(job)
        finally:
            CountingLeases.busy -= 1


class VirtualTime:
    """A clock and a sleep for the scheduler: time moves only in `advance_to`, waking each sleeper at its
    own time, in order, and letting what it starts finish before moving on."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self._sleepers: list[tuple[dt.datetime, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    def clock(self) -> dt.datetime:
        return self.now

    async def sleep(self, delay: float) -> None:
        self.sleeps.append(delay)
        if delay <= 0:
            await asyncio.sleep(0)
            return
        woken = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + dt.timedelta(seconds=delay), next(self._order), woken))
        await woken

    async def advance_to(self, until: dt.datetime) -> None:
        await settle()
        while self._sleepers and self._sleepers[0][0] <= until:
            wake, _, woken = heapq.heappop(self._sleepers)
            self.now = max(self.now, wake)
            if not woken.done():
                woken.set_result(None)
            await settle()
        self.now = until
        await settle()

    async def jump_to(self, until: dt.datetime) -> None:
        """The wall clock jumps (or the process wakes from a suspension): every sleeper wakes at once."""
        self.now = until
        for _, _, woken in self._sleepers:
            if not woken.done():
                woken.set_result(None)
        self._sleepers.clear()
        await settle()


async def settle() -> None:
    """Until every task waits on the virtual clock: no lease call going, nothing left to step."""
    for _ in range(1000):
        for _ in range(20):
            await asyncio.sleep(0)
        if not CountingLeases.busy:
            return
        await asyncio.sleep(0.001)  # a PostgreSQL round trip
    raise AssertionError("the scheduler did not settle")


async def eventually(condition: Callable[[], bool], timeout_s: float = 5.0) -> None:
    """Wait in real time for what only real time brings (a run's timeout)."""
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110 (the metric it reads has no event to wait on)
            await asyncio.sleep(0.001)


class Harness:
    """Schedulers on one virtual clock, recording the runs (job, slot, when)."""

    def __init__(self, start: dt.datetime) -> None:
        self.time = VirtualTime(start)
        self.metrics = Metrics.create()
        self.runs: list[tuple[str, dt.datetime, dt.datetime]] = []
        self.schedulers: list[Scheduler] = []

    async def run(self, job: str, slot: dt.datetime) -> None:
        self.runs.append((job, slot, self.time.now))

    def scheduler(
        self,
        db: Database,
        *jobs: ScheduledJob,
        holder: str = "gateway-0",
        run: Callable[[str, dt.datetime], Awaitable[None]] | None = None,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> Scheduler:
        scheduler = Scheduler(
            jobs,
            CountingLeases(db),
            run or self.run,
            holder=holder,
            metrics=self.metrics,
            clock=self.time.clock,
            sleep=self.time.sleep,
            uniform=uniform,
        )
        self.schedulers.append(scheduler)
        scheduler.start()
        return scheduler

    def slots(self, job: str = "hourly") -> list[dt.datetime]:
        return [slot for name, slot, _ in self.runs if name == job]

    def counted(self, outcome: str, job: str = "hourly") -> float:
        value = self.metrics.registry.get_sample_value(
            "aegis_automation_slots_total", {"job": job, "outcome": outcome}
        )
        return value or 0.0

    async def stop(self) -> None:
        for scheduler in self.schedulers:
            await scheduler.stop(grace_s=0.1)


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    harness = Harness(at("09:10"))
    yield harness
    await harness.stop()


def hourly(*, missed: Missed = "skip", jitter_s: float = 0.0, timeout_s: float = 60.0) -> ScheduledJob:
    return ScheduledJob("hourly", HOURLY, missed=missed, jitter_s=jitter_s, timeout_s=timeout_s)


async def test_each_slot_runs_at_its_time(harness: Harness, db: Database) -> None:
    harness.scheduler(db, hourly())
    await harness.time.advance_to(at("12:30"))
    assert harness.runs == [("hourly", at(t), at(t)) for t in ("10:00", "11:00", "12:00")]
    assert harness.counted("run") == 3
    assert await ScheduleLeases(db).last_slot("hourly") == at("12:00")


async def test_the_loop_sleeps_until_the_slot_at_most_a_minute_at_a_time(
    harness: Harness, db: Database
) -> None:
    harness.scheduler(db, hourly())
    await harness.time.advance_to(at("10:00"))
    assert harness.slots() == [at("10:00")]
    assert all(0 < delay <= MAX_SLEEP_S for delay in harness.time.sleeps)
    *to_the_slot, after = harness.time.sleeps
    assert sum(to_the_slot) == 50 * 60 and after == MAX_SLEEP_S  # from 09:10 to the slot, then on


async def test_jobs_run_on_their_own_schedules(harness: Harness, db: Database) -> None:
    quarter = ScheduledJob("quarter", CronSchedule.parse("*/15 * * * *"))
    harness.scheduler(db, hourly(), quarter)
    await harness.time.advance_to(at("10:20"))
    assert harness.slots("quarter") == [at("09:15"), at("09:30"), at("09:45"), at("10:00"), at("10:15")]
    assert harness.slots("hourly") == [at("10:00")]


async def test_a_run_waits_a_jitter_within_its_bound(harness: Harness, db: Database) -> None:
    drawn: list[float] = []
    rng = random.Random(7)  # noqa: S311 (test data, fixed seed)

    def uniform(low: float, high: float) -> float:
        assert (low, high) == (0.0, 120.0)
        drawn.append(rng.uniform(low, high))
        return drawn[-1]

    harness.scheduler(db, hourly(jitter_s=120.0), uniform=uniform)
    await harness.time.advance_to(at("14:30"))
    assert len(drawn) == 5 and len(set(drawn)) == 5
    for (_, slot, ran), jitter in zip(harness.runs, drawn, strict=True):
        assert ran - slot == dt.timedelta(seconds=jitter)
        assert 0 <= jitter <= 120


async def test_a_job_never_run_starts_with_the_next_slot(harness: Harness, db: Database) -> None:
    harness.scheduler(db, hourly(missed="catch_up"))
    await harness.time.advance_to(at("09:59"))
    assert harness.runs == []
    assert harness.counted("skipped_missed") == 0


async def missed_since_six(db: Database) -> None:
    """The gateway ran the 06:00 slot last, and was down until 09:10."""
    assert await ScheduleLeases(db).claim("hourly", at("06:00"), holder="before")


async def test_skip_runs_no_missed_slot(harness: Harness, db: Database) -> None:
    await missed_since_six(db)
    harness.scheduler(db, hourly(missed="skip"))
    await harness.time.advance_to(at("10:30"))
    assert harness.slots() == [at("10:00")]
    assert harness.counted("skipped_missed") == 3  # 07:00, 08:00, 09:00


async def test_catch_up_runs_the_latest_missed_slot_once_at_start(harness: Harness, db: Database) -> None:
    await missed_since_six(db)
    harness.scheduler(db, hourly(missed="catch_up"))
    await harness.time.advance_to(at("10:30"))
    assert harness.runs == [("hourly", at("09:00"), at("09:10")), ("hourly", at("10:00"), at("10:00"))]
    assert harness.counted("skipped_missed") == 2  # 07:00, 08:00
    assert harness.counted("run") == 2


@pytest.mark.parametrize("missed", ["skip", "catch_up"])
async def test_a_slot_due_at_start_runs_and_catch_up_adds_none(db: Database, missed: Missed) -> None:
    started = at("09:00") + dt.timedelta(seconds=20)  # within a minute of the slot: not missed
    harness = Harness(started)
    await missed_since_six(db)
    harness.scheduler(db, hourly(missed=missed))
    await harness.time.advance_to(at("09:30"))
    assert harness.runs == [("hourly", at("09:00"), started)]
    assert harness.counted("skipped_missed") == 2
    await harness.stop()


async def test_a_clock_jump_forward_misses_the_slots_it_skips(harness: Harness, db: Database) -> None:
    harness.scheduler(db, hourly(missed="skip"))
    await harness.time.advance_to(at("10:30"))
    await harness.time.jump_to(at("14:30"))
    await harness.time.advance_to(at("15:00"))
    assert harness.slots() == [at("10:00"), at("15:00")]
    assert harness.counted("skipped_missed") == 4  # 11:00 to 14:00


async def test_a_slow_run_is_not_overlapped_and_its_next_slot_is_left(harness: Harness, db: Database) -> None:
    async def slow(job: str, slot: dt.datetime) -> None:
        await harness.run(job, slot)
        if slot == at("10:00"):
            await harness.time.sleep(90 * 60)

    harness.scheduler(db, hourly(), run=slow)
    await harness.time.advance_to(at("12:30"))
    assert harness.slots() == [at("10:00"), at("12:00")]
    assert harness.counted("overlapped") == 1
    # The skipped slot was not claimed: a replica that was free could still have run it.
    assert await ScheduleLeases(db).claim("hourly", at("11:00"), holder="other")


async def test_a_run_over_its_timeout_is_stopped_and_its_slot_not_run_again(
    harness: Harness, db: Database
) -> None:
    async def hangs(job: str, slot: dt.datetime) -> None:
        await harness.run(job, slot)
        if slot == at("10:00"):
            await asyncio.Event().wait()

    harness.scheduler(db, hourly(timeout_s=0.01), run=hangs)
    await harness.time.advance_to(at("10:00"))
    await eventually(lambda: harness.counted("timeout") == 1)
    await harness.time.advance_to(at("11:30"))
    assert harness.slots() == [at("10:00"), at("11:00")]
    assert (harness.counted("run"), harness.counted("error")) == (1, 0)
    assert not await ScheduleLeases(db).claim("hourly", at("10:00"), holder="other")


async def test_a_failing_run_is_counted_and_the_next_slot_runs(harness: Harness, db: Database) -> None:
    async def fails(job: str, slot: dt.datetime) -> None:
        await harness.run(job, slot)
        if slot == at("10:00"):
            raise RuntimeError("boom")

    harness.scheduler(db, hourly(), run=fails)
    await harness.time.advance_to(at("11:30"))
    assert harness.slots() == [at("10:00"), at("11:00")]
    assert (harness.counted("error"), harness.counted("run")) == (1, 1)


async def test_a_slot_whose_lease_cannot_be_claimed_is_not_run(harness: Harness, db: Database) -> None:
    class Unreachable(CountingLeases):
        async def claim(self, job: str, slot: dt.datetime, *, holder: str) -> bool:
            raise StateUnavailable("the state database is out of reach")

    scheduler = Scheduler(
        [hourly()],
        Unreachable(db),
        harness.run,
        holder="gateway-0",
        metrics=harness.metrics,
        clock=harness.time.clock,
        sleep=harness.time.sleep,
    )
    harness.schedulers.append(scheduler)
    scheduler.start()
    await harness.time.advance_to(at("10:30"))
    assert harness.runs == []
    assert harness.counted("error") == 1


async def test_a_run_going_at_stop_is_cancelled_after_the_grace(harness: Harness, db: Database) -> None:
    cancelled = asyncio.Event()

    async def hangs(job: str, slot: dt.datetime) -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    scheduler = harness.scheduler(db, hourly(), run=hangs)
    await harness.time.advance_to(at("10:00"))
    await scheduler.stop(grace_s=0.01)
    assert cancelled.is_set()


@pytest.mark.parametrize("jitter_s", [0.0, 300.0], ids=["no-jitter", "jitter"])
async def test_two_replicas_run_each_slot_once(replicas: tuple[Database, Database], jitter_s: float) -> None:
    harness = Harness(at("09:10"))
    for i, database in enumerate(replicas):
        harness.scheduler(
            database,
            hourly(jitter_s=jitter_s),
            holder=f"gateway-{i}",
            uniform=random.Random(i).uniform,  # noqa: S311 (test data)
        )
    for hour in range(10, 16):
        await harness.time.advance_to(at(f"{hour}:10"))
    assert harness.slots() == [at(f"{hour}:00") for hour in range(10, 16)]
    assert (harness.counted("run"), harness.counted("lost_lease")) == (6, 6)
    await harness.stop()


def test_a_job_is_checked_when_made() -> None:
    with pytest.raises(ValueError, match="job 'x': missed must be 'skip' or 'catch_up', got 'all'"):
        ScheduledJob("x", HOURLY, missed="all")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="job 'x': jitter_s must be 0 or more seconds, got -1"):
        ScheduledJob("x", HOURLY, jitter_s=-1)
    with pytest.raises(ValueError, match="job 'x': timeout_s must be more than 0 seconds, got 0"):
        ScheduledJob("x", HOURLY, timeout_s=0)


async def test_job_names_are_unique(db: Database) -> None:
    async def run(job: str, slot: dt.datetime) -> None: ...

    with pytest.raises(ValueError, match="unique: hourly appear"):
        Scheduler([hourly(), hourly()], ScheduleLeases(db), run, holder="gateway-0")


@pytest.mark.parametrize(
    ("setting", "jobs", "wanted"),
    [(None, 0, False), (None, 1, True), (False, 1, False), (True, 0, True)],
    ids=["unset-no-jobs", "unset-jobs", "off", "on"],
)
def test_the_scheduler_runs_as_the_setting_says_or_when_jobs_are_scheduled(
    setting: bool | None, jobs: int, wanted: bool
) -> None:
    assert scheduler_wanted(setting, [hourly()] * jobs) is wanted
