"""The API keys file: names, scopes and SHA-256 hashes of keys; never a key itself.

Example:
    key = create_key(Path("var/keys.json"), name="ci-bot", scopes=("tools:read",))
    store = KeyStore(Path("var/keys.json"))
    principal = store.authenticate(key)
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import os
import re
import secrets
import time
from pathlib import Path
from typing import Any

from gateway.core.principal import Principal
from gateway.errors import KeyStoreError

KEY_PREFIX = "aegis_"
MAX_KEY_LENGTH = 256
KNOWN_SCOPES = frozenset({"tools:read", "tools:write", "tools:automation", "admin"})
DEFAULT_SCOPES = ("tools:read",)
KEY_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
RELOAD_INTERVAL_S = 1.0


@dataclasses.dataclass(frozen=True)
class StoredKey:
    name: str
    sha256: str = dataclasses.field(repr=False)
    scopes: tuple[str, ...]
    created: str


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(path: Path, *, name: str, scopes: tuple[str, ...] = DEFAULT_SCOPES) -> str:
    """Add a new key to the file (created with mode 0600) and return the key: the only time it is seen."""
    if not KEY_NAME.fullmatch(name):
        raise KeyStoreError(f"key name {name!r} must match {KEY_NAME.pattern}")
    unknown = sorted(set(scopes) - KNOWN_SCOPES)
    if unknown:
        raise KeyStoreError(
            f"unknown scopes: {', '.join(unknown)} (known: {', '.join(sorted(KNOWN_SCOPES))})"
        )
    keys = load_keys(path) if path.exists() else []
    if any(stored.name == name for stored in keys):
        raise KeyStoreError(f"a key named {name!r} already exists")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    keys.append(StoredKey(name=name, sha256=hash_key(key), scopes=tuple(scopes), created=created))
    _save_keys(path, keys)
    return key


def load_keys(path: Path) -> list[StoredKey]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise KeyStoreError(
            f"keys file {path} does not exist (create a key with `aegis keys create`)"
        ) from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KeyStoreError(f"keys file {path} is unreadable: {exc}") from None
    if (
        not isinstance(document, dict)
        or document.get("version") != 1
        or not isinstance(document.get("keys"), list)
    ):
        raise KeyStoreError(f"keys file {path} is not a version 1 keys document")
    return [_parse_key(path, index, item) for index, item in enumerate(document["keys"])]


def _parse_key(path: Path, index: int, item: Any) -> StoredKey:
    try:
        key = StoredKey(
            name=item["name"], sha256=item["sha256"], scopes=tuple(item["scopes"]), created=item["created"]
        )
    except (KeyError, TypeError):
        raise KeyStoreError(f"keys file {path}: entry {index} is malformed") from None
    if not re.fullmatch(r"[0-9a-f]{64}", str(key.sha256)) or not set(key.scopes) <= KNOWN_SCOPES:
        raise KeyStoreError(f"keys file {path}: entry {index} ({key.name!r}) has a bad hash or scope")
    return key


def _save_keys(path: Path, keys: list[StoredKey]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {"version": 1, "keys": [dataclasses.asdict(key) for key in keys]}
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(document, handle, indent=2)
        handle.write("\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


class KeyStore:
    """Authenticates presented keys; re-reads the file when it changes (checked at most once a second)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._keys = load_keys(path)
        self._mtime = path.stat().st_mtime_ns
        self._checked_at = time.monotonic()

    def authenticate(self, presented: str) -> Principal | None:
        """The principal owning `presented`, or None. Every stored hash is compared, in constant time."""
        self._reload_if_changed()
        digest = hash_key(presented)
        found: StoredKey | None = None
        for stored in self._keys:
            if hmac.compare_digest(stored.sha256, digest):
                found = stored
        if found is None:
            return None
        return Principal(id=found.name, kind="api_key", scopes=found.scopes)

    def _reload_if_changed(self) -> None:
        now = time.monotonic()
        if now - self._checked_at < RELOAD_INTERVAL_S:
            return
        self._checked_at = now
        try:
            mtime = self._path.stat().st_mtime_ns
            if mtime != self._mtime:
                self._keys, self._mtime = load_keys(self._path), mtime
        except (OSError, KeyStoreError):
            # Fail closed: a keys file that vanished or broke authenticates nobody.
            self._keys = []
