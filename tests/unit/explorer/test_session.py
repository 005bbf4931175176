"""Explorer sessions: a token names a key id and an expiry under this process's signature, and opens
only while it holds, has not expired, and its key is live."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.edge.keys import KeyStore, create_key, revoke_key
from gateway.explorer._session import Sessions


def test_a_token_opens_until_it_expires(tmp_path: Path) -> None:
    key = create_key(tmp_path / "keys.json", name="reviewer", scopes=("admin",))
    store = KeyStore(tmp_path / "keys.json", reload_interval_s=0)
    now = [1000.0]
    sessions = Sessions(store, ttl_s=60, clock=lambda: now[0])
    match = store.authenticate(key)
    assert match is not None
    token = sessions.mint(match)
    assert key not in token and "secret=***" in repr(sessions)
    opened = sessions.verify(token)
    assert opened is not None and opened.principal.id == "reviewer"
    now[0] = 1059.0
    assert sessions.verify(token) is not None
    now[0] = 1060.0
    assert sessions.verify(token) is None


@pytest.mark.parametrize(
    "forge",
    [
        lambda token: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # another signature
        lambda token: token.replace(".", ".9", 1),  # a later expiry under the old signature
        lambda token: "",
        lambda token: "a.b",
        lambda token: token + ".x",
    ],
    ids=["signature", "expiry", "empty", "too-short", "too-long"],
)
def test_a_changed_token_opens_nothing(tmp_path: Path, forge: object) -> None:
    key = create_key(tmp_path / "keys.json", name="reviewer", scopes=("admin",))
    store = KeyStore(tmp_path / "keys.json", reload_interval_s=0)
    sessions = Sessions(store)
    match = store.authenticate(key)
    assert match is not None and callable(forge)
    assert sessions.verify(forge(sessions.mint(match))) is None


def test_another_process_and_a_revoked_key_open_nothing(tmp_path: Path) -> None:
    key = create_key(tmp_path / "keys.json", name="reviewer", scopes=("admin",))
    store = KeyStore(tmp_path / "keys.json", reload_interval_s=0)
    match = store.authenticate(key)
    assert match is not None
    token = Sessions(store).mint(match)
    assert Sessions(store).verify(token) is None  # another signing key: a restart ends every session
    sessions = Sessions(store)
    token = sessions.mint(match)
    revoke_key(tmp_path / "keys.json", "reviewer")
    assert sessions.verify(token) is None
