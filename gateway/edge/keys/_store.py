"""KeyStore: the gateway's view of the keys file, which authenticates presented keys."""

from __future__ import annotations

import hmac
import logging
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from gateway.edge.keys._file import Signature, exposure_warning, read_keys, stat_signature
from gateway.edge.keys._model import MAX_KEY_LENGTH, KeyMatch, StoredKey, hash_key, utc_now
from gateway.errors import KeyStoreError
from gateway.vocabulary import Principal

RELOAD_INTERVAL_S = 1.0
# The package's logger, not this private module's: log records name the module that callers import.
log = logging.getLogger("gateway.edge.keys")


class KeyStore:
    """Authenticates presented keys; re-reads the file when it changes (checked at most once per
    `reload_interval_s`, AEGIS_KEYS_RELOAD_INTERVAL: a second by default, 0 at every request).

    A file that vanishes, breaks or becomes writable by group or others authenticates nobody until fixed.
    `clock` gives the wall-clock time that expiries are checked against, at every authentication."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], datetime] | None = None,
        reload_interval_s: float = RELOAD_INTERVAL_S,
    ) -> None:
        self._path = path
        self._clock = clock or utc_now
        self._reload_interval_s = reload_interval_s
        keys, signature = read_keys(path)
        self._signature: Signature | None = signature
        self._install(keys)
        self._checked_at = time.monotonic()

    def authenticate(self, presented: str) -> KeyMatch | None:
        """The live key `presented` matches, or None. Every unrevoked hash is compared, in constant time."""
        if len(presented) > MAX_KEY_LENGTH:
            return None
        self._reload_if_changed()
        digest = hash_key(presented)
        found: StoredKey | None = None
        for stored in self._keys:
            if hmac.compare_digest(stored.sha256, digest):
                found = stored
        return self._match(found)

    def live(self, key_id: str) -> KeyMatch | None:
        """The key with id `key_id` while it is live (not revoked, not expired): a session minted for it
        lasts no longer than the key."""
        self._reload_if_changed()
        return self._match(next((stored for stored in self._keys if stored.id == key_id), None))

    def _match(self, found: StoredKey | None) -> KeyMatch | None:
        if found is None or not found.is_live(self._clock()):
            return None
        principal = Principal(
            id=found.name,
            kind="api_key",
            scopes=found.scopes,
            write_quota=found.write_quota,
            credential_id=found.id,
        )
        return KeyMatch(principal=principal, key_id=found.id, rate_limit=found.rate_limit)

    def has_live_key(self) -> bool:
        """Whether any key could authenticate now: a gateway without one does not start."""
        now = self._clock()
        return any(stored.is_live(now) for stored in self._keys)

    def _install(self, keys: list[StoredKey]) -> None:
        self._keys = tuple(stored for stored in keys if stored.revoked is None)
        warning = exposure_warning(self._path)
        if warning:
            log.warning(warning)

    def _reload_if_changed(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < self._reload_interval_s:
            return
        self._checked_at = now
        seen = stat_signature(self._path)
        if seen == self._signature:
            return
        try:
            keys, self._signature = read_keys(self._path)
        except KeyStoreError as exc:
            # Fail closed; remember what was seen so that a file that stays broken is not re-read (or
            # logged) every second.
            self._keys, self._signature = (), seen
            log.error("keys file refused; no key authenticates until it is fixed", extra={"error": str(exc)})
            return
        self._install(keys)
        log.info("keys file reloaded", extra={"keys": len(self._keys)})
