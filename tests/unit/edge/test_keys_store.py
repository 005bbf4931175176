"""KeyStore: which presented keys authenticate, as whom, and when the file's changes take effect."""

from __future__ import annotations

import hmac
import json
import logging
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import gateway.edge.keys._store as keys_module
from gateway.edge.keys import (
    MAX_KEY_LENGTH,
    KeyMatch,
    KeyRateLimit,
    KeyStore,
    create_key,
    load_keys,
    revoke_key,
    rotate_key,
)
from gateway.errors import KeyStoreError
from gateway.vocabulary import Principal

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "keys.json"


@pytest.fixture
def clock() -> Clock:
    return Clock()


def store_for(path: Path, clock: Clock) -> KeyStore:
    """A store that looks at the file at every authentication (the gateway's looks once a second)."""
    return KeyStore(path, clock=clock, reload_interval_s=0)


def test_the_right_key_authenticates_as_its_name_with_its_scopes_and_limit(path: Path, clock: Clock) -> None:
    key = create_key(
        path, name="ci-bot", scopes=("tools:read", "admin"), rate_limit=KeyRateLimit(2.0, 4), now=NOW
    )
    create_key(path, name="other", now=NOW)
    (stored,) = [s for s in load_keys(path) if s.name == "ci-bot"]
    assert store_for(path, clock).authenticate(key) == KeyMatch(
        principal=Principal(
            id="ci-bot", kind="api_key", scopes=("tools:read", "admin"), credential_id=stored.id
        ),
        key_id=stored.id,
        rate_limit=KeyRateLimit(rate_per_s=2.0, burst=4),
    )


@pytest.mark.parametrize(
    "presented",
    [
        pytest.param("", id="empty"),
        pytest.param("aegis_", id="prefix-only"),
        pytest.param("aegis_wrong-key", id="wrong"),
    ],
)
def test_other_keys_do_not_authenticate(path: Path, clock: Clock, presented: str) -> None:
    create_key(path, name="ci-bot", now=NOW)
    assert store_for(path, clock).authenticate(presented) is None


def test_a_key_longer_than_the_maximum_is_refused_without_hashing(
    path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    create_key(path, name="ci-bot", now=NOW)
    store = store_for(path, clock)
    hashed: list[str] = []

    def hash_key(key: str) -> str:
        hashed.append(key)
        return "0" * 64

    monkeypatch.setattr(keys_module, "hash_key", hash_key)
    assert store.authenticate("a" * (MAX_KEY_LENGTH + 1)) is None
    assert hashed == []
    assert store.authenticate("a" * MAX_KEY_LENGTH) is None
    assert hashed == ["a" * MAX_KEY_LENGTH]


def test_every_unrevoked_hash_is_compared(path: Path, clock: Clock, monkeypatch: pytest.MonkeyPatch) -> None:
    first = create_key(path, name="a", now=NOW)
    create_key(path, name="b", now=NOW)
    create_key(path, name="c", expires=timedelta(minutes=1), now=NOW)
    create_key(path, name="d", now=NOW)
    revoke_key(path, "d", now=NOW)
    store = store_for(path, clock)
    compared: list[str] = []
    real_compare = hmac.compare_digest

    def compare(a: str, b: str) -> bool:
        compared.append(a)
        return real_compare(a, b)

    monkeypatch.setattr(keys_module.hmac, "compare_digest", compare)
    clock.now = NOW + timedelta(hours=1)
    assert store.authenticate(first) is not None
    assert len(compared) == 3  # a, b and the expired c; not the revoked d


def test_a_key_stops_at_its_expiry_even_if_the_file_never_changes(path: Path, clock: Clock) -> None:
    key = create_key(path, name="ci-bot", expires=timedelta(hours=1), now=NOW)
    store = KeyStore(path, clock=clock)  # the default reload interval: the file is not looked at again
    clock.now = NOW + timedelta(minutes=59, seconds=59)
    assert store.authenticate(key) is not None
    clock.now = NOW + timedelta(hours=1)
    assert store.authenticate(key) is None


def test_during_a_rotation_both_keys_are_the_same_principal_until_the_deadline(
    path: Path, clock: Clock
) -> None:
    old = create_key(path, name="ci-bot", now=NOW)
    store = store_for(path, clock)
    new = rotate_key(path, "ci-bot", overlap=timedelta(hours=2), now=NOW)
    old_match, new_match = store.authenticate(old), store.authenticate(new)
    assert old_match is not None and new_match is not None
    assert (old_match.principal.id, old_match.principal.scopes) == (
        new_match.principal.id,
        new_match.principal.scopes,
    )
    assert old_match.principal.credential_id == old_match.key_id
    assert new_match.principal.credential_id == new_match.key_id != old_match.key_id
    clock.now = NOW + timedelta(hours=2)
    assert store.authenticate(old) is None
    assert store.authenticate(new) is not None


def test_a_revoked_key_stops_at_the_next_look_at_the_file(path: Path, clock: Clock) -> None:
    key = create_key(path, name="ci-bot", now=NOW)
    kept = create_key(path, name="kept", now=NOW)
    store = store_for(path, clock)
    assert store.authenticate(key) is not None
    revoke_key(path, "ci-bot", now=NOW)
    assert store.authenticate(key) is None
    assert store.authenticate(kept) is not None


def test_a_change_within_the_same_mtime_is_still_seen(path: Path, clock: Clock) -> None:
    create_key(path, name="a", now=NOW)
    store = store_for(path, clock)
    before = path.stat()
    key = create_key(path, name="b", now=NOW)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert store.authenticate(key) is not None


def test_the_file_is_looked_at_no_more_than_once_per_interval(path: Path, clock: Clock) -> None:
    create_key(path, name="a", now=NOW)
    store = KeyStore(path, clock=clock, reload_interval_s=3600)
    key = create_key(path, name="b", now=NOW)
    assert store.authenticate(key) is None


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda p: p.unlink(), id="deleted"),
        pytest.param(lambda p: p.write_text("{"), id="not-json"),
        pytest.param(lambda p: p.chmod(0o660), id="group-writable"),
    ],
)
def test_a_damaged_file_authenticates_nobody_until_it_is_fixed(
    path: Path, clock: Clock, damage: Callable[[Path], object], caplog: pytest.LogCaptureFixture
) -> None:
    key = create_key(path, name="ci-bot", now=NOW)
    good = path.read_bytes()
    store = store_for(path, clock)
    damage(path)
    with caplog.at_level(logging.ERROR, logger="gateway.edge.keys"):
        assert store.authenticate(key) is None
        assert store.authenticate(key) is None  # still refused; logged once
    assert [record.getMessage() for record in caplog.records] == [
        "keys file refused; no key authenticates until it is fixed"
    ]
    path.unlink(missing_ok=True)
    path.write_bytes(good)
    path.chmod(0o600)
    assert store.authenticate(key) is not None


def test_the_gateway_refuses_to_start_on_a_file_others_can_write(path: Path) -> None:
    create_key(path, name="ci-bot", now=NOW)
    path.chmod(0o602)
    with pytest.raises(KeyStoreError, match="writable by group or others"):
        KeyStore(path)


def test_a_file_others_can_read_is_used_with_a_warning(path: Path, caplog: pytest.LogCaptureFixture) -> None:
    key = create_key(path, name="ci-bot", now=NOW)
    path.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="gateway.edge.keys"):
        store = KeyStore(path)
    assert store.authenticate(key) is not None
    assert [record.getMessage() for record in caplog.records] == [
        f"keys file {path} is readable by group or others (mode 0644): chmod 600 {path}"
    ]


def test_an_old_format_file_authenticates(path: Path, clock: Clock) -> None:
    key = "aegis_" + "k" * 43
    legacy = {
        "name": "old-bot",
        "sha256": keys_module.hash_key(key),
        "scopes": ["tools:read"],
        "created": "2025-01-02T03:04:05Z",
    }
    path.write_text(json.dumps({"version": 1, "keys": [legacy]}))
    path.chmod(0o600)
    match = store_for(path, clock).authenticate(key)
    assert match is not None and match.principal.id == "old-bot" and match.rate_limit is None


def test_a_key_is_found_by_its_id_only_while_it_is_live(path: Path, clock: Clock) -> None:
    key = create_key(path, name="reviewer", scopes=("admin",), now=NOW)
    store = store_for(path, clock)
    match = store.authenticate(key)
    assert match is not None
    found = store.live(match.key_id)
    assert found is not None and found.principal.id == "reviewer" and found.principal.scopes == ("admin",)
    assert store.live("0" * 12) is None
    revoke_key(path, "reviewer", now=NOW)
    assert store.live(match.key_id) is None
