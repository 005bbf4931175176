"""The gateway's own durable state: pending approvals, write quotas used, and file snapshots for rollback.

One SQLite database (AEGIS_STATE_DB), written only by the gateway process; every change is one
transaction, so an approval is consumed exactly once and a quota is never overspent.
"""

from gateway.state._approvals import Approval, ApprovalError, ApprovalKey, ApprovalStore, GateOutcome
from gateway.state._db import StateDB
from gateway.state._quotas import QuotaExceeded, Reservation, WriteQuotas
from gateway.state._snapshots import SnapshotError, SnapshotStore, StoredSnapshot

__all__ = [
    "Approval",
    "ApprovalError",
    "ApprovalKey",
    "ApprovalStore",
    "GateOutcome",
    "QuotaExceeded",
    "Reservation",
    "SnapshotError",
    "SnapshotStore",
    "StateDB",
    "StoredSnapshot",
    "WriteQuotas",
]
