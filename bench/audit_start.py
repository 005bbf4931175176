"""Gateway start-up time against audit log length, with and without signed checkpoints.

    python -m bench.audit_start [--entries 10000 1000000] [--out bench/results/audit_start.json]

For each length, a log of that many tool-call entries is written once (signed every 1,000 entries),
then `aegis serve` is started on it twice, each time until /readyz answers 200: once with the signing
key (start-up verifies from the last checkpoint) and once without (the whole chain is verified). The
time to ready includes OPA's start, which does not depend on the log: compare within a row.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench._micro import AUDIT_ENTRY
from bench._processes import free_port, running
from bench.run import gateway_environment
from gateway.audit import AuditLog, Checkpointing, CheckpointSigner, generate_signing_key
from gateway.demo import spawn_simulator
from gateway.edge.keys import create_key

HERE = Path(__file__).parent


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.audit_start", description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, nargs="+", default=[10_000, 1_000_000])
    parser.add_argument("--out", type=Path, default=HERE / "results" / "audit_start.json")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="aegis-bench-start-") as scratch:
        rows = measure(Path(scratch), args.entries)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"{'entries':>10} {'log MiB':>8} {'ready, checkpoints (s)':>23} {'ready, full verify (s)':>23}")
    for row in rows:
        print(
            f"{row['entries']:>10} {row['log_mib']:>8.1f} {row['ready_s_checkpoints']:>23.2f}"
            f" {row['ready_s_full_verify']:>23.2f}"
        )
    return 0


def measure(scratch: Path, lengths: Sequence[int]) -> list[dict[str, float]]:
    signing_key = scratch / "signing.pem"
    generate_signing_key(signing_key)
    process, upstream = spawn_simulator(scratch / "gitea", scratch / "gitea.token")
    try:
        token = (scratch / "gitea.token").read_text().strip()
        rows = []
        for entries in lengths:
            home = scratch / f"log-{entries}"
            home.mkdir()
            write_log(home / "audit.jsonl", entries, signing_key)
            rows.append(
                {
                    "entries": entries,
                    "log_mib": (home / "audit.jsonl").stat().st_size / (1 << 20),
                    "ready_s_checkpoints": time_to_ready(home, upstream, token, signing_key),
                    "ready_s_full_verify": time_to_ready(home, upstream, token, None),
                }
            )
        return rows
    finally:
        process.terminate()
        process.wait()


def write_log(path: Path, entries: int, signing_key: Path) -> None:
    plan = Checkpointing(
        signer=CheckpointSigner.load(signing_key),
        sink=path.with_name(path.name + ".checkpoints"),
        every_entries=1000,
        every_s=3600,
    )
    log = AuditLog.open(path, fsync=False, checkpointing=plan)
    for _ in range(entries):
        log.write(AUDIT_ENTRY)
    log.close()


def time_to_ready(home: Path, upstream: str, token: str, signing_key: Path | None) -> float:
    keys_file = home / "keys.json"
    if not keys_file.exists():
        create_key(keys_file, name="bench")
    port = free_port()
    env = gateway_environment(upstream=upstream, token=token, keys_file=keys_file, home=home, port=port)
    if signing_key is not None:
        env["AEGIS_AUDIT_SIGNING_KEY"] = str(signing_key)
    started = time.perf_counter()
    with running(
        ["-m", "gateway.cli", "serve"],
        ready_url=f"http://127.0.0.1:{port}/readyz",
        log=home / "serve.log",
        env=env,
    ):
        return time.perf_counter() - started


if __name__ == "__main__":
    raise SystemExit(main())
