"""The tamper-evident audit log: a JSON-lines SHA-256 hash chain, its writer, verifier and repair."""

from gateway.audit._anchor import AnchoredReport, AnchorError, review_anchored
from gateway.audit._chain import (
    ARGS,
    AUTOMATION,
    DECISION_INPUT,
    GENESIS_HASH,
    INTENT_SEQ,
    canonical_json,
    entry_hash,
)
from gateway.audit._checkpoint import CheckpointSigner, generate_signing_key, load_public_key, public_key_pem
from gateway.audit._entry import Entry
from gateway.audit._index import ChainIndex, Filters, ShownEntry, read_entry, time_bound
from gateway.audit._opening import Checkpointing, lock_log
from gateway.audit._repair import Repair, repair_torn_tail
from gateway.audit._segments import Rotation, find_entry, merged_chains, review_chain, walk_segments
from gateway.audit._verify import ChainHead, ChainReport, verify_chain
from gateway.audit._writer import RETRY_INTERVAL_S as AUDIT_RETRY_S
from gateway.audit._writer import AuditLog

__all__ = [
    "ARGS",
    "AUDIT_RETRY_S",
    "AUTOMATION",
    "DECISION_INPUT",
    "GENESIS_HASH",
    "INTENT_SEQ",
    "AnchorError",
    "AnchoredReport",
    "AuditLog",
    "ChainHead",
    "ChainIndex",
    "ChainReport",
    "CheckpointSigner",
    "Checkpointing",
    "Entry",
    "Filters",
    "Repair",
    "Rotation",
    "ShownEntry",
    "canonical_json",
    "entry_hash",
    "find_entry",
    "generate_signing_key",
    "load_public_key",
    "lock_log",
    "merged_chains",
    "public_key_pem",
    "read_entry",
    "repair_torn_tail",
    "review_anchored",
    "review_chain",
    "time_bound",
    "verify_chain",
    "walk_segments",
]
