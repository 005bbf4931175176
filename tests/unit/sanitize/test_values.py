from __future__ import annotations

import pytest

from gateway.sanitize._values import is_placeholder, looks_like_secret, shannon_entropy


@pytest.mark.parametrize(
    ("text", "bits"),
    [("", 0.0), ("aaaa", 0.0), ("aabb", 1.0), ("abcd", 2.0), ("abcdefgh", 3.0), ("changeme", 2.75)],
)
def test_shannon_entropy_in_bits_per_character(text: str, bits: float) -> None:
    assert shannon_entropy(text) == pytest.approx(bits)


@pytest.mark.parametrize(
    "value",
    ["${DB_PASSWORD_2}", "$DB_PASSWORD", "$(cat /run/secret)", "{{ .Values.token }}", "<your-token>",
     "%API_KEY%", "%(password)s", "changeme123", "Change_Me!", "EXAMPLE-KEY-123", "your_api_key_9",
     "xxxx-1234", "[REDACTED:jwt]", "dummy-9-secret", "abababab", "********"],
)  # fmt: skip
def test_placeholders(value: str) -> None:
    assert is_placeholder(value)


@pytest.mark.parametrize("value", ["Tr0ub4dor&3", "$2b$12$R9h/cIPz0gi.URNNX3kh2O", "9c1e4b7a2f8d3e6b"])
def test_not_placeholders(value: str) -> None:
    assert not is_placeholder(value)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("Password1", id="human-password"),
        pytest.param("P@ssword!", id="symbols-no-digit"),
        pytest.param("hunter2!", id="eight-characters"),
        pytest.param("9f86d081884c7d659a2f", id="hex"),
        pytest.param("wJalrXUtnFEMI/K7MDENG+bPxRfiCY", id="base64"),
        pytest.param("$2b$12$R9h/cIPz0gi.URNNX3kh2O", id="bcrypt-hash"),
    ],
)
def test_secret_like_values(value: str) -> None:
    assert looks_like_secret(value, quoted=False)


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("hunter2", id="too-short"),
        pytest.param("correct horse 9", id="whitespace"),
        pytest.param("access_token", id="identifier"),
        pytest.param("authToken", id="camel-case"),
        pytest.param("aaaa1111", id="low-entropy"),
        pytest.param("abcabc12", id="repetitive"),
        pytest.param("123456789", id="number"),
        pytest.param("2026-11-21T10:00:00Z", id="timestamp"),
        pytest.param("192.168.100.200", id="address"),
        pytest.param("https://gitea.example.com/login/oauth/access_token", id="url"),
        pytest.param("${DB_PASSWORD_2}", id="placeholder"),
    ],
)
def test_values_that_are_not_secrets(value: str) -> None:
    assert not looks_like_secret(value, quoted=True)


@pytest.mark.parametrize("value", ["self._token2", "tokens[0]", "get_token(1)", "os.environ[KEY_2]"])
def test_code_references_count_only_when_quoted(value: str) -> None:
    assert not looks_like_secret(value, quoted=False)
    assert looks_like_secret(value, quoted=True)


@pytest.mark.parametrize(
    ("value", "placeholder"),
    [
        pytest.param("your-token-here", True, id="placeholder-words"),
        pytest.param("changeme123", True, id="placeholder-and-digits"),
        pytest.param("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", False, id="random-value-containing-example"),
        pytest.param("[REDACTED:aws_secret_access_key]", True, id="aegis-mask"),
    ],
)
def test_a_placeholder_word_inside_a_long_random_value_does_not_excuse_it(
    value: str, placeholder: bool
) -> None:
    assert is_placeholder(value) is placeholder
