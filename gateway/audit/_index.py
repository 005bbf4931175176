"""An index of one chain for review: a SQLite file beside the log, filled from the chain as it is
verified, so that a query over a million entries answers in well under a second.

The chain stays the source of truth. Only entries whose hashes link up are indexed, the index
remembers the head it reached (seq, entry hash, and where that entry ends in its file) and resumes
from there after checking that the line there still carries that hash; anything else (the file
replaced, the chain cut) rebuilds it from the start. An entry is shown from the log itself, not from
the index (`read_entry`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import json
import re
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from gateway.audit._chain import REPLICA, canonical_json, entry_hash
from gateway.audit._segments import Segment, closed_segments, first_entry, parse_entry, start_point
from gateway.audit._verify import ChainHead, ChainPoint, walk_lines
from gateway.errors import AuditChainError, ConfigError

INDEX_SUFFIX = ".index.sqlite"
_SCHEMA = 4
_INSERT = (
    "INSERT INTO entries (seq, ts, event, replica, principal, credential_id, tool, repo, path, outcome,"
    ' revision, reasons, decision_id, request_id, "offset")'
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_BATCH = 5000
_RELATIVE = re.compile(r"(\d+)([mhd])")


@dataclasses.dataclass(frozen=True)
class Filters:
    """What a review asks for; None: anything. `path` is a glob (`*` and `**` match across `/`), `since`
    and `until` are timestamps as the entries write them (`until` exclusive), `revision` a prefix."""

    principal: str | None = None
    credential_id: str | None = None
    tool: str | None = None
    repo: str | None = None
    path: str | None = None
    outcome: str | None = None
    rule: str | None = None
    revision: str | None = None
    event: str | None = None
    since: str | None = None
    until: str | None = None


def time_bound(text: str | None) -> str | None:
    """A time bound as entries write theirs: RFC 3339 (a date alone is its midnight, UTC), or a span
    before now such as 30m, 24h, 7d."""
    if text is None:
        return None
    relative = _RELATIVE.fullmatch(text)
    if relative:
        unit = {"m": "minutes", "h": "hours", "d": "days"}[relative.group(2)]
        moment = datetime.datetime.now(datetime.UTC) - datetime.timedelta(**{unit: int(relative.group(1))})
    else:
        try:
            moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(
                f"{text!r} is not a time: use RFC 3339 (2026-12-02, 2026-12-02T10:00:00Z) or 24h"
            ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.UTC)
    return (
        moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def index_path(active: Path) -> Path:
    return active.with_name(active.name + INDEX_SUFFIX)


class ChainIndex:
    """Example:
    with ChainIndex.open(Path("var/audit.jsonl")) as index:
        index.refresh()
        rows = index.query(Filters(repo="acme/app", path="src/**"), limit=100)
    """

    def __init__(self, active: Path, connection: sqlite3.Connection) -> None:
        self._active = active
        self._db = connection

    @classmethod
    @contextlib.contextmanager
    def open(cls, active: Path, index: Path | None = None) -> Iterator[ChainIndex]:
        connection = sqlite3.connect(index or index_path(active))
        connection.row_factory = sqlite3.Row
        try:
            yield cls(active, connection)
        finally:
            connection.close()

    def refresh(self) -> int:
        """Index the entries written since the last refresh (all of them the first time, or when the
        chain is not the one indexed); returns how many were added. Raises AuditChainError where the
        chain breaks: what came before the break is indexed, nothing after it is."""
        self._ensure_schema()
        added = 0
        batch: list[tuple[dict[str, Any], int]] = []
        try:
            for entry, offset in self._walk_from(self._head()):
                batch.append((entry, offset))
                if len(batch) >= _BATCH:
                    added += self._store(batch)
                    batch = []
        finally:
            added += self._store(batch)
        return added

    def query(self, filters: Filters, *, limit: int | None = None, offset: int = 0) -> list[dict[str, Any]]:
        """The indexed entries that match, in chain order (from the `offset`th on), each with its reasons
        decoded."""
        where, params = _where(filters)
        sql = "SELECT * FROM entries" + where + " ORDER BY seq LIMIT ? OFFSET ?"  # noqa: S608 - fixed fragments, bound values
        cursor = self._db.execute(sql, (*params, -1 if limit is None else limit, offset))
        return [{**dict(row), "reasons": json.loads(row["reasons"])} for row in cursor]

    def count(self, filters: Filters) -> int:
        where, params = _where(filters)
        return int(self._db.execute("SELECT count(*) FROM entries" + where, params).fetchone()[0])  # noqa: S608 - fixed fragments, bound values

    def per_day(self, filters: Filters) -> list[tuple[str, str, int]]:
        """How many matching entries each day (UTC, from the timestamps) had of each outcome, by day
        (unfiltered, read from the index on these very expressions alone)."""
        where, params = _where(filters)
        select = "SELECT substr(ts, 1, 10) AS day, coalesce(outcome, event) AS kind, count(*) AS n"
        sql = f"{select} FROM entries{where} GROUP BY day, kind ORDER BY day, kind"
        return [(row["day"], row["kind"], row["n"]) for row in self._db.execute(sql, params)]

    def top_rules(self, filters: Filters, *, outcome: str, limit: int) -> list[tuple[str, int]]:
        """The rules most named by the matching entries of `outcome`, the most named first."""
        if filters.outcome not in (None, outcome):
            return []
        where, params = _where(dataclasses.replace(filters, outcome=outcome))
        sql = "SELECT rule, count(*) AS n FROM entry_rules WHERE seq IN (SELECT seq FROM entries"
        sql += where + ") GROUP BY rule ORDER BY n DESC, rule LIMIT ?"
        return [(row["rule"], row["n"]) for row in self._db.execute(sql, (*params, limit))]

    def next_checkpoint(self, seq: int) -> tuple[int, str] | None:
        """The seq and time of the first checkpoint entry after entry `seq`: the signature that vouches
        for it; None while none has been written."""
        row = self._db.execute(
            "SELECT seq, ts FROM entries WHERE seq > ? AND event = 'checkpoint' ORDER BY seq LIMIT 1", (seq,)
        ).fetchone()
        return (row["seq"], row["ts"]) if row else None

    def located(self, seq: int) -> tuple[Path, int] | None:
        """The file and byte offset of entry `seq`, or None when it is not indexed."""
        row = self._db.execute('SELECT "offset" FROM entries WHERE seq = ?', (seq,)).fetchone()
        if row is None:
            return None
        for segment in closed_segments(self._active):
            if segment.first_seq <= seq <= segment.last_seq:
                return segment.path, row["offset"]
        return self._active, row["offset"]

    def _walk_from(self, head: tuple[int, str, int] | None) -> Iterator[tuple[dict[str, Any], int]]:
        """Each entry after the indexed head, with the byte offset of its line in its file."""
        segments: list[Segment | None] = [*closed_segments(self._active), None]  # None: the active file
        files = [self._active if segment is None else segment.path for segment in segments]
        resume = _resume_point(files, segments, head)
        if resume is None:
            self._db.execute("DELETE FROM entries")
            self._db.execute("DELETE FROM entry_rules")
            self._db.execute("DELETE FROM head")
            self._db.commit()
            with files[0].open("rb") as handle:
                start, point = 0, start_point(first_entry(handle.fileno()))
        else:
            start, point = resume
        for path in files[start:]:
            offset, last = point.offset, point.head
            try:
                for entry, end in walk_lines(path, after=point):
                    yield entry, offset
                    offset = end
                    last = ChainHead(entries=entry["seq"], head_hash=entry["entry_hash"])
            except AuditChainError as exc:
                raise AuditChainError(exc.line, f"{path.name}: {exc.reason}") from exc
            point = ChainPoint(last, 0)

    def _store(self, batch: list[tuple[dict[str, Any], int]]) -> int:
        """Add the entries (each with its line's offset) and move the head past the last, at once."""
        if not batch:
            return 0
        last, offset = batch[-1]
        with self._db:
            self._db.executemany(_INSERT, [_row(entry, at) for entry, at in batch])
            self._db.executemany(
                "INSERT INTO entry_rules (rule, seq) VALUES (?, ?)",
                [(rule, entry["seq"]) for entry, _ in batch for rule in _rules(entry)],
            )
            self._db.execute("DELETE FROM head")
            self._db.execute(
                "INSERT INTO head (seq, entry_hash, end_offset) VALUES (?, ?, ?)",
                (last["seq"], last["entry_hash"], offset + len(canonical_json(last)) + 1),
            )
        return len(batch)

    def _head(self) -> tuple[int, str, int] | None:
        row = self._db.execute("SELECT seq, entry_hash, end_offset FROM head").fetchone()
        return (row["seq"], row["entry_hash"], row["end_offset"]) if row else None

    def _ensure_schema(self) -> None:
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == _SCHEMA:
            return
        self._db.executescript(
            """
            DROP TABLE IF EXISTS entries; DROP TABLE IF EXISTS entry_rules; DROP TABLE IF EXISTS head;
            CREATE TABLE entries (seq INTEGER PRIMARY KEY, ts TEXT, event TEXT, replica TEXT,
                principal TEXT, credential_id TEXT, tool TEXT, repo TEXT, path TEXT, outcome TEXT,
                revision TEXT, reasons TEXT, decision_id TEXT, request_id TEXT, "offset" INTEGER);
            CREATE TABLE entry_rules (rule TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (rule, seq))
                WITHOUT ROWID;
            CREATE INDEX entries_by_ts ON entries (ts);
            CREATE INDEX entries_by_day ON entries (substr(ts, 1, 10), coalesce(outcome, event));
            CREATE INDEX entries_by_outcome ON entries (outcome, ts);
            CREATE INDEX entries_by_repo ON entries (repo, ts);
            CREATE INDEX entries_by_principal ON entries (principal, ts);
            CREATE INDEX entries_by_tool ON entries (tool, ts);
            CREATE INDEX entries_by_revision ON entries (revision);
            CREATE TABLE head (seq INTEGER, entry_hash TEXT, end_offset INTEGER);
            """
        )
        self._db.execute(f"PRAGMA user_version = {_SCHEMA}")
        self._db.commit()


def _resume_point(
    files: Sequence[Path], segments: Sequence[Segment | None], head: tuple[int, str, int] | None
) -> tuple[int, ChainPoint] | None:
    """Where the indexed head ends, when the log still holds it there; None: index from the start.
    `segments[n]` is the closed segment `files[n]` is, or None for the active file."""
    if head is None:
        return None
    seq, entry_hash, end = head
    for number, (path, segment) in enumerate(zip(files, segments, strict=True)):
        if segment is not None and not segment.first_seq <= seq <= segment.last_seq:
            continue
        if not _holds(_line_before(path, end), seq, entry_hash):
            return None
        if segment is not None and seq == segment.last_seq:  # the next entry opens the next file
            return number + 1, ChainPoint(ChainHead(entries=seq, head_hash=entry_hash), 0)
        return number, ChainPoint(ChainHead(entries=seq, head_hash=entry_hash), end)
    return None


def _holds(line: bytes, seq: int, entry_hash: str) -> bool:
    """Whether `line` is entry `seq` with hash `entry_hash`: the indexed head is still where it was."""
    entry = parse_entry(line) or {}
    return entry.get("seq") == seq and entry.get("entry_hash") == entry_hash


def _line_before(path: Path, end: int) -> bytes:
    """The line of `path` that ends at byte `end` (empty when there is none)."""
    if end <= 0:
        return b""
    with path.open("rb") as handle:
        start = max(0, end - (1 << 20))
        handle.seek(start)
        chunk = handle.read(end - start)
    return chunk[chunk.rfind(b"\n", 0, len(chunk) - 1) + 1 :]


def _rules(entry: dict[str, Any]) -> set[str]:
    reasons = entry.get("reasons") or []
    return {str(reason.get("rule")) for reason in reasons if isinstance(reason, dict)}


def _row(entry: dict[str, Any], offset: int) -> tuple[Any, ...]:
    reasons = entry.get("reasons") or []
    return (
        entry["seq"],
        entry.get("ts"),
        entry.get("event"),
        entry.get(REPLICA),
        entry.get("principal"),
        entry.get("credential_id"),
        entry.get("tool"),
        entry.get("repo"),
        entry.get("path"),
        entry.get("outcome"),
        entry.get("bundle_revision"),
        json.dumps(reasons, separators=(",", ":")),
        entry.get("decision_id"),
        entry.get("request_id"),
        offset,
    )


def _where(filters: Filters) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column in ("principal", "credential_id", "tool", "repo", "outcome", "event"):
        value = getattr(filters, column)
        if value is not None:
            clauses.append(f"{column} = ?")
            params.append(value)
    if filters.path is not None:
        clauses.append("path GLOB ?")
        params.append(filters.path.replace("**", "*"))
    if filters.rule is not None:
        clauses.append("seq IN (SELECT seq FROM entry_rules WHERE rule = ?)")
        params.append(filters.rule)
    if filters.revision is not None:
        clauses.append("revision >= ? AND revision < ?")
        params.extend([filters.revision, filters.revision + "\U0010ffff"])
    if filters.since is not None:
        clauses.append("ts >= ?")
        params.append(filters.since)
    if filters.until is not None:
        clauses.append("ts < ?")
        params.append(filters.until)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


@dataclasses.dataclass(frozen=True)
class ShownEntry:
    entry: dict[str, Any]
    status: str  # how it stands in its chain, in words


def read_entry(path: Path, offset: int, *, seq: int) -> ShownEntry:
    """Entry `seq` as the log holds it at `offset`, checked against its own hash and its neighbours'."""
    with path.open("rb") as handle:
        before = _line_before(path, offset)
        handle.seek(offset)
        line = handle.readline()
        after = handle.readline()
    entry = json.loads(line)
    if not isinstance(entry, dict) or entry.get("seq") != seq:
        raise AuditChainError(seq, f"{path.name}: the index points at another line; rebuild it")
    checks = ["its hash holds" if entry.get("entry_hash") == entry_hash(entry) else "ITS HASH DOES NOT HOLD"]
    previous = parse_entry(before)
    if previous is not None:
        linked = previous.get("entry_hash") == entry.get("prev_hash")
        checks.append(
            f"linked to entry {previous.get('seq')}" if linked else "NOT LINKED TO THE ENTRY BEFORE"
        )
    following = parse_entry(after)
    if following is not None:
        linked = following.get("prev_hash") == entry.get("entry_hash")
        checks.append(
            f"entry {following.get('seq')} links to it" if linked else "THE NEXT ENTRY DOES NOT LINK TO IT"
        )
    else:
        checks.append("last entry of its file")
    return ShownEntry(entry=entry, status=", ".join(checks))
