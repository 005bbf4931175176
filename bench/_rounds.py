"""Alternated rounds: each round measures every target at every concurrency, in an order that reverses
from one round to the next, so that the machine's drift during a run falls on all of them alike. Servers
and the load generator run on separate cores where the machine has them."""

from __future__ import annotations

import dataclasses
import os
import statistics
from collections.abc import Callable, Mapping, Sequence

from bench._load import LoadResult, Target, measure

Results = dict[tuple[str, int], list[LoadResult]]


@dataclasses.dataclass(frozen=True)
class Cores:
    """Where the servers (each with its OPA) and the load generator (wrk, and the upstream) run."""

    servers: set[int]
    load: set[int]


def core_plan(*, pin: bool) -> Cores | None:
    """One core for the server under load, the others for wrk and the upstream; None when not pinning
    or when this process may use only one core."""
    available = sorted(os.sched_getaffinity(0))
    if not pin or len(available) < 2:
        return None
    return Cores(servers={available[0]}, load=set(available[1:]))


def alternated(
    targets: Mapping[str, Target],
    *,
    concurrency: Sequence[int],
    rounds: int,
    warmup_s: float,
    duration_s: float,
    cores: Cores | None,
    wanted: Callable[[str, int], bool] = lambda _name, _concurrency: True,
) -> Results:
    """Every wanted (target, concurrency) once per round, the targets' order reversed every other round."""
    results: Results = {(name, c): [] for c in concurrency for name in targets if wanted(name, c)}
    names = list(targets)
    for number in range(rounds):
        order = names if number % 2 == 0 else names[::-1]
        for c in concurrency:
            for name in order:
                if wanted(name, c):
                    results[name, c].append(
                        measure(
                            targets[name],
                            concurrency=c,
                            warmup_s=warmup_s,
                            duration_s=duration_s,
                            cores=cores.load if cores else None,
                            round_index=number,
                        )
                    )
    return results


def median_load(loads: Sequence[LoadResult]) -> LoadResult:
    """The field-wise median of one target's rounds (errors summed)."""

    def middle(field: str) -> float:
        return round(float(statistics.median(getattr(load, field) for load in loads)), 3)

    cpu = [load.cpu_ms_per_call for load in loads if load.cpu_ms_per_call is not None]
    return dataclasses.replace(
        loads[0],
        requests=sum(load.requests for load in loads),
        seconds=round(sum(load.seconds for load in loads), 3),
        rps=middle("rps"),
        p50_ms=middle("p50_ms"),
        p90_ms=middle("p90_ms"),
        p99_ms=middle("p99_ms"),
        mean_ms=middle("mean_ms"),
        errors=sum(load.errors for load in loads),
        cpu_ms_per_call=round(statistics.median(cpu), 3) if cpu else None,
        round=-1,
    )


def per_round(
    first: Sequence[LoadResult],
    second: Sequence[LoadResult],
    combine: Callable[[LoadResult, LoadResult], float],
) -> dict[str, float]:
    """`combine` of the two targets' results of the same round: its median, and its spread over rounds."""
    values = [combine(a, b) for a, b in zip(first, second, strict=True)]
    return {
        "median": round(statistics.median(values), 3),
        "min": round(min(values), 3),
        "max": round(max(values), 3),
    }
