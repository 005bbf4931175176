"""The gateway's own durable state: pending approvals, write quotas used, file snapshots for rollback,
the archive of every policy served, the webhook deliveries seen lately and the leases of scheduled slots.

One database: SQLite (AEGIS_STATE_DB) for a single gateway, or PostgreSQL (AEGIS_STATE_URL) shared by
replicas. Every change is one transaction, and the ones that must not race across replicas (consuming an
approval, reserving a quota, claiming a snapshot) are conditional updates under a lock, so an approval is
consumed exactly once and a quota is never overspent; a scheduled slot is claimed by a conditional insert
under a unique key, so one replica runs it. The schema is migrated at start-up (`migrate`).
"""

from typing import TYPE_CHECKING

from gateway.state._approvals import (
    Approval,
    ApprovalError,
    ApprovalKey,
    ApprovalStore,
    GateOutcome,
    StaleApproval,
)
from gateway.state._database import Database
from gateway.state._deliveries import WebhookDeliveries
from gateway.state._leases import ScheduleLeases
from gateway.state._migrations import LATEST as SCHEMA_VERSION
from gateway.state._migrations import migrate
from gateway.state._policies import ArchivedPolicy, PolicyArchive
from gateway.state._quotas import QuotaExceeded, Reservation, WriteQuotas
from gateway.state._snapshots import SnapshotError, SnapshotStore, StoredSnapshot
from gateway.state._sqlite import SqliteDatabase

if TYPE_CHECKING:
    from gateway.state._postgres import PostgresDatabase

__all__ = [
    "SCHEMA_VERSION",
    "Approval",
    "ApprovalError",
    "ApprovalKey",
    "ApprovalStore",
    "ArchivedPolicy",
    "Database",
    "GateOutcome",
    "PolicyArchive",
    "PostgresDatabase",
    "QuotaExceeded",
    "Reservation",
    "ScheduleLeases",
    "SnapshotError",
    "SnapshotStore",
    "SqliteDatabase",
    "StaleApproval",
    "StoredSnapshot",
    "WebhookDeliveries",
    "WriteQuotas",
    "migrate",
]


def __getattr__(name: str) -> object:
    """PostgreSQL's driver is imported only where it is used: a gateway without AEGIS_STATE_URL, and
    every command, starts without it."""
    if name == "PostgresDatabase":
        from gateway.state._postgres import PostgresDatabase

        return PostgresDatabase
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
