"""What compliance reviewers run beside `aegis audit query` (gateway.cli_query): one entry shown with the
YAML lines behind its decision, recorded decisions replayed, and the policies a gateway served, read
from its state database (the one AEGIS_STATE_DB or AEGIS_STATE_URL names, as the gateway does)."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from gateway.audit import ChainIndex, read_entry, walk_segments
from gateway.authoring.replay import Replayed, replay, replay_under, replayable
from gateway.config import Settings, default_opa_bin
from gateway.errors import ConfigError
from gateway.parts import state_database
from gateway.state import ArchivedPolicy, Database, PolicyArchive

EXIT_OK, EXIT_FAILED = 0, 1
T = TypeVar("T")


def policy_show(args: argparse.Namespace) -> int:
    """The YAML a revision was compiled from (or, with --bundle, its bundle written to a file)."""
    found = _with_archive(lambda archive: archive.get(args.revision))
    if found is None:
        print(
            f"no archived policy {args.revision!r} (give 8 or more hex digits of a revision the gateway"
            " served; `aegis policy revisions` lists them)",
            file=sys.stderr,
        )
        return EXIT_FAILED
    if args.bundle is not None:
        args.bundle.write_bytes(found.bundle)
        print(f"{args.bundle}: the bundle of revision {found.revision}")
        return EXIT_OK
    print(f"# revision {found.revision}, loaded from {found.file}, {_loaded(found)}")
    if found.source is None:
        print("# served from a pre-built bundle: no YAML was archived; --bundle FILE writes the bundle")
        return EXIT_OK
    sys.stdout.write(found.source.decode("utf-8", "replace"))
    return EXIT_OK


def policy_revisions(args: argparse.Namespace) -> int:
    for policy in _with_archive(lambda archive: archive.list()):
        print(f"{policy.revision}  {_loaded(policy)}  {policy.file}")
    return EXIT_OK


def _loaded(policy: ArchivedPolicy) -> str:
    return f"first served {_iso(policy.first_loaded)}, last loaded {_iso(policy.last_loaded)}"


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))


def _with_archive(query: Callable[[PolicyArchive], Awaitable[T]]) -> T:
    settings = Settings.from_env(os.environ)
    if not settings.state_url and not settings.state_db.exists():
        raise ConfigError(f"no state database at {settings.state_db}: set AEGIS_STATE_DB or AEGIS_STATE_URL")

    async def run(db: Database) -> T:
        try:
            await db.connect()
            return await query(PolicyArchive(db))
        finally:
            await db.aclose()

    return asyncio.run(run(state_database(settings)))


def audit_show(args: argparse.Namespace) -> int:
    """One entry, read from the log and checked against its neighbours, with the YAML lines its reasons
    name quoted from the policy archive."""
    with ChainIndex.open(args.file) as index:
        index.refresh()
        located = index.located(args.seq)
    if located is None:
        print(f"{args.file}: no entry {args.seq}", file=sys.stderr)
        return EXIT_FAILED
    shown = read_entry(*located, seq=args.seq)
    print(json.dumps(shown.entry, indent=2, ensure_ascii=False))
    print(f"chain: {shown.status}")
    revision = shown.entry.get("bundle_revision")
    policy = _archived_policy(revision) if isinstance(revision, str) else None
    for reason in shown.entry.get("reasons") or []:
        print(f"{reason.get('effect')}: {reason.get('rule')} ({reason.get('source')})")
        line = policy.line(reason.get("source")) if policy is not None else None
        if line is not None:
            print(f"    {line[1].strip()}")
    if isinstance(revision, str) and policy is None:
        print(f"policy {revision[:12]}: not in the archive (AEGIS_STATE_DB / AEGIS_STATE_URL)")
    return EXIT_OK


def _archived_policy(revision: str) -> ArchivedPolicy | None:
    try:
        return _with_archive(lambda archive: archive.get(revision))
    except ConfigError:
        return None


def audit_replay(args: argparse.Namespace) -> int:
    """Decide recorded calls again under their archived bundles (exit 1 unless every one gives its
    recorded decision), and under a candidate policy when one is given (what would change)."""
    entries, skipped = _replayable_entries(args.file, args.seqs)
    opa_bin = default_opa_bin(os.environ)
    by_revision: dict[str, list[dict[str, Any]]] = {}
    for entry in entries:
        by_revision.setdefault(entry["bundle_revision"], []).append(entry)
    results: list[Replayed] = []
    missing = []
    for revision, group in by_revision.items():
        archived = _archived_policy(revision)
        if archived is None:
            missing.append(revision)
            continue
        with tempfile.NamedTemporaryFile(suffix=".tar.gz") as bundle:
            Path(bundle.name).write_bytes(archived.bundle)
            results.extend(replay(group, Path(bundle.name), opa_bin=opa_bin))
    differing = [result for result in results if not result.reproduced]
    for result in differing:
        print(
            f"seq {result.seq}: DIFFERS: recorded {result.recorded.describe()};"
            f" replayed {result.replayed.describe()}"
        )
    for revision in missing:
        print(
            f"policy {revision[:12]}: not in the archive,"
            f" {len(by_revision[revision])} decision(s) not replayed"
        )
    print(
        f"{len(results)} decision(s) replayed under their archived policies: {len(results) - len(differing)}"
        f" reproduced, {len(differing)} differ; {sum(skipped.values())} entries skipped"
        + "".join(f"; {count} {why}" for why, count in sorted(skipped.items()))
    )
    if args.policy is not None:
        _show_changes(entries, replay_under(entries, args.policy, opa_bin=opa_bin), args.policy)
    return EXIT_FAILED if differing or missing else EXIT_OK


def _show_changes(entries: list[dict[str, Any]], results: list[Replayed], policy: Path) -> None:
    by_seq = {entry["seq"]: entry for entry in entries}
    changed = [result for result in results if result.recorded.allow != result.replayed.allow]
    print(f"under {policy}: {len(changed)} of {len(results)} decision(s) would change")
    for result in changed:
        entry = by_seq[result.seq]
        what = " ".join(str(entry.get(field) or "-") for field in ("principal", "tool", "repo", "path"))
        print(f"  seq {result.seq} {what}: {result.recorded.describe()} -> {result.replayed.describe()}")


def _replayable_entries(log: Path, seqs: list[int]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The entries to replay (`seqs`, read through the index; else the whole chain, verified as it is
    read) and how many were left out, by why."""
    if seqs:
        with ChainIndex.open(log) as index:
            index.refresh()
            located = [(seq, index.located(seq)) for seq in seqs]
        unknown = [seq for seq, where in located if where is None]
        if unknown:
            raise ConfigError(f"{log}: no entries {', '.join(map(str, unknown))}")
        candidates = [read_entry(*where, seq=seq).entry for seq, where in located if where is not None]
    else:
        candidates = list(walk_segments(log))
    entries: list[dict[str, Any]] = []
    skipped: dict[str, int] = {}
    for entry in candidates:
        why = replayable(entry)
        if why is None:
            entries.append(entry)
        elif seqs or entry.get("event") == "tool_call":
            skipped[why] = skipped.get(why, 0) + 1
    return entries, skipped
