"""A private key's body where its BEGIN line is not in view: a diff hunk inside a key file (git shows the
lines around a change, not the key's first line), any other excerpt of one, a key in a YAML or code string.

Masked, as `private_key`:
- a run of two or more consecutive body lines: 60 to 80 characters of base64 (PEM writes 64, OpenSSH 70,
  MIME 76) that are not all hexadecimal digits (a list of SHA-256 sums is not a key), each possibly behind
  a diff marker or a hunk header, indentation, a quote or comment sign, and followed by a closing quote or
  an escaped line break; a `\\ No newline at end of file` line inside the run does not end it; the short
  line that may end a body is taken with it;
- every body line, short ones included, right above the END line of a private key, however few.

Kept: a run right below the BEGIN line of a public type (a certificate, a public key), after at most a few
RFC 1421 header lines and one blank line. Anywhere else nothing says what a run is, and it is masked (a
certificate's body in a hunk without its BEGIN line is masked too: fail closed).

Every line is looked at a bounded number of times (once forward, once more from an END line, at most
`_HEADER_LINES` + 2 lines back from a run's start), so the time is linear in the text. Runs and END lines
are searched for only around their anchors (see `_anchors`).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from gateway.sanitize._anchors import Anchored, Scan
from gateway.sanitize._span import Span

MIN_RUN_LINES = 2
_PREFIX = r"(?:[ +-]|@@ [^@\n]{1,100} @@ )?[ \t>#/*\"'`]{0,16}"
_SUFFIX = r"(?:\\[nr]){0,2}[\"'`,;+ \t]{0,8}\r?"
_HINT = Anchored(re.compile(r"[A-Za-z0-9+/]{60}"), "[A-Za-z0-9+/]{60}")
_LINE = re.compile(rf"{_PREFIX}(?P<body>[A-Za-z0-9+/]{{60,80}}={{0,2}}){_SUFFIX}")
_SHORT_LINE = re.compile(rf"{_PREFIX}[A-Za-z0-9+/]{{1,80}}={{0,2}}{_SUFFIX}")
_NO_NEWLINE = re.compile(r"\\ No newline at end of file\r?")
_HEX = re.compile(r"[0-9a-fA-F]+")
PRIVATE_END = Anchored(
    re.compile(r"-{4,5} ?END [A-Z0-9 ]{0,40}PRIVATE KEY(?: BLOCK)? ?-{4,5}"),
    "---- ?END [A-Z0-9 ]{0,40}PRIVATE KEY",
    reach=1,  # a fifth dash
)
_ANY_BEGIN = re.compile(r"[ +-]?-{4,5} ?BEGIN (?P<type>[A-Z0-9 ]{1,40}?) ?-{4,5}\r?")
_HEADER = re.compile(r"[ +-]?[A-Za-z-]{1,40}: .{0,200}|[ +-]?\r?")  # RFC 1421 headers, a blank line
_HEADER_LINES = 4
KEY_BODY_PATTERNS = (_HINT, PRIVATE_END)  # what key_bodies searches for
_PUBLIC_TYPES = frozenset(
    {
        "CERTIFICATE",
        "TRUSTED CERTIFICATE",
        "CERTIFICATE REQUEST",
        "NEW CERTIFICATE REQUEST",
        "X509 CRL",
        "PKCS7",
        "CMS",
        "PUBLIC KEY",
        "RSA PUBLIC KEY",
        "DSA PUBLIC KEY",
        "EC PUBLIC KEY",
        "SSH2 PUBLIC KEY",
        "PGP PUBLIC KEY BLOCK",
        "PGP SIGNATURE",
    }
)


def key_bodies(scan: Scan) -> Iterator[Span]:
    yield from _runs(scan)
    yield from _bodies_above_end_lines(scan)


def _runs(scan: Scan) -> Iterator[Span]:
    text = scan.text
    position = 0
    while hint := scan.search(_HINT, position):
        start = text.rfind("\n", 0, hint.start()) + 1
        end, lines = start, 0
        while (line_end := _line_end(text, end)) > end:
            if _is_body_line(text, end, line_end):
                lines += 1
            elif not _NO_NEWLINE.fullmatch(text, end, line_end):
                break
            end = min(line_end + 1, len(text))
        if lines >= MIN_RUN_LINES:
            tail_end = _line_end(text, end)
            if tail_end > end and _SHORT_LINE.fullmatch(text, end, tail_end):
                end = tail_end
            if not _below_public_begin(text, start):
                yield Span(start, end, "private_key")
        position = max(end, _line_end(text, hint.start()))


def _bodies_above_end_lines(scan: Scan) -> Iterator[Span]:
    text = scan.text
    for end_line in scan.finditer(PRIVATE_END):
        end = start = text.rfind("\n", 0, end_line.start()) + 1
        while start > 0:
            previous = text.rfind("\n", 0, start - 1) + 1
            if not _SHORT_LINE.fullmatch(text, previous, start - 1):
                break
            start = previous
        if start < end:
            yield Span(start, end, "private_key")


def _is_body_line(text: str, start: int, end: int) -> bool:
    line = _LINE.fullmatch(text, start, end)
    return line is not None and _HEX.fullmatch(line["body"]) is None


def _below_public_begin(text: str, run_start: int) -> bool:
    """The run starts right below the BEGIN line of a public type, after a few header lines at most."""
    end = run_start - 1
    for _ in range(_HEADER_LINES + 1):
        if end < 0:
            return False
        start = text.rfind("\n", 0, end) + 1
        begin = _ANY_BEGIN.fullmatch(text, start, end)
        if begin is not None:
            return begin["type"].strip() in _PUBLIC_TYPES
        if not _HEADER.fullmatch(text, start, end):
            return False
        end = start - 1
    return False


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return len(text) if end < 0 else end
