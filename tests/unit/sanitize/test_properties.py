"""Properties over arbitrary JSON-like results with secrets planted at random places, split by invisible
characters at random points."""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Iterator
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from gateway.sanitize import SecretMode, sanitize_output
from tests.json_strings import strings_in
from tests.unit.sanitize.fakes import KEY_BODY, jwt

Planted = tuple[Any, tuple[str, ...]]  # a value and the secrets planted in it

INVISIBLE = [
    "\u202a", "\u202e", "\u2066", "\u2069", "\u200e", "\u200f", "\u061c", "\u200b", "\u200c", "\u200d",
    "\u2060", "\u2064", "\ufeff", "\u180e", "\u00ad", "\U000e0041", "\U000e007f", "\x00", "\x1b", "\x7f",
    "\x85", "\x9f", "\ud800",
]  # fmt: skip


def _survives_stripping(char: str) -> bool:
    """Independent of the implementation: the characters the brief says must not reach an agent."""
    code = ord(char)
    return not (
        (unicodedata.category(char) in {"Cc", "Cs"} and char not in "\t\n\r")
        or 0x202A <= code <= 0x202E
        or 0x2066 <= code <= 0x2069
        or 0x200B <= code <= 0x200F
        or 0x2060 <= code <= 0x2064
        or 0xE0000 <= code <= 0xE007F
        or code in {0x061C, 0xFEFF, 0x180E, 0x00AD}
    )


def _text(alphabet: str, size: int) -> st.SearchStrategy[str]:
    return st.text(alphabet, min_size=size, max_size=size)


_ALNUM = string.ascii_letters + string.digits
_HEX_TOKENS = st.text("0123456789abcdef", min_size=40, max_size=40).filter(lambda token: len(set(token)) >= 8)
_PASSWORDS = st.sampled_from(["Tr0ub4dor&3", "Password1", "s3cr3t!Xq", "k9D2mX7qL4", "hunter2!"])
_PASSWORD_NAMES = st.sampled_from(["DB_PASSWORD", "password", "client_secret", "api_key", "SECRET_KEY"])
_ASSIGNMENT_FORMS = st.sampled_from(["{}={}", "{}: {}", '"{}": "{}"', "{} = '{}'", "<{0}>{1}</{0}>"])

# Each draws (the text to plant, the secret that must not survive). A random token uses most of its
# alphabet; forty zeros is a placeholder.
SECRETS = st.one_of(
    _text(_ALNUM, 36).map(lambda body: ("ghp_" + body,) * 2),
    _text(string.ascii_uppercase + string.digits, 16).map(lambda body: ("AKIA" + body,) * 2),
    _text(_ALNUM + "_-", 20).map(lambda body: ("glpat-" + body,) * 2),
    _text(_ALNUM, 24).map(lambda body: ("xoxb-1234567890-" + body,) * 2),
    st.dictionaries(_text(string.ascii_lowercase, 3), st.integers(), max_size=3).map(lambda c: (jwt(c),) * 2),
    _HEX_TOKENS.map(lambda token: (f"GITEA_TOKEN={token}", token)),
    _HEX_TOKENS.map(lambda token: (f"Authorization: token {token}", token)),
    _PASSWORDS.map(lambda password: (f"https://deploy:{password}@gitea.example.com", password)),
    st.tuples(_ASSIGNMENT_FORMS, _PASSWORD_NAMES, _PASSWORDS).map(
        lambda drawn: (drawn[0].format(drawn[1], drawn[2]), drawn[2])
    ),
    _text(_ALNUM + "+/", 64).map(
        lambda body: (
            f"-----BEGIN OPENSSH PRIVATE KEY-----\n{body}\n{KEY_BODY}-----END OPENSSH PRIVATE KEY-----",
            body,
        )
    ),
)
_FILLER = st.text(
    st.one_of(st.characters(codec="utf-8"), st.sampled_from(INVISIBLE + list(" =:\"'\n"))), max_size=20
)


def _insert(text: str, insertions: list[tuple[int, str]]) -> str:
    chars = list(text)
    for position, char in insertions:
        chars.insert(position % (len(chars) + 1), char)
    return "".join(chars)


# Planted on a line of its own: an unquoted value before it may not run on into it.
PLANTED: st.SearchStrategy[Planted] = st.builds(
    lambda before, secret, insertions, after: (
        f"{before}\n{_insert(secret[0], insertions)}\n{after}",
        (secret[1],),
    ),
    _FILLER,
    SECRETS,
    st.lists(st.tuples(st.integers(min_value=0), st.sampled_from(INVISIBLE)), max_size=4),
    _FILLER,
)
_STRINGS = st.one_of(_FILLER.map(lambda text: (text, ())), PLANTED)
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False)).map(
    lambda v: (v, ())
)


def _mapping(members: list[tuple[Planted, Planted]]) -> Planted:
    kept = {key: (key_secrets, value) for (key, key_secrets), value in members}  # a later key wins
    return (
        {key: value for key, (_, (value, _)) in kept.items()},
        tuple(secret for key_secrets, (_, secrets) in kept.values() for secret in (*key_secrets, *secrets)),
    )


def _sequence(items: list[Planted]) -> Planted:
    return [value for value, _ in items], tuple(secret for _, secrets in items for secret in secrets)


def _containers(children: st.SearchStrategy[Planted]) -> st.SearchStrategy[Planted]:
    return st.one_of(
        st.lists(children, max_size=4).map(_sequence),
        st.lists(st.tuples(_STRINGS, children), max_size=4).map(_mapping),
    )


DOCUMENTS = st.lists(
    st.tuples(_STRINGS, st.recursive(st.one_of(_SCALARS, _STRINGS), _containers, max_leaves=10)), max_size=5
).map(_mapping)
TEXTS = st.one_of(st.none().map(lambda _: (None, ())), _STRINGS)
MODES = st.sampled_from(["mask", "block"])


@given(DOCUMENTS, TEXTS, MODES)
def test_no_planted_secret_and_no_invisible_character_survives(
    document: Planted, text: Planted, mode: SecretMode
) -> None:
    result = sanitize_output(document[0], text[0], mode=mode)
    out = [*strings_in(result.structured), *strings_in(result.text)]
    planted = document[1] + text[1]
    assert not [secret for secret in planted if any(secret in string_ for string_ in out)]
    assert all(_survives_stripping(char) for string_ in out for char in string_)
    assert result.blocked is (mode == "block" and bool(planted))


@given(DOCUMENTS, TEXTS)
def test_sanitizing_twice_changes_nothing_more(document: Planted, text: Planted) -> None:
    once = sanitize_output(document[0], text[0], mode="mask")
    twice = sanitize_output(once.structured, once.text, mode="mask")
    assert (twice.structured, twice.text) == (once.structured, once.text)
    assert (twice.findings, twice.stripped_chars) == ((), 0)


_MARKER = re.compile(r"\n?\[\.\.\. truncated by Aegis: [0-9]+ more bytes\]\Z")


def _lists(value: Any) -> Iterator[list[Any]]:
    if isinstance(value, list):
        yield value
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    for child in children:
        yield from _lists(child)


def _values_bytes(value: Any) -> int:
    """UTF-8 bytes of the string values (not keys), truncation markers left out."""
    if isinstance(value, str):
        return len(_MARKER.sub("", value).encode())
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return sum(_values_bytes(child) for child in children)


@given(DOCUMENTS, TEXTS, st.integers(0, 200), st.integers(0, 3))
def test_outputs_stay_within_their_bounds(
    document: Planted, text: Planted, max_bytes: int, max_items: int
) -> None:
    result = sanitize_output(document[0], text[0], mode="mask", max_bytes=max_bytes, max_items=max_items)
    assert _values_bytes(result.structured) <= max_bytes
    assert _values_bytes(result.text) <= max_bytes
    assert all(len(items) <= max_items for items in _lists(result.structured))
