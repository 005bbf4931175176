"""The benchmark's outputs: a table on stdout, a JSON file, and a PNG of latency percentiles."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

from bench._load import LoadResult

SCENARIO_NAMES = {
    "A": "A: upstream direct",
    "B": "B: unsecured MCP SDK server",
    "C": "C: Aegis (auth, schema, OPA, audit, metrics)",
}


def table(loads: list[LoadResult], headline: dict[str, Any]) -> str:
    """One row per scenario and concurrency (the medians of its rounds), then the headline figures."""
    lines = [
        f"{'scenario':<46} {'conc':>4} {'req/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
        f"{'CPU ms/call':>11} {'errors':>6}"
    ]
    for load in loads:
        cpu = f"{load.cpu_ms_per_call:.3f}" if load.cpu_ms_per_call is not None else "-"
        lines.append(
            f"{SCENARIO_NAMES[load.scenario]:<46} {load.concurrency:>4} {load.rps:>9.1f} {load.p50_ms:>8.2f} "
            f"{load.p90_ms:>8.2f} {load.p99_ms:>8.2f} {cpu:>11} {load.errors:>6}"
        )
    lines.append("")
    lines.extend(f"{key}: {value}" for key, value in headline.items())
    return "\n".join(lines)


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, default=_plain) + "\n", encoding="utf-8")


def plot(path: Path, loads: list[LoadResult]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    concurrencies = sorted({load.concurrency for load in loads})
    scenarios = [s for s in SCENARIO_NAMES if any(load.scenario == s for load in loads)]
    figure, axes = plt.subplots(1, len(concurrencies), figsize=(4.2 * len(concurrencies), 4.2), squeeze=False)
    for axis, concurrency in zip(axes[0], concurrencies, strict=True):
        rows = {load.scenario: load for load in loads if load.concurrency == concurrency}
        names = [s for s in scenarios if s in rows]
        positions = range(len(names))
        for offset, (field, label) in enumerate((("p50_ms", "p50"), ("p90_ms", "p90"), ("p99_ms", "p99"))):
            values = [getattr(rows[name], field) for name in names]
            axis.bar([p + (offset - 1) * 0.27 for p in positions], values, width=0.27, label=label)
        axis.set_xticks(list(positions), names)
        axis.set_yscale("log")
        axis.set_title(f"concurrency {concurrency}")
        axis.set_ylabel("latency (ms, log scale)")
        axis.grid(axis="y", which="both", alpha=0.3)
    axes[0][0].legend()
    figure.suptitle(
        "Latency percentiles per scenario (A: upstream direct, B: unsecured SDK server, C: Aegis)"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")
