"""The cost of sanitizing one file read's result, in process.

    python -m bench.sanitize [--repeat 15] [--out bench/results/sanitize.json]

Each corpus is wrapped as get_file_contents returns a text file (its metadata as the structured result,
the text as the result's text) and passed to `sanitize_output`, as the core does with every result: the
2 KB fixture that bench/run.py reads, 1 MiB of ordinary source code (the gateway's own modules) and the
same MiB with 50 fake secrets spread over it. Reported: the median over the repetitions, in CPU ms per
call (this process's CPU time, which other work on a shared machine disturbs less than the wall clock)
and MiB of text per CPU second.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gitea_simulator._demo import FIXTURE_2K

from gateway.sanitize import sanitize_output
from gateway.tools.read import TEXT_NOTE

HERE = Path(__file__).parent
MIB = 1 << 20
SOURCES = ("gateway", "policy-compiler", "gitea-simulator")
# Fake secrets in the shapes of real ones, split so that no scanner mistakes this file for a leak.
_SECRETS = (
    "token = ghp_" + "R8kq2Lm9Xz" * 3 + "T4vB7n",
    "GITLAB = 'glpat-" + "Xy7Zq2Wv9Rt5Lm8Np3Kd'",
    "aws_access_key_id = AKIA" + "Z7Q4W2X9R5T8Y3U6",
    "slack = 'xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOp'",
    "url = 'https://deploy:Tr0ub4" + "dor&3@gitea.example.com/acme/app.git'",
    "headers = {'Authorization': 'Bearer " + "3f9a1c7e5bd2804a6c9e1b3d5f7a9c0e2d4b6a81'}",
    "DB_PASSWORD = 's3cr3t" + "!Xq9k2'",
    "jwt = 'eyJhbGciOiJIUzI1NiJ9." + "eyJzdWIiOiJjaS1ib3QifQ.c2lnbmF0dXJlLWJ5dGVz'",
    "-----BEGIN RSA PRIVATE" + " KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7\n"
    "o4qne60TB3wolGJ8dIs0N1aYxk0Yw2Gm9RmcJ1Vb7xZLmVIeRn8\n-----END RSA PRIVATE" + " KEY-----",
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.sanitize", description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--out", type=Path, default=HERE / "results" / "sanitize.json")
    parser.add_argument(
        "--code", type=Path, default=HERE.parent, help="a checkout whose modules are the source code corpus"
    )
    args = parser.parse_args(argv)
    rows = {name: sanitize_cost(text, repeat=args.repeat) for name, text in corpora(args.code).items()}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"{'corpus':<20} {'chars':>9} {'findings':>8} {'CPU ms/call':>11} {'MiB/s':>8}")
    for name, row in rows.items():
        print(
            f"{name:<20} {row['chars']:>9} {row['findings']:>8} {row['cpu_ms_per_call']:>11.3f}"
            f" {row['mib_per_s']:>8.1f}"
        )
    return 0


def corpora(root: Path) -> dict[str, str]:
    """The texts to sanitize; the source code is the first MiB of the Python modules under `root`."""
    files = sorted(path for source in SOURCES for path in (root / source).rglob("*.py"))
    code = b"".join(path.read_bytes() for path in files)[:MIB].decode("utf-8", "ignore")
    return {
        "fixture 2 KB": FIXTURE_2K.decode("ascii"),
        "source code 1 MiB": code,
        "1 MiB, 50 secrets": plant_secrets(code, count=50),
    }


def plant_secrets(text: str, *, count: int) -> str:
    """`text` with `count` fake secrets, each kind in turn, on lines of their own after evenly spaced line
    breaks."""
    parts, position = [], 0
    for index in range(count):
        cut = text.find("\n", (index + 1) * len(text) // (count + 1))
        parts += [text[position:cut], "\n", _SECRETS[index % len(_SECRETS)]]
        position = cut
    parts.append(text[position:])
    return "".join(parts)


def file_result(text: str) -> tuple[dict[str, Any], str]:
    """What get_file_contents returns for a text file: its structured result and its text."""
    meta = {"path": "src/file.txt", "sha": "0" * 40, "size": len(text.encode()), "type": "file", "ref": None}
    return {**meta, "encoding": "utf-8", "charset": "utf-8", "note": TEXT_NOTE}, text


def sanitize_cost(text: str, *, repeat: int) -> dict[str, Any]:
    """Median CPU time of `sanitize_output` over a file read's result holding `text`; each repetition
    times enough calls to take about 20 ms, so that a small result is not lost in the timer's noise."""
    structured, rendering = file_result(text)
    started = time.process_time()
    findings = len(sanitize_output(structured, rendering, mode="mask").findings)  # also warms up
    calls = max(1, round(0.02 / max(time.process_time() - started, 1e-6)))
    times = []
    for _ in range(repeat):
        started = time.process_time()
        for _ in range(calls):
            sanitize_output(structured, rendering, mode="mask")
        times.append((time.process_time() - started) / calls)
    median = statistics.median(times)
    return {
        "chars": len(text),
        "findings": findings,
        "repeat": repeat,
        "calls_per_repeat": calls,
        "cpu_ms_per_call": round(median * 1000, 3),
        "mib_per_s": round(len(text.encode()) / MIB / median, 1),
    }


if __name__ == "__main__":
    raise SystemExit(main())
