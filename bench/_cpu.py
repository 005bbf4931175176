"""Where the CPU went while a load ran: cores used by named groups of processes, by this process's
waited-for children (wrk), and by the whole machine, every tenant's processes included (Linux /proc)."""

from __future__ import annotations

import dataclasses
import os
import resource
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
WRK = "wrk"
MACHINE = "machine"
OTHERS = "other processes"


@dataclasses.dataclass(frozen=True)
class CpuSample:
    wall_s: float
    machine_s: float  # busy CPU seconds of every core since boot
    children_s: float  # CPU seconds of this process's waited-for children
    groups_s: dict[str, float]


def sample(groups: Mapping[str, Sequence[int]]) -> CpuSample:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return CpuSample(
        wall_s=time.monotonic(),
        machine_s=_machine_busy_s(),
        children_s=children.ru_utime + children.ru_stime,
        groups_s={name: sum(_process_s(pid) for pid in pids) for name, pids in groups.items()},
    )


def cores_used(before: CpuSample, after: CpuSample) -> dict[str, float]:
    """Cores busy on average between two samples: per group, wrk, the machine, and the rest of it (other
    processes: this benchmark's idle ones, and whatever else runs on the machine)."""
    wall = after.wall_s - before.wall_s
    used = {name: (after.groups_s[name] - before.groups_s[name]) / wall for name in after.groups_s}
    used[WRK] = (after.children_s - before.children_s) / wall
    machine = (after.machine_s - before.machine_s) / wall
    used[OTHERS] = max(0.0, machine - sum(used.values()))
    used[MACHINE] = machine
    return {name: round(value, 3) for name, value in used.items()}


def tree_cpu_s(pids: Sequence[int]) -> float:
    """CPU seconds of live processes and of all their live descendants (a gateway and its OPA)."""
    return sum(_process_s(pid) for pid in _with_descendants(pids))


def _with_descendants(pids: Sequence[int]) -> set[int]:
    found: set[int] = set()
    todo = list(pids)
    while todo:
        pid = todo.pop()
        if pid in found:
            continue
        found.add(pid)
        for children in Path(f"/proc/{pid}/task").glob("*/children"):
            try:
                todo.extend(int(child) for child in children.read_text().split())
            except FileNotFoundError:
                continue
    return found


def _process_s(pid: int) -> float:
    """utime + stime of a live process (0 once it has gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S


def _machine_busy_s() -> float:
    """All cores' busy time: user, nice, system, irq and softirq of /proc/stat's cpu line (guest time
    is already in user; idle, iowait and the hypervisor's steal are not work done here)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq = values[:7]
    return (user + nice + system + irq + softirq) / TICKS_PER_S
