"""Locating secrets: the same secrets the scan masks, each with the line it starts on and a digest of its
characters, never the characters themselves."""

from __future__ import annotations

import hashlib

from gateway.sanitize import LocatedSecret, locate_secrets, scan_text
from tests.unit.sanitize.fakes import GITHUB_TOKEN, PASSWORD, private_key


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def test_each_secret_is_located_by_its_first_line_kind_and_digest() -> None:
    key = private_key()
    text = f"# settings\n\n{key}\nTOKEN_NOTE = 1\ngithub = {GITHUB_TOKEN}\n"
    assert locate_secrets(text) == (
        LocatedSecret("private_key", 3, digest(key)),
        LocatedSecret("github_token", 3 + key.count("\n") + 2, digest(GITHUB_TOKEN)),
    )


def test_what_is_located_is_what_the_scan_masks() -> None:
    text = f'password = "{PASSWORD}"\nx = 1\n{private_key("EC ")}\nend {GITHUB_TOKEN}'
    assert tuple(found.kind for found in locate_secrets(text)) == scan_text(text).kinds


def test_invisible_characters_neither_hide_a_secret_nor_change_its_digest_or_line() -> None:
    split = GITHUB_TOKEN[:10] + "\u200b" + GITHUB_TOKEN[10:]
    assert locate_secrets(f"a\r\x0cb\n{split}") == (LocatedSecret("github_token", 2, digest(GITHUB_TOKEN)),)


def test_different_secrets_have_different_digests_and_none_shows_the_secret() -> None:
    other = GITHUB_TOKEN[:-1] + "Z"
    found = locate_secrets(f"{GITHUB_TOKEN}\n{other}\n")
    assert found[0].digest != found[1].digest
    assert not any(GITHUB_TOKEN[4:] in repr(item) or other[4:] in repr(item) for item in found)


def test_text_without_secrets_has_none() -> None:
    assert locate_secrets("def main():\n    return 0\n") == ()
