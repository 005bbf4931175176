"""The tamper-evident audit log: a JSON-lines SHA-256 hash chain, its writer, verifier and repair."""

from gateway.audit._chain import (
    GENESIS_HASH,
    INTENT_SEQ,
    canonical_json,
    client_request_id_field,
    entry_hash,
    intent_entry,
)
from gateway.audit._repair import Repair, repair_torn_tail
from gateway.audit._verify import ChainHead, ChainReport, find_entry, review_chain, verify_chain
from gateway.audit._writer import RETRY_INTERVAL_S as AUDIT_RETRY_S
from gateway.audit._writer import AuditLog

__all__ = [
    "AUDIT_RETRY_S",
    "GENESIS_HASH",
    "INTENT_SEQ",
    "AuditLog",
    "ChainHead",
    "ChainReport",
    "Repair",
    "canonical_json",
    "client_request_id_field",
    "entry_hash",
    "find_entry",
    "intent_entry",
    "repair_torn_tail",
    "review_chain",
    "verify_chain",
]
