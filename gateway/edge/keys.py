"""The API keys file and the lifecycle of its keys: create, list, revoke, rotate; authenticate.

The file holds names, scopes, times, rate limits and SHA-256 hashes of keys; never a key itself. Writers
take an exclusive `flock` on a sibling `.lock` file around read-modify-write and replace the file
atomically (mode 0600); the gateway reads it without locking and re-reads it when it changes.

Example:
    key = create_key(Path("var/keys.json"), name="ci-bot", scopes=("tools:read",), expires=timedelta(days=90))
    store = KeyStore(Path("var/keys.json"))
    match = store.authenticate(key)  # KeyMatch(principal=Principal(id="ci-bot", ...), key_id=..., ...)
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import hmac
import json
import logging
import math
import os
import re
import secrets
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from gateway.core.principal import Principal
from gateway.errors import KeyStoreError

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

KEY_PREFIX = "aegis_"
MAX_KEY_LENGTH = 256
KNOWN_SCOPES = frozenset({"tools:read", "tools:write", "tools:automation", "admin"})
DEFAULT_SCOPES = ("tools:read",)
DEFAULT_ROTATION_OVERLAP = timedelta(hours=24)
KEY_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
RELOAD_INTERVAL_S = 1.0

KeyState = Literal["active", "expired", "revoked", "rotating"]
_Signature = tuple[int, ...]
_KEY_ID = re.compile(r"[0-9a-f]{12}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})")
_DURATION = re.compile(r"(\d{1,6})([smhd])")
_DURATION_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
_REQUIRED_FIELDS = frozenset({"name", "sha256", "scopes", "created"})
_FIELDS = _REQUIRED_FIELDS | {"id", "expires", "revoked", "rotated_to", "rate", "burst"}
_GROUP_OTHER_WRITE, _GROUP_OTHER_READ = 0o022, 0o044
log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class KeyRateLimit:
    """A key's own token bucket: `rate_per_s` requests per second on average, bursts of up to `burst`."""

    rate_per_s: float
    burst: int

    def __post_init__(self) -> None:
        if not (math.isfinite(self.rate_per_s) and self.rate_per_s > 0):
            raise KeyStoreError(
                f"rate must be a positive number of requests per second, not {self.rate_per_s}"
            )
        if self.burst < 1:
            raise KeyStoreError(f"burst must be a positive integer, not {self.burst}")


@dataclasses.dataclass(frozen=True)
class StoredKey:
    """One entry of the keys file. `rotated_to` names the id of the key that replaces this one."""

    id: str
    name: str
    sha256: str = dataclasses.field(repr=False)
    scopes: tuple[str, ...]
    created: datetime
    expires: datetime | None = None
    revoked: datetime | None = None
    rotated_to: str | None = None
    rate_limit: KeyRateLimit | None = None

    def is_live(self, now: datetime) -> bool:
        """Whether this key authenticates at `now`."""
        return self.revoked is None and (self.expires is None or now < self.expires)

    def state(self, now: datetime) -> KeyState:
        if self.revoked is not None:
            return "revoked"
        if not self.is_live(now):
            return "expired"
        return "rotating" if self.rotated_to is not None else "active"

    def summary(self, now: datetime) -> dict[str, Any]:
        """What `aegis keys list --json` shows: everything but the hash."""
        return {
            "name": self.name,
            "id": self.id,
            "scopes": list(self.scopes),
            "created": format_time(self.created),
            "age_s": max(0, int((now - self.created).total_seconds())),
            "expires": _format_optional(self.expires),
            "revoked": _format_optional(self.revoked),
            "state": self.state(now),
            "rotated_to": self.rotated_to,
            "rate": self.rate_limit.rate_per_s if self.rate_limit else None,
            "burst": self.rate_limit.burst if self.rate_limit else None,
        }


@dataclasses.dataclass(frozen=True)
class KeyMatch:
    """An authenticated key: who it speaks for, which entry matched, and its own rate limit if any."""

    principal: Principal
    key_id: str
    rate_limit: KeyRateLimit | None


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_duration(text: str) -> timedelta:
    """`30d`, `12h`, `90m` or `45s`."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise KeyStoreError(f"{text!r} is not a duration like 30d, 12h, 90m or 45s")
    return timedelta(**{_DURATION_UNITS[match.group(2)]: int(match.group(1))})


def parse_expiry(text: str) -> datetime | timedelta:
    """An RFC 3339 time with an explicit offset, or a duration counted from when the key is issued."""
    if _DURATION.fullmatch(text):
        return parse_duration(text)
    if _RFC3339.fullmatch(text):
        return datetime.fromisoformat(text).astimezone(UTC)
    raise KeyStoreError(
        f"expiry {text!r} is neither an RFC 3339 time (2026-12-31T23:59:59Z)"
        " nor a duration like 30d, 12h or 90m"
    )


def load_keys(path: Path) -> list[StoredKey]:
    """Every entry of the file, revoked and expired ones included. Raises KeyStoreError if it is unsafe."""
    return _read(path)[0]


def exposure_warning(path: Path) -> str | None:
    """A warning if group or others can read the keys file (its mode should be 0600), else None."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return None
    if mode & _GROUP_OTHER_READ:
        return f"keys file {path} is readable by group or others (mode {mode & 0o777:04o}): chmod 600 {path}"
    return None


def create_key(
    path: Path,
    *,
    name: str,
    scopes: tuple[str, ...] = DEFAULT_SCOPES,
    expires: datetime | timedelta | None = None,
    rate_limit: KeyRateLimit | None = None,
    now: datetime | None = None,
) -> str:
    """Add a key to the file (created with mode 0600) and return it: the only time it is seen.

    Refused while another key of that name is live (rotate that one instead)."""
    if not KEY_NAME.fullmatch(name):
        raise KeyStoreError(f"key name {name!r} must match {KEY_NAME.pattern}")
    scopes = tuple(dict.fromkeys(scopes))
    if not scopes:
        raise KeyStoreError("a key needs at least one scope")
    unknown = sorted(set(scopes) - KNOWN_SCOPES)
    if unknown:
        raise KeyStoreError(
            f"unknown scopes: {', '.join(unknown)} (known: {', '.join(sorted(KNOWN_SCOPES))})"
        )
    now = now or _utc_now()
    with _editing(path, create=True) as keys:
        if any(stored.name == name and stored.is_live(now) for stored in keys):
            raise KeyStoreError(f"a key named {name!r} already exists (use `aegis keys rotate {name}`)")
        key, entry = _issue(keys, name=name, scopes=scopes, rate_limit=rate_limit, now=now, expires=expires)
        keys.append(entry)
    return key


def revoke_key(
    path: Path, name: str, *, key_id: str | None = None, now: datetime | None = None
) -> list[StoredKey]:
    """Revoke every unrevoked key of `name` (or only the one with `key_id`); return what was revoked.

    Revoked entries stay in the file, with the time of revocation, and never authenticate again."""
    now = now or _utc_now()
    with _editing(path) as keys:
        named = [stored for stored in keys if stored.name == name]
        if not named:
            raise KeyStoreError(f"no key named {name!r}")
        if key_id is not None:
            named = [stored for stored in named if stored.id == key_id]
            if not named:
                raise KeyStoreError(f"no key named {name!r} has id {key_id!r}")
        targets = {stored.id for stored in named if stored.revoked is None}
        if not targets:
            raise KeyStoreError(
                f"the key {name!r} with id {key_id!r} is already revoked"
                if key_id
                else f"every key named {name!r} is already revoked"
            )
        keys[:] = [dataclasses.replace(k, revoked=now) if k.id in targets else k for k in keys]
        return [stored for stored in keys if stored.id in targets]


def rotate_key(
    path: Path,
    name: str,
    *,
    overlap: timedelta = DEFAULT_ROTATION_OVERLAP,
    expires: datetime | timedelta | None = None,
    now: datetime | None = None,
) -> str:
    """Issue the next key of `name` (same scopes and rate limit, new id) and return it, once.

    The live keys of that name keep working until `now + overlap` (recorded as their expiry, never later
    than an expiry they already had). Without `expires`, the new key gets the lifetime of the newest key
    it replaces (none if that one had none)."""
    if overlap < timedelta(0):
        raise KeyStoreError("the rotation overlap cannot be negative")
    now = now or _utc_now()
    with _editing(path) as keys:
        current = [stored for stored in keys if stored.name == name and stored.is_live(now)]
        if not current:
            raise KeyStoreError(f"no live key named {name!r} to rotate (use `aegis keys create`)")
        newest = current[-1]
        if expires is None and newest.expires is not None:
            expires = newest.expires - newest.created
        key, entry = _issue(
            keys, name=name, scopes=newest.scopes, rate_limit=newest.rate_limit, now=now, expires=expires
        )
        deadline = now + overlap
        replaced = {stored.id for stored in current}
        keys[:] = [
            dataclasses.replace(k, expires=min(k.expires or deadline, deadline), rotated_to=entry.id)
            if k.id in replaced
            else k
            for k in keys
        ]
        keys.append(entry)
    return key


class KeyStore:
    """Authenticates presented keys; re-reads the file when it changes (checked at most once a second).

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
        self._clock = clock or _utc_now
        self._reload_interval_s = reload_interval_s
        keys, signature = _read(path)
        self._signature: _Signature | None = signature
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
        if found is None or not found.is_live(self._clock()):
            return None
        principal = Principal(id=found.name, kind="api_key", scopes=found.scopes)
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
        seen = _stat_signature(self._path)
        if seen == self._signature:
            return
        try:
            keys, self._signature = _read(self._path)
        except KeyStoreError as exc:
            # Fail closed; remember what was seen so that a file that stays broken is not re-read (or
            # logged) every second.
            self._keys, self._signature = (), seen
            log.error("keys file refused; no key authenticates until it is fixed", extra={"error": str(exc)})
            return
        self._install(keys)
        log.info("keys file reloaded", extra={"keys": len(self._keys)})


def _signature(status: os.stat_result) -> _Signature:
    """Changes whenever the file is replaced, rewritten or chmod-ed."""
    return (
        status.st_dev,
        status.st_ino,
        status.st_mode,
        status.st_size,
        status.st_mtime_ns,
        status.st_ctime_ns,
    )


def _stat_signature(path: Path) -> _Signature | None:
    try:
        return _signature(path.stat())
    except OSError:
        return None


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _format_optional(moment: datetime | None) -> str | None:
    return format_time(moment) if moment is not None else None


def _issue(
    keys: list[StoredKey],
    *,
    name: str,
    scopes: tuple[str, ...],
    rate_limit: KeyRateLimit | None,
    now: datetime,
    expires: datetime | timedelta | None,
) -> tuple[str, StoredKey]:
    """A fresh key and its entry, with an id no other entry of `keys` has."""
    deadline = now + expires if isinstance(expires, timedelta) else expires
    if deadline is not None and deadline <= now:
        raise KeyStoreError(f"expiry {format_time(deadline)} is not in the future")
    taken = {stored.id for stored in keys}
    key_id = secrets.token_hex(6)
    while key_id in taken:
        key_id = secrets.token_hex(6)
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    # Stored at the file's one-second precision, so that what is checked is what `list` shows.
    created = now.replace(microsecond=0)
    deadline = deadline.replace(microsecond=0) if deadline else None
    entry = StoredKey(
        id=key_id,
        name=name,
        sha256=hash_key(key),
        scopes=scopes,
        created=created,
        expires=deadline,
        rate_limit=rate_limit,
    )
    return key, entry


@contextlib.contextmanager
def _editing(path: Path, *, create: bool = False) -> Iterator[list[StoredKey]]:
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
    return {
        "id": stored.id,
        "name": stored.name,
        "sha256": stored.sha256,
        "scopes": list(stored.scopes),
        "created": format_time(stored.created),
        "expires": _format_optional(stored.expires),
        "revoked": _format_optional(stored.revoked),
        "rotated_to": stored.rotated_to,
        "rate": stored.rate_limit.rate_per_s if stored.rate_limit else None,
        "burst": stored.rate_limit.burst if stored.rate_limit else None,
    }


def _missing(path: Path) -> KeyStoreError:
    return KeyStoreError(f"keys file {path} does not exist (create a key with `aegis keys create`)")


def _read(path: Path) -> tuple[list[StoredKey], _Signature]:
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
    )


def _legacy_id(sha256: str) -> str:
    """The id of an entry written before ids existed: derived from its hash, so it is stable across reads."""
    return hashlib.sha256(b"aegis-key-id:" + sha256.encode("ascii")).hexdigest()[:12]


def _is_key_id(value: object) -> bool:
    return isinstance(value, str) and _KEY_ID.fullmatch(value) is not None


def _parse_stored_time(value: object) -> datetime:
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise KeyStoreError(f"bad time {value!r}")
    return datetime.fromisoformat(value).astimezone(UTC)


def _parse_optional_time(value: object) -> datetime | None:
    return None if value is None else _parse_stored_time(value)


def _parse_rate_limit(rate: object, burst: object) -> KeyRateLimit | None:
    if rate is None and burst is None:
        return None
    if not (isinstance(rate, int | float) and not isinstance(rate, bool) and type(burst) is int):
        raise KeyStoreError("rate and burst must be numbers, given together")
    return KeyRateLimit(rate_per_s=float(rate), burst=burst)
