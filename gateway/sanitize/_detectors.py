"""The secret detectors: each finds the spans of one family of secrets in a text and names their kind.

Every detector runs in time linear in the text. Every quantifier is bounded and none is nested in
another, except inside an optional group or a lookaround (neither can split the text in several ways), so
a match attempt at one position does a bounded amount of work; patterns whose bound is large start only
after a literal prefix or at the start of a run of their own characters, so such runs are scanned a
bounded number of times. The private-key scanner only moves forward. A pattern that cannot be written
this way does not belong here.

Each pattern is searched for only around the occurrences of its anchor, which every match contains (see
`_anchors`): text without any anchor costs one RE2 pass for each and no match attempt.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterator

from gateway.sanitize._anchors import Anchored, Anchors, Scan, caseless
from gateway.sanitize._key_bodies import KEY_BODY_PATTERNS, PRIVATE_END, key_bodies
from gateway.sanitize._span import Detector, Span
from gateway.sanitize._values import is_placeholder, looks_like_secret

# Most specific first: where findings overlap, the earliest kind names the merged span.
SECRET_KINDS = (
    "private_key",
    "github_token",
    "gitlab_token",
    "slack_token",
    "slack_webhook",
    "aws_access_key_id",
    "jwt",
    "url_credentials",
    "gitea_token",
    "authorization_header",
    "aws_secret_access_key",
    "assigned_secret",
)


Classifier = Callable[[re.Match[str]], str | None]


@dataclasses.dataclass(frozen=True)
class _RegexDetector:
    """Masks the `secret` group of each match that `classify` gives a kind."""

    pattern: Anchored
    classify: Classifier

    def __call__(self, scan: Scan) -> Iterator[Span]:
        for match in scan.finditer(self.pattern):
            kind = self.classify(match)
            if kind is not None:
                yield Span(match.start("secret"), match.end("secret"), kind)


def _always(kind: str) -> Classifier:
    return lambda _match: kind


# PEM private keys: from the BEGIN line to the END line. Without an END line (a truncated key), the key
# runs on over its base64 body: a truncated key is still a key.
_PEM_BEGIN = re.compile(r"-{4,5} ?BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)? ?-{4,5}")
_BEGIN_LINE = Anchored(_PEM_BEGIN, "---- ?BEGIN [A-Z0-9 ]{0,40}PRIVATE KEY", reach=1)  # a fifth dash
_PEM_AFTER_BODY = re.compile(r"[^A-Za-z0-9+/=:,\s-]")  # base64 lines and RFC 1421 headers


def _private_keys(scan: Scan) -> Iterator[Span]:
    text = scan.text
    position = 0
    end_remains = True  # once no END line follows one BEGIN line, none follows a later one either
    while begin := scan.search(_BEGIN_LINE, position):
        end = scan.search(PRIVATE_END, begin.end()) if end_remains else None
        if end is None:
            end_remains = False
            after_body = _PEM_AFTER_BODY.search(text, begin.end())
            position = after_body.start() if after_body else len(text)
        else:
            position = end.end()
        yield Span(begin.start(), position, "private_key")


_GITHUB = re.compile(r"(?P<secret>gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244})")
_GITLAB = re.compile(
    r"(?P<secret>(?:glpat|gloas|gldt|glrtr|glrt|glcbt|glptt|glft|glimt|glagent|glsoat|glffct|glwt)"
    r"-[A-Za-z0-9_.-]{20,250}|GR1348941[A-Za-z0-9_-]{20,250})"
)
_SLACK_TOKEN = re.compile(
    r"(?P<secret>xox(?:[abeprs]|e\.xox[bp])-[A-Za-z0-9-]{10,250}|xapp-[0-9]-[A-Za-z0-9-]{10,250})"
)
_SLACK_WEBHOOK = re.compile(
    r"(?P<secret>https://hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9_/+-]{10,300})"
)
_AWS_KEY_ID = re.compile(
    r"(?<![A-Za-z0-9])(?P<secret>(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16})(?![A-Za-z0-9])"
)
# Header, payload, signature; a JWE's two further segments too. Starts only where a base64url run starts.
_JWT = re.compile(
    r"(?<![A-Za-z0-9_-])(?P<secret>eyJ[A-Za-z0-9_-]{8,16384}+"
    r"\.[A-Za-z0-9_-]{2,65536}+\.[A-Za-z0-9_-]{0,16384}+"
    r"(?:\.[A-Za-z0-9_-]{0,65536}+\.[A-Za-z0-9_-]{0,16384}+)?)"
)
_URL_CREDENTIALS = re.compile(
    r"(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]{0,20}+://[^\s/:@]{1,256}+:(?P<secret>[^\s/@]{1,256}+)@"
)
_AUTHORIZATION = re.compile(
    r"(?i:authorization)[\"'`]?[ \t]{0,4}+[:=][ \t]{0,4}+[\"'`]?(?i:bearer|token|basic)[ \t]{1,4}+"
    r"(?P<secret>[A-Za-z0-9._~+/=-]{8,16384}+)"
)
SECRET_NAME = re.compile(
    r"(?i:passw(?:or)?d|passphrase|pass(?![a-z])|secret|token|api[_-]?key|access[_-]?key|private[_-]?key"
    r"|auth[_-]?key|credentials?)"
)
# Found case-insensitively where every SECRET_NAME match starts.
_NAME_STARTS = "pass|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|auth[_-]?key|credential"
# A quoted value runs to its closing quote or whitespace. An unquoted value runs to whitespace or to a
# character that ends it: a quote followed by a delimiter or the end (`"TOKEN=x", ...`), a `,` `;` `&`
# followed by the next field (`&limit=5`, `, user: x`, `; Path=/`), a `<` opening a closing tag
# (`</password>`). Elsewhere such characters belong to the value, so that it is masked whole.
_QUOTED_VALUE = r"(?:(?!(?P=open))\S){1,16384}+"
_BARE_VALUE = (
    r"(?:[^\s\"'`,;&<]|[\"'`](?![\s,;&<]|\Z)|[,;&](?![ \t]{0,4}[\w.-]{1,40}[:=])|<(?!/))"
    r"{1,16384}+"
)
# `name = value`, `name: value`, `"name": "value"`, `NAME=value`, `name => value`, `<name>value`.
_ASSIGNMENT = re.compile(
    rf"(?P<name>{SECRET_NAME.pattern}[A-Za-z0-9_.-]{{0,40}}+)[\"'`]?"
    r"[ \t]{0,4}+(?:=>|:=|[:=>])[ \t]{0,4}+"
    rf"(?P<open>[\"'`])?(?P<secret>(?(open){_QUOTED_VALUE}|{_BARE_VALUE}))"
)
_HEX_TOKEN = re.compile(r"[0-9a-fA-F]{40}")
_AWS_SECRET_NAME = re.compile(r"(?i:secret_?access_?key)")
_AWS_SECRET = re.compile(r"[A-Za-z0-9/+]{40}")


def _url_credentials(match: re.Match[str]) -> str | None:
    return None if is_placeholder(match["secret"]) else "url_credentials"


def _authorization(match: re.Match[str]) -> str | None:
    value = match["secret"]
    if is_placeholder(value):
        return None
    return "gitea_token" if _HEX_TOKEN.fullmatch(value) else "authorization_header"


def classify_assigned(name: str, value: str, *, quoted: bool) -> str | None:
    """The kind of secret `value` is when assigned to `name` (already known to be secret-like), or None.
    A bare 40-hex value counts only here, after a secret-like name: elsewhere it is a git object id."""
    if is_placeholder(value):
        return None
    if _HEX_TOKEN.fullmatch(value):
        return "gitea_token"
    if _AWS_SECRET_NAME.search(name) and _AWS_SECRET.fullmatch(value):
        return "aws_secret_access_key"
    return "assigned_secret" if looks_like_secret(value, quoted=quoted) else None


def _assignment(match: re.Match[str]) -> str | None:
    return classify_assigned(match["name"], match["secret"], quoted=match["open"] is not None)


# Each pattern with its anchor: the matches of each start where the anchor does (the URL's scheme before it).
DETECTORS: tuple[Detector, ...] = (
    _private_keys,
    key_bodies,
    _RegexDetector(Anchored(_GITHUB, "gh[pousr]_|github_pat_"), _always("github_token")),
    _RegexDetector(Anchored(_GITLAB, "gl[a-z]{2,6}-|GR1348941"), _always("gitlab_token")),
    _RegexDetector(Anchored(_SLACK_TOKEN, "xox|xapp-"), _always("slack_token")),
    _RegexDetector(Anchored(_SLACK_WEBHOOK, r"https://hooks\.slack\.com/"), _always("slack_webhook")),
    _RegexDetector(Anchored(_AWS_KEY_ID, "A3T|AKIA|ASIA|ABIA|ACCA"), _always("aws_access_key_id")),
    _RegexDetector(Anchored(_JWT, "eyJ"), _always("jwt")),
    _RegexDetector(Anchored(_URL_CREDENTIALS, "://", reach=21), _url_credentials),
    _RegexDetector(Anchored(_AUTHORIZATION, caseless("authorization")), _authorization),
    _RegexDetector(Anchored(_ASSIGNMENT, caseless(_NAME_STARTS)), _assignment),
)
ANCHORS = Anchors(
    [
        _BEGIN_LINE,
        *KEY_BODY_PATTERNS,
        *(detector.pattern for detector in DETECTORS if isinstance(detector, _RegexDetector)),
    ]
)
