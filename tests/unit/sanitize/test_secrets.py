from __future__ import annotations

import pytest

from gateway.sanitize._secrets import mask_secrets
from tests.unit.sanitize.fakes import GITEA_TOKEN, GITHUB_TOKEN, JWT, PASSWORD, private_key


@pytest.mark.parametrize(
    ("text", "masked", "kinds"),
    [
        pytest.param(
            f"GITHUB_TOKEN={GITHUB_TOKEN}",
            "GITHUB_TOKEN=[REDACTED:github_token]",
            ("github_token",),
            id="token-in-assignment",
        ),
        pytest.param(
            f"Authorization: Bearer {JWT}",
            "Authorization: Bearer [REDACTED:jwt]",
            ("jwt",),
            id="jwt-in-header",
        ),
        pytest.param(
            f"password = '{GITHUB_TOKEN}'",
            "password = '[REDACTED:github_token]'",
            ("github_token",),
            id="token-as-password",
        ),
        pytest.param(
            f"{private_key()}\ntoken={GITEA_TOKEN}",
            "[REDACTED:private_key]\n\n\n\ntoken=[REDACTED:gitea_token]",
            ("private_key", "gitea_token"),
            id="two-secrets-in-order",
        ),
        pytest.param(
            f"-----BEGIN EC PRIVATE KEY-----\npassword={PASSWORD}\n-----END EC PRIVATE KEY-----",
            "[REDACTED:private_key]\n\n",
            ("private_key",),
            id="secret-inside-a-key",
        ),
    ],
)
def test_overlapping_findings_become_one_of_the_most_specific_kind(
    text: str, masked: str, kinds: tuple[str, ...]
) -> None:
    assert mask_secrets(text) == (masked, kinds)


@pytest.mark.parametrize(
    ("name", "value", "masked", "kinds"),
    [
        pytest.param("password", PASSWORD, "[REDACTED:assigned_secret]", ("assigned_secret",), id="password"),
        pytest.param(
            "GITEA_TOKEN", GITEA_TOKEN, "[REDACTED:gitea_token]", ("gitea_token",), id="gitea-token"
        ),
        pytest.param("sha", GITEA_TOKEN, GITEA_TOKEN, (), id="sha-is-not-a-secret-name"),
        pytest.param("password", "changeme", "changeme", (), id="placeholder"),
        pytest.param("token_description", "Token for CI 2", "Token for CI 2", (), id="prose"),
        pytest.param(
            "token", f"Bearer {JWT}", "Bearer [REDACTED:jwt]", ("jwt",), id="detector-match-inside-value"
        ),
    ],
)
def test_a_value_under_a_secret_name_is_judged_whole(
    name: str, value: str, masked: str, kinds: tuple[str, ...]
) -> None:
    assert mask_secrets(value, name=name) == (masked, kinds)


def test_without_a_name_a_bare_value_is_not_judged() -> None:
    assert mask_secrets(PASSWORD) == (PASSWORD, ())


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(f"token={GITEA_TOKEN}", id="assignment"),
        pytest.param(f"url: https://u:{PASSWORD}@host", id="url"),
        pytest.param(f"{GITHUB_TOKEN}{'a' * 300}", id="overlong-token"),
        pytest.param(f"secret: {PASSWORD}{GITHUB_TOKEN}", id="adjacent"),
    ],
)
def test_masking_twice_finds_nothing_new(text: str) -> None:
    masked, kinds = mask_secrets(text)
    assert kinds
    assert mask_secrets(masked) == (masked, ())
