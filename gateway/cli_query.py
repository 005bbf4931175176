"""`aegis audit query`: the entries of one or more chains that match, through the index beside each
log. Kept apart from the other review commands, which need the policy archive and OPA, so that a
query starts with no more than the audit package."""

from __future__ import annotations

import argparse
import csv
import heapq
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from gateway.audit import ChainIndex, Filters, time_bound

EXIT_OK = 0

QUERY_COLUMNS = (
    "ts",
    "replica",
    "seq",
    "principal",
    "credential_id",
    "tool",
    "repo",
    "path",
    "outcome",
    "revision",
)


def audit_query(args: argparse.Namespace) -> int:
    """The entries of one or more chains that match, ordered by time, as a table, JSON lines or CSV."""
    filters = Filters(
        principal=args.principal,
        credential_id=args.credential_id,
        tool=args.tool,
        repo=args.repo.lower() if args.repo else None,
        path=args.path,
        outcome=args.outcome,
        rule=args.rule,
        revision=args.revision,
        event=args.event,
        since=time_bound(args.since),
        until=time_bound(args.until),
    )
    rows = list(_matching(args.files, filters, limit=args.limit))
    if args.format == "json":
        for row in rows:
            print(json.dumps(row, ensure_ascii=False))
    elif args.format == "csv":
        writer = csv.writer(sys.stdout)
        writer.writerow([*QUERY_COLUMNS, "reasons"])
        for row in rows:
            writer.writerow([*(row[column] for column in QUERY_COLUMNS), _reasons(row)])
    else:
        for row in rows:
            cells = [row["ts"], row["replica"] or "-", str(row["seq"]), row["principal"] or "-"]
            cells += [row["tool"] or row["event"], row["repo"] or "-", row["path"] or "-", row["outcome"]]
            cells += [(row["revision"] or "-")[:12], _reasons(row)]
            print("  ".join(cells))
    return EXIT_OK


def _matching(files: list[Path], filters: Filters, *, limit: int | None) -> Iterator[dict[str, Any]]:
    chains = []
    for path in files:
        with ChainIndex.open(path) as index:
            index.refresh()
            chains.append(index.query(filters, limit=limit))
    merged = heapq.merge(*chains, key=lambda row: (row["ts"], row["replica"] or "", row["seq"]))
    for count, row in enumerate(merged):
        if limit is not None and count >= limit:
            return
        yield row


def _reasons(row: dict[str, Any]) -> str:
    return " ".join(f"{reason.get('rule')}@{reason.get('source')}" for reason in row["reasons"])
