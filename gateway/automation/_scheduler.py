"""The scheduler: runs each scheduled job at its cron slots (UTC), each slot once across the replicas that
share the state database.

At a slot the scheduler waits a random jitter in [0, jitter_s], claims the slot's lease and, only when it
holds it, calls `run(job, slot)` within the job's timeout. A slot noticed more than LATE_S after its time
(the gateway was down, the process suspended, the clock jumped) is missed: `skip` runs nothing for it,
`catch_up` runs the most recent missed slot once, unless a slot is due now anyway. Runs of one job never
overlap in one replica: a slot due while the previous run still goes is left to the other replicas.

Example:
    scheduler = Scheduler(
        [ScheduledJob("nightly-triage", CronSchedule.parse("0 2 * * *"), missed="catch_up")],
        ScheduleLeases(db),
        run_job,  # async (job name, slot) -> None
        holder="gateway-0",
    )
    scheduler.start()
    ...
    await scheduler.stop()
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import itertools
import logging
import math
import random
from collections.abc import Awaitable, Callable, Sequence
from typing import Literal

from gateway.automation._cron import CronSchedule
from gateway.errors import StateUnavailable
from gateway.observability.metrics import Metrics
from gateway.state import ScheduleLeases

log = logging.getLogger("gateway.automation.scheduler")

MAX_SLEEP_S = 60.0  # the longest sleep: a clock that jumped is noticed within it
LATE_S = 60.0  # a slot noticed later than this after its time is missed
MISSED_COUNTED = 1000  # missed slots counted one by one per outage, at most
DEFAULT_TIMEOUT_S = 600.0
STOP_GRACE_S = 10.0  # how long stop() lets runs finish before cancelling them
Outcome = Literal["run", "lost_lease", "skipped_missed", "overlapped", "timeout", "error"]
Missed = Literal["skip", "catch_up"]
_SECOND = dt.timedelta(seconds=1)


@dataclasses.dataclass(frozen=True)
class ScheduledJob:
    """A job's schedule: its name (the lease's key, the metric's label), when, what to do with slots
    missed while no replica ran, the most jitter before a slot's run, and how long a run may take."""

    name: str
    schedule: CronSchedule
    missed: Missed = "skip"
    jitter_s: float = 0.0
    timeout_s: float = DEFAULT_TIMEOUT_S

    def __post_init__(self) -> None:
        if self.missed not in ("skip", "catch_up"):
            raise ValueError(f"job {self.name!r}: missed must be 'skip' or 'catch_up', got {self.missed!r}")
        if not (math.isfinite(self.jitter_s) and self.jitter_s >= 0):
            raise ValueError(f"job {self.name!r}: jitter_s must be 0 or more seconds, got {self.jitter_s}")
        if not (math.isfinite(self.timeout_s) and self.timeout_s > 0):
            raise ValueError(
                f"job {self.name!r}: timeout_s must be more than 0 seconds, got {self.timeout_s}"
            )


def scheduler_wanted(setting: bool | None, jobs: Sequence[ScheduledJob]) -> bool:
    """Whether to run the scheduler: as AEGIS_SCHEDULER says, or (unset) when there are scheduled jobs."""
    return bool(jobs) if setting is None else setting


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Scheduler:
    """One loop task for all jobs, sleeping until the next slot of any (at most MAX_SLEEP_S at a time),
    and one task per slot being run."""

    def __init__(
        self,
        jobs: Sequence[ScheduledJob],
        leases: ScheduleLeases,
        run: Callable[[str, dt.datetime], Awaitable[None]],
        *,
        holder: str,
        metrics: Metrics | None = None,
        clock: Callable[[], dt.datetime] = _utc_now,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        names = [job.name for job in jobs]
        if len(set(names)) != len(names):
            twice = sorted({name for name in names if names.count(name) > 1})
            raise ValueError(f"scheduled job names must be unique: {', '.join(twice)} appear more than once")
        self._jobs = tuple(jobs)
        self._leases = leases
        self._run = run
        self._holder = holder
        self._metrics = metrics
        self._clock = clock
        self._sleep = sleep
        self._uniform = uniform
        self._cursors: dict[str, dt.datetime] = {}  # per job: the latest slot dealt with
        self._runs: dict[str, asyncio.Task[None]] = {}  # per job: its latest slot's task
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is not None:
            raise RuntimeError("the scheduler is running already")
        self._task = asyncio.create_task(self._loop(), name="aegis-scheduler")

    async def stop(self, *, grace_s: float = STOP_GRACE_S) -> None:
        """Stop planning slots, let the runs going finish within `grace_s`, then cancel the rest."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)  # a loop that failed has logged why
        running = [run for run in self._runs.values() if not run.done()]
        if running:
            _, late = await asyncio.wait(running, timeout=grace_s)
            for run in late:
                run.cancel()
            await asyncio.gather(*late, return_exceptions=True)

    async def _loop(self) -> None:
        try:
            await self._plan()
        except Exception:
            log.critical("the scheduler stopped: no scheduled job runs on this replica", exc_info=True)
            raise

    async def _plan(self) -> None:
        for job in self._jobs:
            self._cursors[job.name] = await self._start_cursor(job)
        while self._jobs:
            now = self._clock()
            for job in self._jobs:
                self._advance(job, now)
            due = min(job.schedule.next_after(self._cursors[job.name]) for job in self._jobs)
            delay = (due - self._clock()).total_seconds()
            await self._sleep(min(max(delay, 0.0), MAX_SLEEP_S))

    async def _start_cursor(self, job: ScheduledJob) -> dt.datetime:
        """Where the job's slots start: after the latest claimed by any replica (the ones after it that
        are past were missed), or from now for a job never run."""
        try:
            last = await self._leases.last_slot(job.name)
        except StateUnavailable:
            log.warning(
                "cannot read a job's last slot; slots missed before now are not looked for",
                extra={"job": job.name},
                exc_info=True,
            )
            last = None
        return self._clock() if last is None else last

    def _advance(self, job: ScheduledJob, now: dt.datetime) -> None:
        """Deal with the job's slots since its cursor up to `now`: run the one due now, and the missed
        ones by the job's policy."""
        cursor = self._cursors[job.name]
        first = job.schedule.next_after(cursor)
        if first > now:
            return
        latest = job.schedule.latest_at_or_before(now)
        self._cursors[job.name] = latest
        due = latest if (now - latest).total_seconds() <= LATE_S else None
        if due is None or first < due:
            last_missed = latest if due is None else job.schedule.latest_at_or_before(due - _SECOND)
            slots = job.schedule.slots_between(cursor, last_missed)
            missed = sum(1 for _ in itertools.islice(slots, MISSED_COUNTED))
            if job.missed == "catch_up" and due is None:
                self._dispatch(job, last_missed)
                missed -= 1
            if missed:
                since, until = cursor.isoformat(), last_missed.isoformat()
                log.warning(
                    "scheduled slots missed, not run",
                    extra={"job": job.name, "missed": missed, "since": since, "until": until},
                )
                self._count(job, "skipped_missed", missed)
        if due is not None:
            self._dispatch(job, due)

    def _dispatch(self, job: ScheduledJob, slot: dt.datetime) -> None:
        previous = self._runs.get(job.name)
        if previous is not None and not previous.done():
            log.warning(
                "scheduled slot skipped: the job's previous run still goes",
                extra={"job": job.name, "slot": slot.isoformat()},
            )
            self._count(job, "overlapped")
            return
        self._runs[job.name] = asyncio.create_task(self._run_slot(job, slot), name=f"aegis-job-{job.name}")

    async def _run_slot(self, job: ScheduledJob, slot: dt.datetime) -> None:
        if job.jitter_s > 0:
            await self._sleep(self._uniform(0.0, job.jitter_s))
        where = {"job": job.name, "slot": slot.isoformat()}
        try:
            claimed = await self._leases.claim(job.name, slot, holder=self._holder)
        except StateUnavailable:
            log.error("scheduled slot not run: its lease cannot be claimed", extra=where, exc_info=True)
            self._count(job, "error")
            return
        if not claimed:
            log.info("scheduled slot run by another replica", extra=where)
            self._count(job, "lost_lease")
            return
        timeout = asyncio.timeout(job.timeout_s)
        try:
            async with timeout:
                await self._run(job.name, slot)
        except TimeoutError:
            if not timeout.expired():
                log.exception("scheduled job failed", extra=where)
                self._count(job, "error")
                return
            log.error(
                "scheduled job timed out; the slot is not run again",
                extra={**where, "timeout_s": job.timeout_s},
            )
            self._count(job, "timeout")
        except Exception:  # a job's failure is its own: the scheduler goes on
            log.exception("scheduled job failed", extra=where)
            self._count(job, "error")
        else:
            log.info("scheduled job ran", extra=where)
            self._count(job, "run")

    def _count(self, job: ScheduledJob, outcome: Outcome, slots: int = 1) -> None:
        if self._metrics is not None:
            self._metrics.automation_slots.labels(job=job.name, outcome=outcome).inc(slots)
