"""The state schema, as numbered migrations applied at start-up under a lock (one replica migrates, the
others wait and find it done). A database whose schema is newer than this code knows is refused: an
older gateway must not write into tables it does not understand."""

from __future__ import annotations

import time

from gateway.errors import ConfigError
from gateway.state._database import Database, Dialect

# Each migration: its statements for SQLite and for PostgreSQL (types differ: BLOB/BYTEA, REAL/DOUBLE).
_V1_SQLITE = (
    """CREATE TABLE IF NOT EXISTS approvals (
        id TEXT PRIMARY KEY, tool TEXT NOT NULL, args_sha256 TEXT NOT NULL, principal TEXT NOT NULL,
        revision TEXT NOT NULL, repo TEXT, path TEXT, arguments TEXT NOT NULL, request_id TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'used')),
        created REAL NOT NULL, expires REAL NOT NULL, decided_by TEXT, decided_at REAL, reason TEXT,
        used_at REAL)""",
    "CREATE INDEX IF NOT EXISTS approvals_by_call ON approvals (tool, args_sha256, principal, revision)",
    """CREATE TABLE IF NOT EXISTS write_usage (
        principal TEXT NOT NULL, day TEXT NOT NULL, writes INTEGER NOT NULL, bytes INTEGER NOT NULL,
        PRIMARY KEY (principal, day))""",
    """CREATE TABLE IF NOT EXISTS snapshots (
        id TEXT PRIMARY KEY, request_id TEXT NOT NULL, repo TEXT NOT NULL, path TEXT NOT NULL,
        branch TEXT NOT NULL, previous_sha TEXT, previous_content BLOB, new_sha TEXT NOT NULL,
        commit_sha TEXT NOT NULL, created REAL NOT NULL, rolled_back_by INTEGER)""",
)
_V1_POSTGRESQL = (
    """CREATE TABLE IF NOT EXISTS approvals (
        id TEXT PRIMARY KEY, tool TEXT NOT NULL, args_sha256 TEXT NOT NULL, principal TEXT NOT NULL,
        revision TEXT NOT NULL, repo TEXT, path TEXT, arguments TEXT NOT NULL, request_id TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'denied', 'used')),
        created DOUBLE PRECISION NOT NULL, expires DOUBLE PRECISION NOT NULL, decided_by TEXT,
        decided_at DOUBLE PRECISION, reason TEXT, used_at DOUBLE PRECISION)""",
    "CREATE INDEX IF NOT EXISTS approvals_by_call ON approvals (tool, args_sha256, principal, revision)",
    """CREATE TABLE IF NOT EXISTS write_usage (
        principal TEXT NOT NULL, day TEXT NOT NULL, writes INTEGER NOT NULL, bytes BIGINT NOT NULL,
        PRIMARY KEY (principal, day))""",
    """CREATE TABLE IF NOT EXISTS snapshots (
        id TEXT PRIMARY KEY, request_id TEXT NOT NULL, repo TEXT NOT NULL, path TEXT NOT NULL,
        branch TEXT NOT NULL, previous_sha TEXT, previous_content BYTEA, new_sha TEXT NOT NULL,
        commit_sha TEXT NOT NULL, created DOUBLE PRECISION NOT NULL, rolled_back_by BIGINT)""",
)
# 2: the policy archive (every revision served, with its YAML and bundle).
_V2_SQLITE = (
    """CREATE TABLE IF NOT EXISTS policy_revisions (
        revision TEXT PRIMARY KEY, source_sha256 TEXT, source BLOB, bundle BLOB NOT NULL, file TEXT NOT NULL,
        first_loaded REAL NOT NULL, last_loaded REAL NOT NULL)""",
)
_V2_POSTGRESQL = (
    """CREATE TABLE IF NOT EXISTS policy_revisions (
        revision TEXT PRIMARY KEY, source_sha256 TEXT, source BYTEA, bundle BYTEA NOT NULL,
        file TEXT NOT NULL, first_loaded DOUBLE PRECISION NOT NULL, last_loaded DOUBLE PRECISION NOT NULL)""",
)
# 3: the webhook deliveries seen within the replay window (the primary key makes accepting one race-free).
_V3_SQLITE = (
    "CREATE TABLE IF NOT EXISTS webhook_deliveries (delivery_id TEXT PRIMARY KEY, received REAL NOT NULL)",
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_by_age ON webhook_deliveries (received)",
)
_V3_POSTGRESQL = (
    """CREATE TABLE IF NOT EXISTS webhook_deliveries (
        delivery_id TEXT PRIMARY KEY, received DOUBLE PRECISION NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS webhook_deliveries_by_age ON webhook_deliveries (received)",
)
# 4: the scheduler's leases, one row per job and slot claimed (the slot in seconds since the epoch, UTC).
_V4_SQLITE = (
    """CREATE TABLE IF NOT EXISTS schedule_leases (
        job TEXT NOT NULL, slot INTEGER NOT NULL, holder TEXT NOT NULL, claimed REAL NOT NULL,
        PRIMARY KEY (job, slot))""",
)
_V4_POSTGRESQL = (
    """CREATE TABLE IF NOT EXISTS schedule_leases (
        job TEXT NOT NULL, slot BIGINT NOT NULL, holder TEXT NOT NULL, claimed DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (job, slot))""",
)
MIGRATIONS: tuple[dict[Dialect, tuple[str, ...]], ...] = (
    {"sqlite": _V1_SQLITE, "postgresql": _V1_POSTGRESQL},
    {"sqlite": _V2_SQLITE, "postgresql": _V2_POSTGRESQL},
    {"sqlite": _V3_SQLITE, "postgresql": _V3_POSTGRESQL},
    {"sqlite": _V4_SQLITE, "postgresql": _V4_POSTGRESQL},
)
LATEST = len(MIGRATIONS)
_VERSIONS = (
    "CREATE TABLE IF NOT EXISTS aegis_schema_version (version INTEGER PRIMARY KEY, applied TEXT NOT NULL)"
)


async def migrate(db: Database) -> int:
    """Bring the schema to LATEST; returns the version found. Raises ConfigError for a newer schema."""
    async with db.transaction() as tx:
        await tx.lock("aegis.schema")
        await tx.execute(_VERSIONS)
        row = await tx.fetchone("SELECT max(version) AS version FROM aegis_schema_version")
        found = int(row["version"] or 0) if row else 0
        if found > LATEST:
            raise ConfigError(
                f"the state database {db.where} has schema version {found}, newer than this gateway's"
                f" {LATEST}: run the newer gateway, or give this one another database"
            )
        for version in range(found + 1, LATEST + 1):
            for statement in MIGRATIONS[version - 1][db.dialect]:
                await tx.execute(statement)
            await tx.execute(
                "INSERT INTO aegis_schema_version (version, applied) VALUES (?, ?)",
                (version, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
            )
    return found
