"""The keys file on disk: read and checked as a whole, edited under a lock, replaced atomically.

Writers take an exclusive `flock` on a sibling `.lock` file around read-modify-write and replace the
file atomically (mode 0600); readers do not lock, and tell a changed file by its `Signature`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.edge.keys._model import (
    KEY_NAME,
    RFC3339,
    KeyRateLimit,
    StoredKey,
    format_optional,
    format_time,
)
from gateway.errors import KeyStoreError
from gateway.vocabulary import KNOWN_SCOPES, QuotaOverride

Signature = tuple[int, ...]
_KEY_ID = re.compile(r"[0-9a-f]{12}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_REQUIRED_FIELDS = frozenset({"name", "sha256", "scopes", "created"})
_FIELDS = _REQUIRED_FIELDS | {"id", "expires", "revoked", "rotated_to", "rate", "burst", "quota"}
_QUOTA_FIELDS = frozenset(field.name for field in dataclasses.fields(QuotaOverride))
_GROUP_OTHER_WRITE, _GROUP_OTHER_READ = 0o022, 0o044


def load_keys(path: Path) -> list[StoredKey]:
    """Every entry of the file, revoked and expired ones included. Raises KeyStoreError if it is unsafe."""
    return read_keys(path)[0]


def read_keys(path: Path) -> tuple[list[StoredKey], Signature]:
    """The entries and the signature of the file they were read from, checked as a whole."""
    try:
        with path.open("rb") as handle:
            status = os.fstat(handle.fileno())
            if status.st_mode & _GROUP_OTHER_WRITE:
                raise KeyStoreError(
                    f"keys file {path} is writable by group or others (mode {status.st_mode & 0o777:04o}), so"
                    f" anyone could have added a key: check its entries, then chmod 600 {path}"
                )
            raw = handle.read()
    except FileNotFoundError:
        raise _missing(path) from None
    except OSError as exc:
        raise KeyStoreError(f"keys file {path} is unreadable: {exc.strerror or exc}") from None
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise KeyStoreError(f"keys file {path} is not JSON: {exc}") from None
    if (
        not isinstance(document, dict)
        or set(document) != {"version", "keys"}
        or document["version"] != 1
        or not isinstance(document["keys"], list)
    ):
        raise KeyStoreError(f"keys file {path} is not a version 1 keys document")
    keys: list[StoredKey] = []
    for index, item in enumerate(document["keys"]):
        try:
            keys.append(_parse_entry(item))
        except KeyStoreError as exc:
            raise KeyStoreError(f"keys file {path}: entry {index}: {exc}") from None
    for field in ("sha256", "id"):
        values = [getattr(stored, field) for stored in keys]
        if len(set(values)) != len(values):
            raise KeyStoreError(f"keys file {path}: two entries have the same {field}")
    return keys, _signature(status)


def exposure_warning(path: Path) -> str | None:
    """A warning if group or others can read the keys file (its mode should be 0600), else None."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & _GROUP_OTHER_READ:
        return f"keys file {path} is readable by group or others (mode {mode & 0o777:04o}): chmod 600 {path}"
    return None


def stat_signature(path: Path) -> Signature | None:
    try:
        return _signature(path.stat())
    except OSError:
        return None


@contextlib.contextmanager
def editing(path: Path, *, create: bool = False) -> Iterator[list[StoredKey]]:
    """The file's entries under an exclusive lock, written back atomically if the block succeeds."""
    try:
        if create:
            path.parent.mkdir(parents=True, exist_ok=True)
        elif not path.exists():
            raise _missing(path)
        lock = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX)
            keys = [] if create and not path.exists() else load_keys(path)
            yield keys
            _write(path, keys)
        finally:
            os.close(lock)  # releases the lock
    except OSError as exc:
        raise KeyStoreError(f"keys file {path}: {exc.strerror or exc}") from None


def _signature(status: os.stat_result) -> Signature:
    """Changes whenever the file is replaced, rewritten or chmod-ed."""
    return (
        status.st_dev,
        status.st_ino,
        status.st_mode,
        status.st_size,
        status.st_mtime_ns,
        status.st_ctime_ns,
    )


def _missing(path: Path) -> KeyStoreError:
    return KeyStoreError(f"keys file {path} does not exist (create a key with `aegis keys create`)")


def _write(path: Path, keys: list[StoredKey]) -> None:
    document = {"version": 1, "keys": [_entry_json(stored) for stored in keys]}
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")  # mode 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(document, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the rename itself survives a crash
    finally:
        os.close(directory)


def _entry_json(stored: StoredKey) -> dict[str, Any]:
    quota = {"quota": stored.write_quota.as_dict()} if stored.write_quota.as_dict() else {}
    return {
        "id": stored.id,
        "name": stored.name,
        "sha256": stored.sha256,
        "scopes": list(stored.scopes),
        "created": format_time(stored.created),
        "expires": format_optional(stored.expires),
        "revoked": format_optional(stored.revoked),
        "rotated_to": stored.rotated_to,
        "rate": stored.rate_limit.rate_per_s if stored.rate_limit else None,
        "burst": stored.rate_limit.burst if stored.rate_limit else None,
        **quota,
    }


def _parse_entry(item: object) -> StoredKey:
    if not isinstance(item, dict):
        raise KeyStoreError("not an object")
    unknown, missing = sorted(set(item) - _FIELDS), sorted(_REQUIRED_FIELDS - set(item))
    if unknown or missing:
        raise KeyStoreError(f"unknown fields {unknown}" if unknown else f"missing fields {missing}")
    name, sha256, scopes = item["name"], item["sha256"], item["scopes"]
    if not isinstance(name, str) or not KEY_NAME.fullmatch(name):
        raise KeyStoreError("bad name")
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise KeyStoreError(f"bad hash for {name!r}")
    if not isinstance(scopes, list) or not all(isinstance(s, str) and s in KNOWN_SCOPES for s in scopes):
        raise KeyStoreError(f"bad scope for {name!r}")
    key_id = item.get("id", _legacy_id(sha256))
    rotated_to = item.get("rotated_to")
    if not _is_key_id(key_id) or not (rotated_to is None or _is_key_id(rotated_to)):
        raise KeyStoreError(f"bad id for {name!r}")
    return StoredKey(
        id=key_id,
        name=name,
        sha256=sha256,
        scopes=tuple(scopes),
        created=_parse_stored_time(item["created"]),
        expires=_parse_optional_time(item.get("expires")),
        revoked=_parse_optional_time(item.get("revoked")),
        rotated_to=rotated_to,
        rate_limit=_parse_rate_limit(item.get("rate"), item.get("burst")),
        write_quota=_parse_quota(item.get("quota")),
    )


def _legacy_id(sha256: str) -> str:
    """The id of an entry written before ids existed: derived from its hash, so it is stable across reads."""
    return hashlib.sha256(b"aegis-key-id:" + sha256.encode("ascii")).hexdigest()[:12]


def _is_key_id(value: object) -> bool:
    return isinstance(value, str) and _KEY_ID.fullmatch(value) is not None


def _parse_stored_time(value: object) -> datetime:
    if not isinstance(value, str) or not RFC3339.fullmatch(value):
        raise KeyStoreError(f"bad time {value!r}")
    return datetime.fromisoformat(value).astimezone(UTC)


def _parse_optional_time(value: object) -> datetime | None:
    return None if value is None else _parse_stored_time(value)


def _parse_quota(value: object) -> QuotaOverride:
    if value is None:
        return QuotaOverride()
    if not isinstance(value, dict) or not set(value) <= _QUOTA_FIELDS:
        raise KeyStoreError(f"quota must be an object of {sorted(_QUOTA_FIELDS)}")
    if not all(type(limit) is int and limit > 0 for limit in value.values()):
        raise KeyStoreError("quota limits must be positive integers")
    return QuotaOverride(**value)


def _parse_rate_limit(rate: object, burst: object) -> KeyRateLimit | None:
    if rate is None and burst is None:
        return None
    if not (isinstance(rate, int | float) and not isinstance(rate, bool) and type(burst) is int):
        raise KeyStoreError("rate and burst must be numbers, given together")
    return KeyRateLimit(rate_per_s=float(rate), burst=burst)
