"""Fake secrets in the shapes of real ones, built by concatenation so that no scanner mistakes this file
for a leak."""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def jwt(claims: Mapping[str, object]) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    return f"{header}.{_b64url(json.dumps(claims).encode())}.{_b64url(bytes(range(32)))}"


GITEA_TOKEN = "3f9a1c7e5b" + "d2804a6c9e" + "1b3d5f7a9c" + "0e2d4b6a81"
GIT_SHA = "9f86d08188" + "4c7d659a2f" + "eaa0c55ad0" + "15a3bf4f1b"
GITHUB_TOKEN = "ghp_" + "R8kq2Lm9Xz" * 3 + "T4vB7n"
GITHUB_PAT = "github_pat_" + "11ABCDEFG0123456789012" + "_" + "aB3dE6gH9j" * 5 + "kL2mN4pQ5"
GITLAB_TOKEN = "glpat-" + "Xy7Zq2Wv9R" + "t5Lm8Np3Kd"
AWS_KEY_ID = "AKIA" + "Z7Q4W2X9" + "R5T8Y3U6"
AWS_SECRET = "q8Vn3K/bR7" + "xT2mW9zL4p" + "Y6hJ1cF5dG" + "0sA+eU3iO8"
SLACK_TOKEN = "xoxb-" + "123456789012-1234567890123-" + "AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_WEBHOOK = "https://hooks.slack.com/" + "services/T0A1B2C3D/B4E5F6G7H/" + "aB3dE6gH9jK2mN4pQ5rS7tU8"
JWT = jwt({"sub": "ci-bot", "exp": 1900000000})
PASSWORD = "Tr0ub4dor" + "&3"
KEY_BODY = (
    "MIIEvQIBADANBgkqhkiG9w0B"
    + "AQEFAASCBKcwggSjAgEAAoIBAQC7\n"
    + "o4qne60TB3wolGJ8dIs0N1aY"
    + "xk0Yw2Gm9RmcJ1Vb7xZLmVIeRn8\n"
)


def private_key(label: str = "RSA ", dashes: str = "-----") -> str:
    return f"{dashes}BEGIN {label}PRIVATE KEY{dashes}\n{KEY_BODY}{dashes}END {label}PRIVATE KEY{dashes}"
