"""The keys file: create, list, revoke and rotate keys; what is stored, what is refused."""

from __future__ import annotations

import json
import stat
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.edge.keys import (
    KeyRateLimit,
    StoredKey,
    create_key,
    exposure_warning,
    hash_key,
    load_keys,
    parse_duration,
    parse_expiry,
    revoke_key,
    rotate_key,
)
from gateway.errors import KeyStoreError
from gateway.vocabulary import QuotaOverride, WriteQuota

NOW = datetime(2026, 11, 21, 10, 0, tzinfo=UTC)
LEGACY_HASH = "ab" * 32


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "keys.json"


def entries(path: Path) -> list[dict[str, Any]]:
    keys: list[dict[str, Any]] = json.loads(path.read_text())["keys"]
    return keys


def only(path: Path, name: str) -> StoredKey:
    (found,) = [stored for stored in load_keys(path) if stored.name == name]
    return found


def test_created_key_is_stored_only_as_a_hash(path: Path) -> None:
    key = create_key(path, name="ci-bot", now=NOW)
    assert key.startswith("aegis_") and len(key) == 49
    assert key not in path.read_text()
    (entry,) = entries(path)
    assert entry["sha256"] == hash_key(key)
    assert entry["created"] == "2026-11-21T10:00:00Z" and entry["scopes"] == ["tools:read"]
    assert len(entry["id"]) == 12 and int(entry["id"], 16) >= 0
    assert (entry["expires"], entry["revoked"], entry["rate"], entry["burst"]) == (None, None, None, None)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_expiry_and_rate_limit_are_stored(path: Path) -> None:
    create_key(
        path,
        name="ci-bot",
        scopes=("tools:read", "tools:write", "tools:read"),
        expires=timedelta(days=30),
        rate_limit=KeyRateLimit(rate_per_s=2.5, burst=5),
        now=NOW,
    )
    stored = only(path, "ci-bot")
    assert stored.scopes == ("tools:read", "tools:write")
    assert stored.expires == NOW + timedelta(days=30)
    assert stored.rate_limit == KeyRateLimit(rate_per_s=2.5, burst=5)


def test_write_quotas_are_stored_and_kept_by_rotation(path: Path) -> None:
    quota = QuotaOverride(writes_per_day=3, max_write_bytes=2048)
    create_key(path, name="writer", scopes=("tools:write",), write_quota=quota, now=NOW)
    assert entries(path)[0]["quota"] == {"writes_per_day": 3, "max_write_bytes": 2048}
    rotate_key(path, "writer", now=NOW + timedelta(hours=1))
    assert [stored.write_quota for stored in load_keys(path)] == [quota, quota]
    effective = quota.over(WriteQuota(writes_per_day=100, write_bytes_per_day=9999, max_write_bytes=1 << 20))
    assert effective == WriteQuota(writes_per_day=3, write_bytes_per_day=9999, max_write_bytes=2048)


@pytest.mark.parametrize("quota", [{"writes_per_day": 0}, {"writes_per_day": "3"}, {"per_hour": 3}, [3]])
def test_malformed_write_quotas_make_the_file_unusable(path: Path, quota: object) -> None:
    create_key(path, name="writer", now=NOW)
    document = json.loads(path.read_text())
    document["keys"][0]["quota"] = quota
    path.write_text(json.dumps(document))
    with pytest.raises(KeyStoreError, match="quota"):
        load_keys(path)


@pytest.mark.parametrize(
    ("name", "scopes", "expires", "message"),
    [
        pytest.param("Bad Name", ("tools:read",), None, "must match", id="bad-name"),
        pytest.param("ok", ("root",), None, "unknown scopes: root", id="unknown-scope"),
        pytest.param("ok", (), None, "at least one scope", id="no-scope"),
        pytest.param("ok", ("tools:read",), NOW, "not in the future", id="expiry-now"),
        pytest.param("ok", ("tools:read",), timedelta(0), "not in the future", id="zero-duration"),
    ],
)
def test_bad_keys_are_refused_and_nothing_is_written(
    path: Path, name: str, scopes: tuple[str, ...], expires: datetime | timedelta | None, message: str
) -> None:
    with pytest.raises(KeyStoreError, match=message):
        create_key(path, name=name, scopes=scopes, expires=expires, now=NOW)
    assert not path.exists()


def test_a_live_name_is_refused_but_a_revoked_one_can_be_reissued(path: Path) -> None:
    create_key(path, name="a", now=NOW)
    with pytest.raises(KeyStoreError, match=r"a key named 'a' already exists \(use `aegis keys rotate a`\)"):
        create_key(path, name="a", now=NOW)
    revoke_key(path, "a", now=NOW)
    create_key(path, name="a", now=NOW)
    assert [stored.state(NOW) for stored in load_keys(path)] == ["revoked", "active"]


def test_an_expired_name_can_be_reissued(path: Path) -> None:
    create_key(path, name="a", expires=timedelta(hours=1), now=NOW)
    create_key(path, name="a", now=NOW + timedelta(hours=1))
    assert [stored.state(NOW + timedelta(hours=1)) for stored in load_keys(path)] == ["expired", "active"]


@pytest.mark.parametrize(
    ("text", "want"),
    [
        pytest.param("30d", timedelta(days=30), id="days"),
        pytest.param("12h", timedelta(hours=12), id="hours"),
        pytest.param("90m", timedelta(minutes=90), id="minutes"),
        pytest.param("2026-12-31T23:59:59Z", datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC), id="utc"),
        pytest.param("2027-01-01T01:00:00+02:00", datetime(2026, 12, 31, 23, 0, tzinfo=UTC), id="offset"),
    ],
)
def test_expiries_parse(text: str, want: datetime | timedelta) -> None:
    assert parse_expiry(text) == want


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("30", id="no-unit"),
        pytest.param("1w", id="weeks"),
        pytest.param("-1d", id="negative"),
        pytest.param("2026-12-31T23:59:59", id="no-offset"),
        pytest.param("20261231T235959Z", id="basic-iso-format"),
        pytest.param("2026-12-31", id="date-only"),
    ],
)
def test_bad_expiries_are_refused(text: str) -> None:
    with pytest.raises(KeyStoreError, match="neither an RFC 3339 time"):
        parse_expiry(text)


def test_bad_durations_are_refused() -> None:
    with pytest.raises(KeyStoreError, match=r"'1\.5h' is not a duration like 30d, 12h, 90m or 45s"):
        parse_duration("1.5h")


@pytest.mark.parametrize(
    ("rate", "burst", "message"),
    [
        pytest.param(0.0, 1, "rate must be a positive number", id="zero-rate"),
        pytest.param(float("nan"), 1, "rate must be a positive number", id="nan-rate"),
        pytest.param(float("inf"), 1, "rate must be a positive number", id="infinite-rate"),
        pytest.param(1.0, 0, "burst must be a positive integer", id="zero-burst"),
    ],
)
def test_bad_rate_limits_are_refused(rate: float, burst: int, message: str) -> None:
    with pytest.raises(KeyStoreError, match=message):
        KeyRateLimit(rate_per_s=rate, burst=burst)


def test_revoking_a_name_revokes_all_its_keys_and_keeps_them_listed(path: Path) -> None:
    create_key(path, name="a", now=NOW)
    rotate_key(path, "a", now=NOW)
    create_key(path, name="b", now=NOW)
    revoked = revoke_key(path, "a", now=NOW + timedelta(minutes=1))
    assert len(revoked) == 2 and {stored.name for stored in revoked} == {"a"}
    assert [(entry["name"], entry["revoked"]) for entry in entries(path)] == [
        ("a", "2026-11-21T10:01:00Z"),
        ("a", "2026-11-21T10:01:00Z"),
        ("b", None),
    ]


def test_revoking_by_id_revokes_only_that_key(path: Path) -> None:
    create_key(path, name="a", now=NOW)
    rotate_key(path, "a", now=NOW)
    old, _ = load_keys(path)
    (revoked,) = revoke_key(path, "a", key_id=old.id, now=NOW)
    assert revoked.id == old.id
    assert [stored.state(NOW) for stored in load_keys(path)] == ["revoked", "active"]


@pytest.mark.parametrize(
    ("name", "key_id", "message"),
    [
        pytest.param("nobody", None, "no key named 'nobody'", id="unknown-name"),
        pytest.param("a", "000000000000", "no key named 'a' has id '000000000000'", id="unknown-id"),
        pytest.param("gone", None, "every key named 'gone' is already revoked", id="already-revoked"),
    ],
)
def test_revoking_what_is_not_there_fails(path: Path, name: str, key_id: str | None, message: str) -> None:
    create_key(path, name="a", now=NOW)
    create_key(path, name="gone", now=NOW)
    revoke_key(path, "gone", now=NOW)
    before = path.read_bytes()
    with pytest.raises(KeyStoreError, match=message):
        revoke_key(path, name, key_id=key_id, now=NOW)
    assert path.read_bytes() == before


def test_rotation_issues_the_next_key_and_ends_the_old_one_after_the_overlap(path: Path) -> None:
    old_key = create_key(
        path, name="ci-bot", scopes=("tools:write",), rate_limit=KeyRateLimit(rate_per_s=1, burst=2), now=NOW
    )
    new_key = rotate_key(path, "ci-bot", overlap=timedelta(hours=2), now=NOW)
    assert new_key != old_key and new_key.startswith("aegis_")
    old, new = load_keys(path)
    assert (old.sha256, new.sha256) == (hash_key(old_key), hash_key(new_key))
    assert (old.expires, old.rotated_to, old.state(NOW)) == (NOW + timedelta(hours=2), new.id, "rotating")
    assert old.state(NOW + timedelta(hours=2)) == "expired"
    assert (new.name, new.scopes, new.rate_limit) == (old.name, old.scopes, old.rate_limit)
    assert (new.expires, new.state(NOW), new.id != old.id) == (None, "active", True)


def test_rotation_never_extends_an_earlier_expiry(path: Path) -> None:
    create_key(path, name="a", expires=timedelta(hours=1), now=NOW)
    rotate_key(path, "a", overlap=timedelta(hours=24), now=NOW)
    old, _ = load_keys(path)
    assert old.expires == NOW + timedelta(hours=1)


def test_rotation_keeps_the_lifetime_unless_told_otherwise(path: Path) -> None:
    create_key(path, name="a", expires=timedelta(days=90), now=NOW)
    later = NOW + timedelta(days=80)
    rotate_key(path, "a", now=later)
    assert load_keys(path)[1].expires == later + timedelta(days=90)
    rotate_key(path, "a", expires=timedelta(days=7), now=later + timedelta(hours=1))
    assert [stored.expires for stored in load_keys(path)] == [
        later + timedelta(days=1),  # the first overlap deadline, kept
        later + timedelta(days=1, hours=1),  # the second overlap deadline
        later + timedelta(days=7, hours=1),
    ]


@pytest.mark.parametrize(
    ("name", "overlap", "message"),
    [
        pytest.param("nobody", timedelta(hours=1), "no live key named 'nobody' to rotate", id="unknown-name"),
        pytest.param("expired", timedelta(hours=1), "no live key named 'expired'", id="only-expired"),
        pytest.param("a", timedelta(hours=-1), "overlap cannot be negative", id="negative-overlap"),
    ],
)
def test_rotating_what_cannot_be_rotated_fails(
    path: Path, name: str, overlap: timedelta, message: str
) -> None:
    create_key(path, name="a", now=NOW)
    create_key(path, name="expired", expires=timedelta(minutes=1), now=NOW)
    before = path.read_bytes()
    with pytest.raises(KeyStoreError, match=message):
        rotate_key(path, name, overlap=overlap, now=NOW + timedelta(minutes=1))
    assert path.read_bytes() == before


def test_summary_shows_everything_but_the_hash(path: Path) -> None:
    create_key(path, name="a", expires=timedelta(days=1), rate_limit=KeyRateLimit(0.5, 3), now=NOW)
    stored = only(path, "a")
    summary = stored.summary(NOW + timedelta(hours=3))
    assert summary == {
        "name": "a",
        "id": stored.id,
        "scopes": ["tools:read"],
        "created": "2026-11-21T10:00:00Z",
        "age_s": 3 * 3600,
        "expires": "2026-11-22T10:00:00Z",
        "revoked": None,
        "state": "active",
        "rotated_to": None,
        "rate": 0.5,
        "burst": 3,
        "quota": {},
    }
    assert stored.sha256 not in repr(stored)


def test_a_file_without_the_new_fields_still_loads_and_keeps_its_ids(path: Path) -> None:
    legacy = {
        "name": "old-bot",
        "sha256": LEGACY_HASH,
        "scopes": ["tools:read"],
        "created": "2025-01-02T03:04:05Z",
    }
    path.write_text(json.dumps({"version": 1, "keys": [legacy]}))
    path.chmod(0o600)
    (stored,) = load_keys(path)
    assert (stored.name, stored.created, stored.expires, stored.revoked, stored.rate_limit) == (
        "old-bot",
        datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        None,
        None,
        None,
    )
    assert load_keys(path)[0].id == stored.id  # derived from the hash: the same at every read
    create_key(path, name="new-bot", now=NOW)
    assert entries(path)[0] == {
        **legacy,
        "id": stored.id,
        "expires": None,
        "revoked": None,
        "rotated_to": None,
        "rate": None,
        "burst": None,
    }


def doc(*changes: dict[str, Any]) -> dict[str, Any]:
    """A keys document with one entry per `changes` (a value of ... removes that field)."""
    base = {"name": "a", "sha256": LEGACY_HASH, "scopes": ["tools:read"], "created": "2026-01-01T00:00:00Z"}
    keys = [{k: v for k, v in {**base, **change}.items() if v is not ...} for change in changes]
    return {"version": 1, "keys": keys}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        pytest.param("not json", "is not JSON", id="not-json"),
        pytest.param(b"\xff\xfe", "is not JSON", id="not-utf8"),
        pytest.param([], "not a version 1 keys document", id="a-list"),
        pytest.param({"version": 2, "keys": []}, "not a version 1 keys document", id="version-2"),
        pytest.param({"version": 1, "keys": {}}, "not a version 1 keys document", id="keys-not-a-list"),
        pytest.param({"version": 1, "keys": [], "x": 1}, "not a version 1 keys document", id="extra-member"),
        pytest.param({"version": 1, "keys": ["a"]}, "entry 0: not an object", id="entry-not-object"),
        pytest.param(doc({"owner": "x"}), r"entry 0: unknown fields \['owner'\]", id="unknown-field"),
        pytest.param(doc({"created": ...}), r"entry 0: missing fields \['created'\]", id="missing-field"),
        pytest.param(doc({"name": "A B"}), "entry 0: bad name", id="bad-name"),
        pytest.param(doc({"sha256": "zz"}), "entry 0: bad hash for 'a'", id="bad-hash"),
        pytest.param(doc({"scopes": ["root"]}), "entry 0: bad scope for 'a'", id="unknown-scope"),
        pytest.param(doc({"scopes": "tools:read"}), "entry 0: bad scope for 'a'", id="scopes-not-a-list"),
        pytest.param(doc({"id": "XYZ"}), "entry 0: bad id for 'a'", id="bad-id"),
        pytest.param(doc({"rotated_to": 7}), "entry 0: bad id for 'a'", id="bad-rotated-to"),
        pytest.param(doc({"created": "yesterday"}), "entry 0: bad time 'yesterday'", id="bad-created"),
        pytest.param(doc({"expires": "2026-01-01"}), "entry 0: bad time '2026-01-01'", id="bad-expires"),
        pytest.param(doc({"revoked": 1}), "entry 0: bad time 1", id="bad-revoked"),
        pytest.param(doc({"rate": 1.0}), "entry 0: rate and burst must be numbers", id="rate-alone"),
        pytest.param(
            doc({"rate": 1, "burst": True}), "entry 0: rate and burst must be numbers", id="bool-burst"
        ),
        pytest.param(
            doc({"rate": "1", "burst": 1}), "entry 0: rate and burst must be numbers", id="string-rate"
        ),
        pytest.param(
            doc({"rate": -1, "burst": 1}), "entry 0: rate must be a positive number", id="negative-rate"
        ),
        pytest.param(
            doc({"id": "0" * 12}, {"name": "b", "sha256": "cd" * 32, "id": "0" * 12}),
            "two entries have the same id",
            id="duplicate-id",
        ),
        pytest.param(doc({}, {"name": "b"}), "two entries have the same sha256", id="duplicate-hash"),
    ],
)
def test_corrupted_or_foreign_files_are_refused(path: Path, content: Any, message: str) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    path.chmod(0o600)
    with pytest.raises(KeyStoreError, match=message):
        load_keys(path)
    with pytest.raises(KeyStoreError, match=message):
        create_key(path, name="z", now=NOW)


def test_a_missing_file_is_refused_except_by_create(path: Path) -> None:
    with pytest.raises(KeyStoreError, match="does not exist"):
        load_keys(path)
    with pytest.raises(KeyStoreError, match="does not exist"):
        revoke_key(path, "a")
    with pytest.raises(KeyStoreError, match="does not exist"):
        rotate_key(path, "a")
    create_key(path, name="a")
    assert [stored.name for stored in load_keys(path)] == ["a"]


@pytest.mark.parametrize("mode", [0o620, 0o602, 0o666], ids=["group-writable", "other-writable", "0666"])
def test_a_file_others_can_write_is_refused(path: Path, mode: int) -> None:
    create_key(path, name="a", now=NOW)
    path.chmod(mode)
    with pytest.raises(KeyStoreError, match=f"writable by group or others \\(mode 0{mode:o}\\)"):
        load_keys(path)
    with pytest.raises(KeyStoreError, match="writable by group or others"):
        create_key(path, name="b", now=NOW)


def test_a_file_others_can_read_loads_with_a_warning(path: Path) -> None:
    create_key(path, name="a", now=NOW)
    assert exposure_warning(path) is None
    path.chmod(0o640)
    assert [stored.name for stored in load_keys(path)] == ["a"]
    assert (
        exposure_warning(path)
        == f"keys file {path} is readable by group or others (mode 0640): chmod 600 {path}"
    )
    create_key(path, name="b", now=NOW)  # rewritten with mode 0600
    assert exposure_warning(path) is None


def test_writes_leave_no_temporary_files(path: Path) -> None:
    create_key(path, name="a", now=NOW)
    with pytest.raises(KeyStoreError):
        create_key(path, name="a", now=NOW)
    rotate_key(path, "a", now=NOW)
    assert sorted(p.name for p in path.parent.iterdir()) == ["keys.json", "keys.json.lock"]


def test_concurrent_creates_lose_nothing(path: Path) -> None:
    names = [f"bot-{index}" for index in range(16)]
    barrier = threading.Barrier(len(names))
    failures: list[BaseException] = []

    def create(name: str) -> None:
        barrier.wait()
        try:
            for round_ in range(3):
                create_key(path, name=f"{name}.{round_}")
        except BaseException as exc:  # reported below, from the test's thread
            failures.append(exc)

    threads = [threading.Thread(target=create, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    stored = load_keys(path)
    assert sorted(s.name for s in stored) == sorted(f"{name}.{r}" for name in names for r in range(3))
    assert len({s.id for s in stored}) == len(stored)
