"""Group the samples of a py-spy raw profile of the gateway by what they were doing.

    python -m bench.profile_groups profile.txt

`py-spy record --format raw` writes one line per distinct stack, its frames joined by ';' and its sample
count last. A sample counts for the first group one of whose markers names a frame of its stack
(for the HTTP server, one of its three innermost frames: the server is on every stack); the rest is
"other". Worker threads' samples (mostly waiting) are left out.
"""

from __future__ import annotations

import argparse
import collections
from collections.abc import Iterable, Sequence
from pathlib import Path

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sanitizing", ("gateway/sanitize/", "present (gateway/core/results.py")),
    ("the OPA round trip (client side)", ("DecisionClient", "gateway/opa/_wire.py", "Delegating.decide")),
    ("the upstream requests (aiohttp)", ("GiteaClient", "gateway/outbound.py", "aiohttp/")),
    ("the audit entry (encode, hash, write, fsync hand-off)", ("gateway/audit/", "concurrent/futures")),
    ("logging", ("logging/__init__.py", "gateway/observability/logs.py")),
    ("JSON-RPC and schema validation", ("jsonschema/", "BoundTool.validate", "gateway/mcp/_jsonrpc.py")),
    ("the HTTP server", ("uvicorn/protocols", "httptools")),
    ("metrics", ("prometheus_client",)),
)
OTHER = "other: the edge's middlewares, Starlette, asyncio, the core's own work"
INNERMOST = 3


def grouped(lines: Iterable[str]) -> dict[str, float]:
    """Each group's share of the event loop thread's samples, largest first."""
    counts: collections.Counter[str] = collections.Counter()
    for line in lines:
        stack, _, count = line.rstrip("\n").rpartition(" ")
        frames = stack.split(";")
        if not stack or "Thread._bootstrap" in frames[0]:
            continue
        counts[_group_of(frames)] += int(count)
    total = sum(counts.values()) or 1
    return {name: round(100 * count / total, 1) for name, count in counts.most_common()}


def _group_of(frames: Sequence[str]) -> str:
    for name, markers in GROUPS:
        looked = frames[-INNERMOST:] if name == "the HTTP server" else frames
        if any(marker in frame for frame in looked for marker in markers):
            return name
    return OTHER


def main(argv: Sequence[str] | None = None) -> int:
    summary = __doc__.splitlines()[0]
    parser = argparse.ArgumentParser(prog="python -m bench.profile_groups", description=summary)
    parser.add_argument("profile", type=Path, help="py-spy record --format raw output")
    args = parser.parse_args(argv)
    with args.profile.open(encoding="utf-8") as lines:
        for name, share in grouped(lines).items():
            print(f"{share:5.1f}%  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
