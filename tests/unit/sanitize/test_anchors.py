"""The anchored scan finds exactly what trying every pattern at every position finds (`FullScan`, the
definition), detector by detector: on every secret and non-secret of the other sanitize tests, and on
random text with secrets, anchors and pieces of secrets at random places, across line breaks and at the
text's edges, in any script, with invisible characters."""

from __future__ import annotations

import re
import string
import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.sanitize._anchors import FOLDS_BEYOND_ASCII, AnchoredScan, FullScan
from gateway.sanitize._detectors import ANCHORS, DETECTORS
from gateway.sanitize._secrets import mask_secrets
from tests.unit.sanitize import fakes
from tests.unit.sanitize.test_detectors import ADVERSARIAL, TRUE_NEGATIVES, TRUE_POSITIVES
from tests.unit.sanitize.test_key_bodies import BODY
from tests.unit.sanitize.test_properties import INVISIBLE, SECRETS


def assert_same_spans(text: str) -> None:
    scan = AnchoredScan(text, ANCHORS)
    full = [list(detector(FullScan(text))) for detector in DETECTORS]
    assert [list(detector(scan)) for detector in DETECTORS] == full
    if scan.anchorless:
        assert full == [[] for _ in DETECTORS]


_FAKES = [value for name, value in vars(fakes).items() if name.isupper() and isinstance(value, str)]
_KNOWN = [
    *(case.values[0] for case in TRUE_POSITIVES),
    *(case.values[0] for case in TRUE_NEGATIVES),
    *_FAKES,
    fakes.private_key(),
    fakes.private_key("", "----"),
    "\n".join(BODY) + "\n",
    "see a" + "b" * 20 + "://user:Tr0ub4dor&3@host and xa" + "b" * 20 + "://user:Tr0ub4dor&3@host",
    "-----BEGIN CERTIFICATE-----\n" + "\n".join(BODY[:4]) + "\n-----END CERTIFICATE-----\n",
]


@pytest.mark.parametrize("text", _KNOWN)
def test_the_secrets_and_non_secrets_of_the_other_tests(text: str) -> None:
    for variant in (text, f"x{text}", f"{text}x", f"{text}\n{text}", f"é{text}\u212a"):
        assert_same_spans(variant)


@pytest.mark.parametrize("unit", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_dense_anchors_and_their_sparse_neighbours(unit: str) -> None:
    """Many occurrences of an anchor make the scan search the whole text; a few of them it tries around."""
    assert_same_spans(unit * 200)
    assert_same_spans(f"{unit} {'The quick brown fox jumps over the lazy dog. ' * 20}{unit}" * 3)


# Pieces of secrets and of their surroundings: anchors that overlap, secrets cut short, names without values.
_PIECES = [
    "://", "https://", "u:p@", "@", "eyJ", "eyJhbGciOiJIUzI1NiJ9", ".", "ghp_", "github_pat_", "glpat-",
    "GR1348941", "xoxb-", "xapp-1-", "AKIA", "A3TX", "https://hooks.slack.com/services/", "-----BEGIN ",
    "----BEGIN ", "-----END ", "RSA ", "PRIVATE KEY", "-----", "----", "Authorization", ": Bearer ",
    "AUTHOR\u0130ZAT\u0131ON", "token", "to\u212aen", "pa\u017f\u017fword", "password", "passecretoken",
    "api_key", "API-KEY", "private_key", "credentials", "=", ": ", '"', "'", "`", ",", ";", "&", "<", "</",
    " ", "\t", "\n", "\r\n", "+ ", "- ", "@@ -1,3 +1,3 @@ ", "\\ No newline at end of file", "==",
    BODY[0], BODY[1][:30], "0123456789abcdef" * 3, fakes.KEY_BODY, string.ascii_letters + string.digits,
    "é", "中文", "\U0001f600",
]  # fmt: skip
_CHUNKS = st.one_of(
    st.sampled_from(_PIECES),
    st.sampled_from(INVISIBLE),
    st.text(st.characters(codec="utf-8"), max_size=8),
    st.text(string.ascii_letters + string.digits + "+/=_-.", min_size=1, max_size=90),
    SECRETS.map(lambda secret: secret[0]),
)


@given(st.lists(_CHUNKS, max_size=40))
def test_random_text_of_secrets_and_their_pieces(chunks: list[str]) -> None:
    assert_same_spans("".join(chunks))


@given(st.text(max_size=300), SECRETS, st.integers(min_value=0), st.sampled_from(["", "\n", " ", "x"]))
def test_a_secret_at_any_offset_of_any_text(
    text: str, secret: tuple[str, str], offset: int, edge: str
) -> None:
    at = offset % (len(text) + 1)
    assert_same_spans(f"{text[:at]}{edge}{secret[0]}{edge}{text[at:]}")
    assert_same_spans(secret[0] + text)
    assert_same_spans(text + secret[0])


def test_texts_that_are_not_text_are_scanned_too() -> None:
    """Lone surrogates (mask_secrets may get them before they are stripped) are read as `?` by RE2."""
    text = "\ud800ghp_" + "R8kq2Lm9Xz" * 4 + "\udfff password = 'Tr0ub4dor&3'"
    assert_same_spans(text)
    assert mask_secrets(text)[1] == ("github_token", "assigned_secret")


def test_python_folds_exactly_these_ascii_letters_to_other_characters() -> None:
    """An anchor for a case-insensitive pattern takes `?` (any non-ASCII character) for these letters only:
    Python's case-insensitive matching finds no other ASCII letter in a non-ASCII character."""
    codes = (code for code in range(0x80, sys.maxunicode + 1) if not 0xD800 <= code <= 0xDFFF)
    beyond_ascii = "".join(map(chr, codes))
    folding = {letter for letter in string.ascii_lowercase if re.search(f"(?i){letter}", beyond_ascii)}
    assert folding == set(FOLDS_BEYOND_ASCII)
