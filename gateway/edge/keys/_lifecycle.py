"""The lifecycle of a key: create it, revoke it, rotate it; each one locked edit of the keys file."""

from __future__ import annotations

import dataclasses
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from gateway.edge.keys._file import editing
from gateway.edge.keys._model import (
    KEY_NAME,
    KEY_PREFIX,
    KeyRateLimit,
    StoredKey,
    format_time,
    hash_key,
    utc_now,
)
from gateway.errors import KeyStoreError
from gateway.vocabulary import KNOWN_SCOPES, NO_QUOTA_OVERRIDE, QuotaOverride

DEFAULT_SCOPES = ("tools:read",)
DEFAULT_ROTATION_OVERLAP = timedelta(hours=24)


def create_key(
    path: Path,
    *,
    name: str,
    scopes: tuple[str, ...] = DEFAULT_SCOPES,
    expires: datetime | timedelta | None = None,
    rate_limit: KeyRateLimit | None = None,
    write_quota: QuotaOverride = NO_QUOTA_OVERRIDE,
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
    now = now or utc_now()
    with editing(path, create=True) as keys:
        if any(stored.name == name and stored.is_live(now) for stored in keys):
            raise KeyStoreError(f"a key named {name!r} already exists (use `aegis keys rotate {name}`)")
        key, entry = _issue(keys, name=name, scopes=scopes, rate_limit=rate_limit, now=now, expires=expires)
        entry = dataclasses.replace(entry, write_quota=write_quota)
        keys.append(entry)
    return key


def revoke_key(
    path: Path, name: str, *, key_id: str | None = None, now: datetime | None = None
) -> list[StoredKey]:
    """Revoke every unrevoked key of `name` (or only the one with `key_id`); return what was revoked.

    Revoked entries stay in the file, with the time of revocation, and never authenticate again."""
    now = now or utc_now()
    with editing(path) as keys:
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
    now = now or utc_now()
    with editing(path) as keys:
        current = [stored for stored in keys if stored.name == name and stored.is_live(now)]
        if not current:
            raise KeyStoreError(f"no live key named {name!r} to rotate (use `aegis keys create`)")
        newest = current[-1]
        if expires is None and newest.expires is not None:
            expires = newest.expires - newest.created
        key, entry = _issue(
            keys, name=name, scopes=newest.scopes, rate_limit=newest.rate_limit, now=now, expires=expires
        )
        entry = dataclasses.replace(entry, write_quota=newest.write_quota)
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
