"""Hypothesis strategies for what a hostile or broken client sends to /mcp.

Bodies are bytes: arbitrary, almost-valid JSON-RPC (a valid MCP message mutated a few times, then maybe
damaged at the byte level), deeply nested, or sized around the body cap. Headers are lists of
`(name, value)` byte pairs that a client library would send; `raw_requests` builds whole HTTP/1.1
requests for what a client library refuses to send (CR/LF or NUL in headers, obsolete folding, bad
request lines). Strategies are built before the gateway starts, so they write API_KEY where its key goes,
and the client puts the key in.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import re
from typing import Any

from hypothesis import assume
from hypothesis import strategies as st

from gateway.config import DEFAULT_MAX_BODY_BYTES
from gateway.mcp._jsonrpc import MAX_DEPTH
from gateway.mcp._protocol import SUPPORTED_VERSIONS
from tests.fuzz.json_text import Key, Raw, encode

BODY_CAP = DEFAULT_MAX_BODY_BYTES
API_KEY = b"<api-key>"
# NUL, BOM, bidi overrides, zero-width joiners, look-alikes of '.' and '/', cyrillic a/e/o, odd spaces, a
# combining accent, and the characters that mean something in paths, URLs, git refs and globs.
TRICKY_CHARS = (
    "\x00\ufeff\u202e\u202d\u2066\u200b\u200c\u200d\u2060\u2024\uff0e\uff0f\u2215\u2044\u0430\u0435"
    "\u043e\u00a0\u3000\u0301/\\.%?#@{}~^:*[]\n\r\t '\""
)
tricky_text = st.text(st.one_of(st.characters(codec="utf-8"), st.sampled_from(TRICKY_CHARS)), max_size=40)
# Tokens json.dumps never writes: non-standard literals, numbers too big for a double or for int(),
# whitespace JSON does not allow, and the start of a structure nested past the depth cap.
RAW_TOKENS = (
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e999",
    b"-1e999",
    b"1e-999",
    b"-0",
    b"0.0",
    b"1.0",
    b"9" * 4300,
    b"9" * 4301,
    b"1" + b"0" * 5000,
    b"true",
    b"null",
    b'""',
    b"\x0c1",
    b'"\\u0000"',
    b'"\\ufeff"',
    b'"\\t"',
    b"[" * (MAX_DEPTH + 8) + b"]" * (MAX_DEPTH + 8),
)
# Strings holding a lone surrogate: as a JSON escape, and as the UTF-8 style bytes of one (which
# json.loads decodes with "surrogatepass"). Kept out of the other strategies: see test_lone_surrogates.py.
LONE_SURROGATES = (
    b'"\\ud800"',
    b'"a\\udfffb"',
    b'"\\udbff\\u0041"',
    b'"\xed\xa0\x80"',
    b'"tool\xed\xbf\xbf"',
)
_ANY_SURROGATE = re.compile(rb"\xed[\xa0-\xbf]|\\u[dD][89a-fA-F]")
# Finite floats only: NaN and Infinity are not JSON (refused, see tests/security/test_strict_json.py).
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), tricky_text
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(tricky_text, children, max_size=4),
    max_leaves=6,
)
request_ids = st.one_of(st.integers(), tricky_text)


@dataclasses.dataclass(frozen=True)
class ToolSample:
    """A tool and arguments to call it with, for building tools/call messages."""

    name: str
    arguments: dict[str, Any]


def tools_call(name: Any, arguments: Any, request_id: Any = 1) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": name, "arguments": arguments},
    }


# Strategies are made once: one made inside a draw is validated on every draw, which costs more than it.
_KINDS = st.sampled_from(["initialize", "ping", "tools/list", "tools/call", "notification", "reply"])
_VERSIONS = st.sampled_from([*SUPPORTED_VERSIONS, "1999-01-01"])
_MUTATIONS = st.sampled_from(["retype", "drop", "add", "repeat", "raw", "nest", "long"])
_RAW_TOKENS = st.sampled_from(RAW_TOKENS)
_NEST_DEPTHS = st.integers(1, MAX_DEPTH + 8)
_LONG_UNITS = st.sampled_from(["a", "\u00e9", "\u202e", "/"])
_LONG_SIZES = st.integers(1, 2000)
_DAMAGES = st.sampled_from(
    ["none", "none", "bom", "utf16", "utf32", "nul", "invalid", "cut", "garbage", "flip"]
)
_INVALID_UTF8 = st.sampled_from([b"\xff", b"\xc0\xae", b"\xf4\x90\x80\x80", b"\x80", b"\xe2\x82"])
_GARBAGE = st.sampled_from([b"}", b" x", b"{}", b"\n{}", b"\x00", b"]"])
_LONE_SURROGATES = st.sampled_from(LONE_SURROGATES)


@st.composite
def valid_messages(draw: st.DrawFn, tool_samples: st.SearchStrategy[ToolSample]) -> dict[str, Any]:
    """One well-formed MCP message of each kind the gateway answers, notifications and replies included."""
    request_id = draw(request_ids)
    kind = draw(_KINDS)
    if kind == "tools/call":
        sample = draw(tool_samples)
        return tools_call(sample.name, copy.deepcopy(sample.arguments), request_id)
    if kind == "notification":
        return {"jsonrpc": "2.0", "method": "notifications/initialized"}
    if kind == "reply":
        return {"jsonrpc": "2.0", "id": request_id, "result": {}}
    message: dict[str, Any] = {"jsonrpc": "2.0", "id": request_id, "method": kind}
    if kind == "initialize":
        client = {"name": "fuzz", "version": "1"}
        message["params"] = {"protocolVersion": draw(_VERSIONS), "capabilities": {}, "clientInfo": client}
    return message


@st.composite
def almost_valid_bodies(draw: st.DrawFn, tool_samples: st.SearchStrategy[ToolSample]) -> bytes:
    """A valid message mutated one to three times (members retyped, dropped, added, repeated, replaced by
    raw tokens, nested), then maybe damaged as bytes (BOM, UTF-16, NUL, invalid UTF-8, cut, garbage)."""
    message = draw(valid_messages(tool_samples))
    for _ in range(draw(st.integers(1, 3))):
        _mutate(draw, message)
    body = _damage(draw, encode(message))
    assume(not _ANY_SURROGATE.search(body))  # a flipped byte can make one; they have their own test
    return body


def _mutate(draw: st.DrawFn, message: dict[Any, Any]) -> None:
    """Change one member of the message, its params or its arguments, in place."""
    target, key = _member(draw, message)
    how = draw(_MUTATIONS)
    if how == "add" or key is None:
        target[draw(tricky_text)] = draw(json_values)
    elif how == "retype":
        target[key] = draw(json_values)
    elif how == "drop":
        del target[key]
    elif how == "repeat":
        target[Key.of(key)] = target[key] if draw(st.booleans()) else draw(json_values)
    elif how == "raw":
        target[key] = Raw(draw(_RAW_TOKENS))
    elif how == "nest":
        target[key] = Raw(nested(draw(_NEST_DEPTHS), encode(target[key])))
    else:
        target[key] = draw(_LONG_UNITS) * draw(_LONG_SIZES)


def _member(draw: st.DrawFn, message: dict[Any, Any]) -> tuple[dict[Any, Any], str | None]:
    """The message, its params or its arguments, and one of its keys (None when it has none)."""
    containers = [message]
    for inner in ("params", "arguments"):
        candidate = containers[-1].get(inner)
        if not isinstance(candidate, dict):
            break
        containers.append(candidate)
    target = containers[draw(st.integers(0, len(containers) - 1))]
    keys = [key for key in target if isinstance(key, str)]
    return target, keys[draw(st.integers(0, len(keys) - 1))] if keys else None


@st.composite
def bodies_with_a_lone_surrogate(draw: st.DrawFn, tool_samples: st.SearchStrategy[ToolSample]) -> bytes:
    """A valid message with one member, or one key, holding a lone surrogate, escaped or as bytes."""
    message = draw(valid_messages(tool_samples))
    target, key = _member(draw, message)
    token = draw(_LONE_SURROGATES)
    if key is None or draw(st.booleans()):
        target[Key(token)] = draw(json_values)
    else:
        target[key] = Raw(token)
    return encode(message)


def _damage(draw: st.DrawFn, body: bytes) -> bytes:
    """`body`, or `body` re-encoded, prefixed, cut, extended or with one byte inserted or flipped."""
    how = draw(_DAMAGES)
    where = draw(st.integers(0, len(body)))
    if how == "bom":
        return b"\xef\xbb\xbf" + body
    if how in ("utf16", "utf32"):
        return body.decode().encode("utf-16" if how == "utf16" else "utf-32")
    if how == "nul":
        return body[:where] + b"\x00" + body[where:]
    if how == "invalid":
        return body[:where] + draw(_INVALID_UTF8) + body[where:]
    if how == "cut":
        return body[:where]
    if how == "garbage":
        return body + draw(_GARBAGE)
    if how == "flip" and body:
        index = min(where, len(body) - 1)
        return body[:index] + bytes([body[index] ^ draw(st.integers(1, 255))]) + body[index + 1 :]
    return body


def nested(depth: int, leaf: bytes = b"1", *, kind: str = "list") -> bytes:
    """`leaf` inside `depth` arrays (or objects, or both by turns), written without recursion."""
    opens = {"list": (b"[",), "object": (b'{"a":',), "mixed": (b"[", b'{"a":')}[kind]
    closes = {b"[": b"]", b'{"a":': b"}"}
    layers = [opens[level % len(opens)] for level in range(depth)]
    return b"".join(layers) + leaf + b"".join(closes[layer] for layer in reversed(layers))


@dataclasses.dataclass(frozen=True)
class DeepBody:
    """A ping whose params nest `inner` levels of `kind` (the body is built on demand, so that a failing
    example prints short)."""

    inner: int
    kind: str

    @property
    def depth(self) -> int:
        """Levels of the deepest value, counting the message object and params as two more."""
        return self.inner + 2

    @property
    def body(self) -> bytes:
        return (
            b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":'
            + nested(self.inner, kind=self.kind)
            + b"}}"
        )


deep_bodies = st.builds(
    DeepBody,
    inner=st.one_of(
        st.integers(MAX_DEPTH - 6, MAX_DEPTH + 2), st.integers(1, 3000), st.sampled_from([100_000, 150_000])
    ),
    kind=st.sampled_from(["list", "object", "mixed"]),
)


@dataclasses.dataclass(frozen=True)
class PaddedPing:
    """A ping padded with `filler` to exactly `size` bytes (built on demand, like DeepBody)."""

    size: int
    filler: str

    @property
    def body(self) -> bytes:
        head = b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"pad":"'
        tail = b'"}}'
        unit = self.filler.encode()
        count, rest = divmod(self.size - len(head) - len(tail), len(unit))
        return head + unit * count + b" " * rest + tail


padded_pings = st.builds(
    PaddedPing,
    size=st.integers(BODY_CAP - 64, BODY_CAP + 64),
    filler=st.sampled_from(["a", "\u00e9", "\u20ac", "\U0001f600"]),
)


# Header values a client library sends (no CR, LF or NUL, no surrounding whitespace), latin-1 bytes included.
_HEADER_CHARS = st.characters(codec="latin-1", exclude_categories=["Cc"])
header_values = st.text(_HEADER_CHARS, max_size=24).map(lambda text: text.strip(" \t").encode("latin-1"))
_TOKEN = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_!#$%&'*+.^`|~")
)
HeaderList = list[tuple[bytes, bytes]]


_BEARER = b"Bearer " + API_KEY
# One header of the kinds a client gets wrong or an attacker plays with.
abusive_headers = st.one_of(
    st.tuples(
        st.just(b"content-type"),
        st.sampled_from(
            [
                b"application/json",
                b"APPLICATION/JSON; charset=utf-8",
                b"application/json; charset=utf-16",
                b"application/json;;;",
                b"application/jsonx",
                b"text/json",
                b"application/x-www-form-urlencoded",
                b"multipart/form-data; boundary=x",
                b"",
                b"*/*",
            ]
        )
        | header_values,
    ),
    st.tuples(
        st.just(b"accept"),
        st.sampled_from(
            [b"text/event-stream", b"application/*", b"*/*", b"text/html", b"", b"application/json;q=0"]
        )
        | header_values,
    ),
    st.tuples(
        st.just(b"mcp-protocol-version"),
        st.sampled_from([v.encode() for v in SUPPORTED_VERSIONS] + [b"2024-01-01", b"", b"\xe9\xff"])
        | header_values,
    ),
    st.tuples(
        st.just(b"authorization"),
        st.sampled_from(
            [
                _BEARER,
                b"bEARER " + API_KEY,
                b"Bearer aegis_not-a-key",
                _BEARER + b" extra",
                b"Bearer",
                b"Bearer  " + API_KEY,
                b"Basic YWxhZGRpbjpvcGVuc2VzYW1l",
                b"Bearer " + b"A" * 300,
                b"Bearer aegis_\xff\xfe",
                b"Bearer\t" + API_KEY,
            ]
        )
        | header_values,
    ),
    st.tuples(
        st.just(b"x-request-id"),
        st.sampled_from([b"a" * 128, b"a" * 129, b"id with spaces"]) | header_values,
    ),
    st.tuples(
        st.just(b"host"),
        st.sampled_from(
            [
                b"localhost",
                b"LOCALHOST:1",
                b"127.0.0.1:0",
                b"[::1]:80",
                b"[::1",
                b"localhost.",
                b"localhost:abc",
                b"user@localhost",
                b"evil.example.com",
                b"127.0.0.1.nip.io",
                b"",
            ]
        )
        | header_values,
    ),
    st.tuples(
        st.just(b"origin"),
        st.sampled_from(
            [
                b"null",
                b"http://localhost",
                b"http://localhost@evil.example",
                b"file://",
                b"http://[::1]:1/x",
            ]
        )
        | header_values,
    ),
    st.tuples(_TOKEN.filter(bool).map(str.encode), header_values),
    st.tuples(st.just(b"x-long"), st.integers(1, 64 << 10).map(lambda size: b"v" * size)),
)


GOOD_HEADERS: HeaderList = [
    (b"content-type", b"application/json"),
    (b"accept", b"application/json, text/event-stream"),
    (b"authorization", _BEARER),
]


_ABUSIVE_HEADER_LISTS = st.lists(abusive_headers, min_size=1, max_size=4)


@st.composite
def header_lists(draw: st.DrawFn) -> HeaderList:
    """Some of the headers a good client sends, plus abusive ones (which may repeat a kept one)."""
    kept = [header for header in GOOD_HEADERS if draw(st.booleans())]
    abusive = draw(_ABUSIVE_HEADER_LISTS)
    hosts = [header for header in abusive if header[0] == b"host"][:1]  # a client sends one Host at most
    return kept + [header for header in abusive if header[0] != b"host"] + hosts


# Header lines a client library refuses to write: CR, LF or NUL inside, no colon, space before the colon,
# folding, non-token names. None holds an empty line, which would end the header block early.
_RAW_LINES = st.one_of(
    st.sampled_from(
        [
            b"X-Injected: a\rb",
            b"X-Injected: a\nX-Smuggled: b",
            b"X-Nul: a\x00b",
            b"No-Colon",
            b"Content-Type : application/json",
            b" folded-continuation",
            b"\tfolded-continuation",
            b"X-\xff: b",
            b"X Space: b",
            b": empty-name",
            b"Host: 127.0.0.1",
            b"Host: evil.example.com",
            b"Content-Length: 5",
            b"Transfer-Encoding: chunked",
            b"Transfer-Encoding: gzip, chunked",
            b"Expect: 100-continue",
            b"Connection: keep-alive, Upgrade",
            b"Upgrade: websocket",
        ]
    ),
    st.binary(min_size=1, max_size=60).filter(lambda line: b"\n" not in line and b"\r" not in line),
)


_METHODS = st.sampled_from([b"POST", b"POST", b"GET", b"PUT", b"OPTIONS", b"post", b"P\xd8ST"])
_TARGETS = st.sampled_from(
    [
        b"/mcp",
        b"/mcp",
        b"/mcp/",
        b"/MCP",
        b"//mcp",
        b"/%6dcp",
        b"/mcp?x=1",
        b"/mcp#f",
        b"/./mcp",
        b"/a/../mcp",
        b"http://evil.example.com/mcp",
        b"*",
        b"/mcp\xff",
        b"/" + b"a" * 10_000,
    ]
)
_HTTP_VERSIONS = st.sampled_from(
    [b"HTTP/1.1", b"HTTP/1.1", b"HTTP/1.0", b"HTTP/2.0", b"HTTP/1.1 x", b"HTTX/1.1"]
)
_GOOD_LINES = (
    b"Host: 127.0.0.1",
    b"Connection: close",
    b"Content-Type: application/json",
    b"Authorization: " + _BEARER,
)
_RAW_LINE_LISTS = st.lists(_RAW_LINES, max_size=4)


@st.composite
def raw_requests(draw: st.DrawFn, bodies: st.SearchStrategy[bytes]) -> bytes:
    """A complete HTTP/1.1 request to /mcp with one of `bodies`, its request line or headers abused: each
    good header dropped one time in ten, up to four abusive lines added, chunked or not."""
    body = draw(bodies)
    lines = [line for line in _GOOD_LINES if draw(st.integers(0, 9)) > 0] + draw(_RAW_LINE_LISTS)
    chunked = draw(st.booleans())
    lines.append(b"Transfer-Encoding: chunked" if chunked else b"Content-Length: %d" % len(body))
    framed = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if chunked else body
    request_line = b" ".join([draw(_METHODS), draw(_TARGETS), draw(_HTTP_VERSIONS)])
    head = b"\r\n".join([request_line, *draw(st.permutations(lines))])
    return head + b"\r\n\r\n" + framed


# Any JSON value at all (not only objects), written by json.dumps.
json_texts = json_values.map(lambda value: json.dumps(value, ensure_ascii=False).encode())
