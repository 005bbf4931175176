"""The API keys file and the lifecycle of its keys: create, list, revoke, rotate; authenticate.

The file holds names, scopes, times, rate limits and SHA-256 hashes of keys; never a key itself. Writers
take an exclusive `flock` on a sibling `.lock` file around read-modify-write and replace the file
atomically (mode 0600); the gateway reads it without locking and re-reads it when it changes.

Example:
    key = create_key(Path("var/keys.json"), name="ci-bot", scopes=("tools:read",), expires=timedelta(days=90))
    store = KeyStore(Path("var/keys.json"))
    match = store.authenticate(key)  # KeyMatch(principal=Principal(id="ci-bot", ...), key_id=..., ...)
"""

from gateway.edge.keys._file import exposure_warning, load_keys
from gateway.edge.keys._lifecycle import (
    DEFAULT_ROTATION_OVERLAP,
    DEFAULT_SCOPES,
    create_key,
    revoke_key,
    rotate_key,
)
from gateway.edge.keys._model import (
    MAX_KEY_LENGTH,
    KeyMatch,
    KeyRateLimit,
    StoredKey,
    format_time,
    hash_key,
    parse_duration,
    parse_expiry,
)
from gateway.edge.keys._store import KeyStore
from gateway.vocabulary import KNOWN_SCOPES

__all__ = [
    "DEFAULT_ROTATION_OVERLAP",
    "DEFAULT_SCOPES",
    "KNOWN_SCOPES",
    "MAX_KEY_LENGTH",
    "KeyMatch",
    "KeyRateLimit",
    "KeyStore",
    "StoredKey",
    "create_key",
    "exposure_warning",
    "format_time",
    "hash_key",
    "load_keys",
    "parse_duration",
    "parse_expiry",
    "revoke_key",
    "rotate_key",
]
