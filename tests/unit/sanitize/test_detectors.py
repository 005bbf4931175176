from __future__ import annotations

import base64
import hashlib
import re
import time
from collections.abc import Callable, Iterator
from re import _constants as sre_constants  # type: ignore[attr-defined]
from re import _parser as sre_parser  # type: ignore[attr-defined]
from typing import cast

import pytest
import re2
from hypothesis import given
from hypothesis import strategies as st

from gateway.sanitize import SECRET_KINDS
from gateway.sanitize import _detectors as detectors
from gateway.sanitize._anchors import FullScan, caseless
from gateway.sanitize._secrets import mask_secrets, secret_spans
from tests.unit.sanitize.fakes import (
    AWS_KEY_ID,
    AWS_SECRET,
    GIT_SHA,
    GITEA_TOKEN,
    GITHUB_PAT,
    GITHUB_TOKEN,
    GITLAB_TOKEN,
    JWT,
    KEY_BODY,
    PASSWORD,
    SLACK_TOKEN,
    SLACK_WEBHOOK,
    private_key,
)

_PSEUDO_RANDOM = b"".join(hashlib.sha256(bytes([index])).digest() for index in range(100))

# A masked private key keeps its line breaks (`private_key()` spans four lines), so that the lines after
# it keep their numbers.
KEY_LINES_MASKED = "[REDACTED:private_key]\n\n\n"

# (text, the text once masked, the kinds masked)
TRUE_POSITIVES = [
    pytest.param(
        f"deploy key:\n{private_key()}\nend of file",
        f"deploy key:\n{KEY_LINES_MASKED}\nend of file",
        ("private_key",),
        id="pem-rsa",
    ),
    *(
        pytest.param(private_key(label), KEY_LINES_MASKED, ("private_key",), id=f"pem-{label or 'pkcs8'}")
        for label in ("OPENSSH ", "EC ", "DSA ", "ENCRYPTED ", "")
    ),
    pytest.param(
        f"-----BEGIN PGP PRIVATE KEY BLOCK-----\n\n{KEY_BODY}=tw3K\n-----END PGP PRIVATE KEY BLOCK-----\n",
        "[REDACTED:private_key]\n\n\n\n\n\n",
        ("private_key",),
        id="pem-pgp",
    ),
    pytest.param(
        private_key("SSH2 ENCRYPTED ", "---- ").replace("KEY---- ", "KEY ----"),
        KEY_LINES_MASKED,
        ("private_key",),
        id="pem-ssh2",
    ),
    pytest.param(
        "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,3F17F5316E2BAC89\n\n"
        f"{KEY_BODY}-----END RSA PRIVATE KEY-----",
        "[REDACTED:private_key]\n\n\n\n\n\n",
        ("private_key",),
        id="pem-legacy-encrypted",
    ),
    pytest.param(
        '{"private_key": "' + private_key().replace("\n", "\\n") + '\\n", "client_email": "ci@example.com"}',
        '{"private_key": "[REDACTED:private_key]\\n", "client_email": "ci@example.com"}',
        ("private_key",),
        id="pem-in-json-string",
    ),
    pytest.param(
        f"Fix login\n\n-----BEGIN OPENSSH PRIVATE KEY-----\n{KEY_BODY}",
        "Fix login\n\n[REDACTED:private_key]\n\n\n",
        ("private_key",),
        id="pem-truncated",
    ),
    *(
        pytest.param(
            f"export GH_TOKEN={prefix}{GITHUB_TOKEN[4:]}",
            "export GH_TOKEN=[REDACTED:github_token]",
            ("github_token",),
            id=f"github-{prefix[:3]}",
        )
        for prefix in ("ghp_", "gho_", "ghu_", "ghs_", "ghr_")
    ),
    pytest.param(
        f"token: {GITHUB_PAT}", "token: [REDACTED:github_token]", ("github_token",), id="github-pat"
    ),
    pytest.param(
        f"git clone https://oauth2:{GITHUB_TOKEN}@github.com/acme/app.git",
        "git clone https://oauth2:[REDACTED:github_token]@github.com/acme/app.git",
        ("github_token",),
        id="github-in-url",
    ),
    *(
        pytest.param(
            f"{prefix}{GITLAB_TOKEN[6:]} is set",
            "[REDACTED:gitlab_token] is set",
            ("gitlab_token",),
            id=f"gitlab-{prefix.rstrip('-')}",
        )
        for prefix in ("glpat-", "gldt-", "glrt-", "glptt-", "glft-", "GR1348941")
    ),
    *(
        pytest.param(
            f"SLACK={prefix}{SLACK_TOKEN[5:]}",
            "SLACK=[REDACTED:slack_token]",
            ("slack_token",),
            id=f"slack-{prefix.rstrip('-')}",
        )
        for prefix in ("xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-", "xapp-1-")
    ),
    pytest.param(
        f"notify:\n  url: {SLACK_WEBHOOK}\n",
        "notify:\n  url: [REDACTED:slack_webhook]\n",
        ("slack_webhook",),
        id="slack-webhook",
    ),
    pytest.param(
        f"[default]\naws_access_key_id = {AWS_KEY_ID}\naws_secret_access_key = {AWS_SECRET}\n",
        "[default]\naws_access_key_id = [REDACTED:aws_access_key_id]\n"
        "aws_secret_access_key = [REDACTED:aws_secret_access_key]\n",
        ("aws_access_key_id", "aws_secret_access_key"),
        id="aws-credentials-file",
    ),
    pytest.param(
        f'{{"AccessKeyId": "ASIA{AWS_KEY_ID[4:]}", "SecretAccessKey": "{AWS_SECRET}"}}',
        '{"AccessKeyId": "[REDACTED:aws_access_key_id]", '
        '"SecretAccessKey": "[REDACTED:aws_secret_access_key]"}',
        ("aws_access_key_id", "aws_secret_access_key"),
        id="aws-sts-json",
    ),
    pytest.param(
        f"curl -H 'Authorization: Bearer {JWT}' https://api",
        "curl -H 'Authorization: Bearer [REDACTED:jwt]' https://api",
        ("jwt",),
        id="jwt-bearer",
    ),
    pytest.param(f'{{"id_token":"{JWT}"}}', '{"id_token":"[REDACTED:jwt]"}', ("jwt",), id="jwt-json"),
    pytest.param(f"session={JWT}; Path=/", "session=[REDACTED:jwt]; Path=/", ("jwt",), id="jwt-cookie"),
    pytest.param(
        f"GITEA_TOKEN={GITEA_TOKEN}\nGITEA_URL=https://gitea.example.com\n",
        "GITEA_TOKEN=[REDACTED:gitea_token]\nGITEA_URL=https://gitea.example.com\n",
        ("gitea_token",),
        id="gitea-env",
    ),
    pytest.param(
        f"gitea:\n  token: {GITEA_TOKEN}\n",
        "gitea:\n  token: [REDACTED:gitea_token]\n",
        ("gitea_token",),
        id="gitea-yaml",
    ),
    pytest.param(
        f'curl -H "Authorization: token {GITEA_TOKEN}" https://gitea/api/v1/user',
        'curl -H "Authorization: token [REDACTED:gitea_token]" https://gitea/api/v1/user',
        ("gitea_token",),
        id="gitea-authorization-header",
    ),
    pytest.param(
        f"GET /api/v1/repos?access_token={GITEA_TOKEN}&limit=5",
        "GET /api/v1/repos?access_token=[REDACTED:gitea_token]&limit=5",
        ("gitea_token",),
        id="gitea-query-string",
    ),
    pytest.param(
        "Authorization: Bearer 8fK2mQ9xLp4Rt7Vz",
        "Authorization: Bearer [REDACTED:authorization_header]",
        ("authorization_header",),
        id="authorization-bearer-opaque",
    ),
    pytest.param(
        "authorization: Basic " + base64.b64encode(b"deploy:Sup3rS3cret").decode(),
        "authorization: Basic [REDACTED:authorization_header]",
        ("authorization_header",),
        id="authorization-basic",
    ),
    pytest.param(
        "DATABASE_URL=postgres://app:Sup3rS3cret@db:5432/app",
        "DATABASE_URL=postgres://app:[REDACTED:url_credentials]@db:5432/app",
        ("url_credentials",),
        id="url-password",
    ),
    pytest.param(
        f"url = https://ci-bot:{GITEA_TOKEN}@gitea.example.com/acme/app.git",
        "url = https://ci-bot:[REDACTED:url_credentials]@gitea.example.com/acme/app.git",
        ("url_credentials",),
        id="url-gitea-token",
    ),
    pytest.param(
        f"DB_HOST=db\nDB_PASSWORD={PASSWORD}\nDB_PORT=5432\n",
        "DB_HOST=db\nDB_PASSWORD=[REDACTED:assigned_secret]\nDB_PORT=5432\n",
        ("assigned_secret",),
        id="assigned-env",
    ),
    pytest.param(
        "database:\n  password: 'Password1'\n",
        "database:\n  password: '[REDACTED:assigned_secret]'\n",
        ("assigned_secret",),
        id="assigned-yaml",
    ),
    pytest.param(
        '{"client_id": "aegis", "client_secret": "9c1e4b7a2f8d3e6b"}',
        '{"client_id": "aegis", "client_secret": "[REDACTED:assigned_secret]"}',
        ("assigned_secret",),
        id="assigned-json",
    ),
    pytest.param(
        "[smtp]\npasswd = hunter2!\n",
        "[smtp]\npasswd = [REDACTED:assigned_secret]\n",
        ("assigned_secret",),
        id="assigned-ini",
    ),
    pytest.param(
        "SECRET_KEY = 'django-insecure-8x#k2@p!q'",
        "SECRET_KEY = '[REDACTED:assigned_secret]'",
        ("assigned_secret",),
        id="assigned-python",
    ),
    pytest.param(
        "<server><password>s3cr3t!Xq</password></server>",
        "<server><password>[REDACTED:assigned_secret]</password></server>",
        ("assigned_secret",),
        id="assigned-xml",
    ),
    pytest.param(
        "'api_key' => 'k9D2mX7qL4',",
        "'api_key' => '[REDACTED:assigned_secret]',",
        ("assigned_secret",),
        id="assigned-php",
    ),
    pytest.param(
        'token: DB_PASSWORD="Password1"',
        'token: [REDACTED:assigned_secret]"',
        ("assigned_secret",),
        id="assigned-inside-an-assignment",
    ),
    pytest.param(
        'env = "TOKEN=Abc12345", "x": 1',
        'env = "TOKEN=[REDACTED:assigned_secret]", "x": 1',
        ("assigned_secret",),
        id="assigned-inside-a-string",
    ),
    pytest.param(
        "PASSWORD=Ab;c,d&e9; Path=/",
        "PASSWORD=[REDACTED:assigned_secret]; Path=/",
        ("assigned_secret",),
        id="assigned-with-delimiters-inside",
    ),
    pytest.param(
        "APIKEY=a1b2c3d4e5f6 PRIVATE_KEY=Zm9vYmFyMTIz",
        "APIKEY=[REDACTED:assigned_secret] PRIVATE_KEY=[REDACTED:assigned_secret]",
        ("assigned_secret", "assigned_secret"),
        id="assigned-two-on-a-line",
    ),
]

TRUE_NEGATIVES = [
    pytest.param(f"commit {GIT_SHA}\nAuthor: Dev <dev@example.com>\n\n    Fix login", id="git-log"),
    pytest.param(f'{{"sha": "{GIT_SHA}", "parents": ["{GITEA_TOKEN}"]}}', id="shas-in-json"),
    pytest.param(f"Merge {GIT_SHA} into main; reverts {GITEA_TOKEN[:12]}", id="sha-in-message"),
    pytest.param("request 550e8400-e29b-41d4-a716-446655440000 failed", id="uuid"),
    pytest.param(
        "![logo](data:image/png;base64," + base64.b64encode(_PSEUDO_RANDOM).decode() + ")",
        id="base64-image",
    ),
    pytest.param(
        "Rotate the API token every 90 days. The password policy requires 12 characters, and secrets go "
        "in the vault, not in the repository.",
        id="prose",
    ),
    pytest.param("password: changeme", id="placeholder-changeme"),
    pytest.param("GITEA_TOKEN=${GITEA_TOKEN}", id="placeholder-env-braces"),
    pytest.param("PASSWORD=$DB_PASSWORD", id="placeholder-env"),
    pytest.param("api_key: <your-token>", id="placeholder-angle"),
    pytest.param("secret: xxxxxxxx", id="placeholder-xs"),
    pytest.param("password: your_password_here1", id="placeholder-your"),
    pytest.param('token: "{{ .Values.gitea.token }}"', id="placeholder-template"),
    pytest.param("Authorization: token $GITEA_TOKEN", id="placeholder-authorization"),
    pytest.param("Authorization: Bearer <token>", id="placeholder-bearer"),
    pytest.param("https://user:${PASSWORD}@gitea.example.com", id="placeholder-url"),
    pytest.param(
        "ssh://git@gitea.example.com:2222/acme/app.git http://localhost:3000/x", id="url-no-password"
    ),
    pytest.param("token = self._token\nsecret = get_secret(1)\nkey = tokens[0]", id="code-references"),
    pytest.param('headers = {"Authorization": f"Bearer {token}"}', id="code-fstring"),
    pytest.param('password = os.environ["DB_PASSWORD"]', id="code-environ"),
    pytest.param("max_tokens: 4096\ntoken_ttl: 3600\ntoken_expires_at: 2026-11-21T10:00:00Z", id="numbers"),
    pytest.param("tokenizer: bert-base-uncased\ntoken_type: bearer\npassword_min_length: 12", id="words"),
    pytest.param("passport_number: 123456789", id="pass-prefix-of-word"),
    pytest.param("-----BEGIN PUBLIC KEY-----\n" + KEY_BODY + "-----END PUBLIC KEY-----", id="public-key"),
    pytest.param("-----BEGIN CERTIFICATE-----\n" + KEY_BODY + "-----END CERTIFICATE-----", id="certificate"),
    pytest.param(
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ci@host", id="ssh"
    ),
    pytest.param("eyJhbGciOiJIUzI1NiJ9 is a header, not a token", id="jwt-header-alone"),
    pytest.param("AKIAZ7Q4W2X9R5T8Y3U6EXTRA and xAKIAZ7Q4W2X9R5T8Y3U6", id="aws-id-inside-word"),
]


@pytest.mark.parametrize(("text", "masked", "kinds"), TRUE_POSITIVES)
def test_secrets_are_masked_and_the_rest_kept(text: str, masked: str, kinds: tuple[str, ...]) -> None:
    assert mask_secrets(text) == (masked, kinds)


@pytest.mark.parametrize("text", TRUE_NEGATIVES)
def test_non_secrets_are_left_alone(text: str) -> None:
    assert mask_secrets(text) == (text, ())


def test_every_kind_has_a_true_positive() -> None:
    covered = {kind for case in TRUE_POSITIVES for kind in cast(tuple[str, ...], case.values[2])}
    assert covered == set(SECRET_KINDS)


# Linear time. Python's `re` backtracks, so linearity rests on the shape of the patterns: every
# quantifier bounded, and none nested in another except inside an optional group or a lookaround. Then one
# match attempt does bounded work. The relative timing test below catches a pattern that rescans long runs.
_REPEATS = {sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT, sre_constants.POSSESSIVE_REPEAT}
_LOOKAROUNDS = {sre_constants.ASSERT, sre_constants.ASSERT_NOT}
_PATTERNS = [value for value in vars(detectors).values() if isinstance(value, re.Pattern)]


def _repeats(
    node: sre_parser.SubPattern, enclosing: tuple[int, ...] = ()
) -> Iterator[tuple[int, tuple[int, ...]]]:
    """(the maximum of each repeat, the maxima of the repeats around it)."""
    for op, argument in node:
        if op in _REPEATS:
            _low, high, body = argument
            yield high, enclosing
            yield from _repeats(body, (*enclosing, high))
        elif op in _LOOKAROUNDS:
            yield from _repeats(argument[1], ())
        else:
            for child in _subpatterns(argument):
                yield from _repeats(child, enclosing)


def _subpatterns(argument: object) -> Iterator[sre_parser.SubPattern]:
    if isinstance(argument, sre_parser.SubPattern):
        yield argument
    elif isinstance(argument, tuple | list):
        for item in argument:
            yield from _subpatterns(item)


def test_the_structure_walk_sees_unbounded_and_nested_repeats() -> None:
    found = list(_repeats(sre_parser.parse(r"(?:a+b{2,3})?c*(?:x(?!y{2}))+")))
    unbounded = sre_constants.MAXREPEAT
    assert found == [(1, ()), (unbounded, (1,)), (3, (1,)), (unbounded, ()), (unbounded, ()), (2, ())]


@pytest.mark.parametrize("pattern", _PATTERNS, ids=lambda pattern: pattern.pattern[:40])
def test_patterns_have_only_bounded_unnested_repeats(pattern: re.Pattern[str]) -> None:
    for high, enclosing in _repeats(sre_parser.parse(pattern.pattern, pattern.flags)):
        assert high < sre_constants.MAXREPEAT
        assert all(outer == 1 for outer in enclosing)


ADVERSARIAL = {
    "alphanumeric-run": "a",
    "hex-run": "0123456789abcdef",
    "jwt-starts": "eyJ",
    "jwt-segments": "eyJ" + "a" * 20 + ".",
    "github-prefixes": "ghp_",
    "long-github-runs": "ghp_" + "a" * 300,
    "assignments": "password=",
    "assignment-padding": "token:    ",
    "quoted-names": '"password":"',
    "value-delimiters": "token=a,&;\"<'",
    "long-names": "secret" + "_" * 50,
    "pem-headers": "-----BEGIN RSA PRIVATE KEY-----\n",
    "pem-labels": "-----BEGIN " + "A" * 60 + "\n",
    "dashes": "-",
    "url-schemes": "a://",
    "url-users": "http://" + "u" * 300 + ":",
    "authorization": "Authorization: Bearer ",
    "aws-prefixes": "AKIA",
    "slack-prefixes": "xoxb-",
}
_SIZE = 1 << 18


def _cpu_seconds(text: str, scan: Callable[[str], object] = mask_secrets) -> float:
    best = float("inf")
    for _ in range(2):
        started = time.process_time()
        scan(text)
        best = min(best, time.process_time() - started)
    return best


@pytest.fixture(scope="module")
def prose_seconds() -> float:
    """Every pattern tried at every position of prose: linear time. (The anchored scan skips prose, which
    holds no anchor, and costs far less than that.)"""
    prose = ("The quick brown fox jumps over the lazy dog. " * (_SIZE // 45 + 1))[:_SIZE]
    return _cpu_seconds(prose, lambda text: secret_spans(FullScan(text)))


@pytest.mark.parametrize("unit", ADVERSARIAL.values(), ids=ADVERSARIAL.keys())
def test_adversarial_input_costs_about_as_much_as_prose(unit: str, prose_seconds: float) -> None:
    """A quadratic pattern takes hundreds of times longer than prose on these inputs, a linear one about
    as long. Measured in CPU time of this process, against a baseline taken in the same run."""
    assert _cpu_seconds((unit * (_SIZE // len(unit) + 1))[:_SIZE]) < 10 * prose_seconds


_NAME_LETTERS = "pasSwordkKeytTOnAPI_-cCrRedntil \u212a\u017f\u0130\u0131\xe9"  # Kelvin, long s, dotted I...


@given(st.text(alphabet=st.sampled_from(_NAME_LETTERS), max_size=40))
def test_the_name_anchor_starts_wherever_a_secret_name_does(text: str) -> None:
    """The assignment pattern is tried only where its anchor starts: it must start wherever SECRET_NAME
    matches, in any case, the non-ASCII characters Python folds to ASCII letters included."""
    anchor = re2.compile(caseless(detectors._NAME_STARTS).encode())
    for candidate in (
        text,
        f"{text}PassWord",
        f"x{text}API-KEY",
        f"{text}Credentials{text}",
        f"to\u212aen{text}",
    ):
        subject = candidate.encode("ascii", "replace")
        for start in range(len(candidate)):
            if detectors.SECRET_NAME.match(candidate, start):
                assert anchor.match(subject, start)
