"""The tamper-evident audit log: a JSON-lines SHA-256 hash chain, its writer and its verifier."""

from gateway.audit._chain import GENESIS_HASH, canonical_json, client_request_id_field, entry_hash
from gateway.audit._verify import ChainHead, find_entry, verify_chain
from gateway.audit._writer import AuditLog

__all__ = [
    "GENESIS_HASH",
    "AuditLog",
    "ChainHead",
    "canonical_json",
    "client_request_id_field",
    "entry_hash",
    "find_entry",
    "verify_chain",
]
