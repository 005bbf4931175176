from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from gateway.edge.keys import KeyStore, create_key, hash_key
from gateway.errors import KeyStoreError


def test_created_key_is_stored_only_as_a_hash(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    key = create_key(path, name="ci-bot")
    assert key.startswith("aegis_") and len(key) > 40
    stored = path.read_text()
    assert key not in stored
    assert json.loads(stored)["keys"][0]["sha256"] == hash_key(key)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_store_authenticates_only_the_right_key(tmp_path: Path) -> None:
    path = tmp_path / "keys.json"
    key = create_key(path, name="ci-bot", scopes=("tools:read",))
    store = KeyStore(path)
    principal = store.authenticate(key)
    assert principal is not None and (principal.id, principal.scopes) == ("ci-bot", ("tools:read",))
    assert store.authenticate(key + "x") is None
    assert store.authenticate("") is None


@pytest.mark.parametrize(
    ("name", "scopes", "message"),
    [("Bad Name", ("tools:read",), "must match"), ("ok", ("root",), "unknown scopes")],
)
def test_bad_names_and_scopes_are_refused(
    tmp_path: Path, name: str, scopes: tuple[str, ...], message: str
) -> None:
    with pytest.raises(KeyStoreError, match=message):
        create_key(tmp_path / "keys.json", name=name, scopes=scopes)


def test_duplicate_names_are_refused(tmp_path: Path) -> None:
    create_key(tmp_path / "keys.json", name="a")
    with pytest.raises(KeyStoreError, match="already exists"):
        create_key(tmp_path / "keys.json", name="a")


def test_missing_or_malformed_file_fails_closed(tmp_path: Path) -> None:
    with pytest.raises(KeyStoreError, match="does not exist"):
        KeyStore(tmp_path / "absent.json")
    bad = tmp_path / "bad.json"
    bad.write_text('{"version": 1, "keys": [{"name": "x", "sha256": "zz", "scopes": [], "created": ""}]}')
    with pytest.raises(KeyStoreError, match="bad hash"):
        KeyStore(bad)
