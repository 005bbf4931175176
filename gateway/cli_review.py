"""What compliance reviewers run: the policies a gateway served, read from its state database (the one
AEGIS_STATE_DB or AEGIS_STATE_URL names, as the gateway does)."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from gateway.config import Settings
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
