"""What every answer of the gateway must satisfy, whatever was sent: no 5xx, no internals, valid JSON.

Example:
    reply = KeepAlive(address).post(b"/mcp", headers, body)  # tests/fuzz/raw_http.py
    assert_no_internal_failure(reply, sent=body)
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from gateway import errors
from tests.json_strings import strings_in

INTERNAL_ERROR = -32603
# Words that only a stack trace or a leaked exception puts in a response.
INTERNAL_MARKERS = (
    "Traceback",
    'File "',
    '.py"',
    "Exception",
    *sorted(
        {
            cls.__name__
            for cls in vars(errors).values()
            if isinstance(cls, type) and issubclass(cls, Exception)
        }
        | {
            "JsonRpcError",
            "RecursionError",
            "UnicodeEncodeError",
            "UnicodeDecodeError",
            "JSONDecodeError",
            "ValidationError",
            "KeyError",
            "TypeError",
            "ValueError",
            "AttributeError",
            "IndexError",
            "RuntimeError",
            "AssertionError",
        }
    ),
)


@dataclasses.dataclass(frozen=True)
class Reply:
    """One HTTP response: status, headers (lower-case names) and body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    def __repr__(self) -> str:
        return f"Reply({self.status}, {dict(self.headers)}, {self.body[:300]!r})"

    def json(self) -> Any:
        """The JSON body, or None when the response does not say it is JSON."""
        if not self.headers.get("content-type", "").startswith("application/json"):
            return None
        return json.loads(self.body)


def assert_no_internal_failure(reply: Reply, *, sent: bytes) -> None:
    """No 5xx but a 503 that says when to retry; JSON that parses; no internals in what the client sees.

    Successful tool results are repository data, which may quote anything, so only errors and the rest of
    the envelope are searched for internals; a marker the client sent itself may be echoed back."""
    assert reply.status < 500 or (reply.status == 503 and "retry-after" in reply.headers), reply
    document = reply.json()  # raises on a body that claims to be JSON and is not
    shown = _client_visible_errors(document) if document is not None else reply.body.decode("latin-1")
    leaked = [m for m in INTERNAL_MARKERS if m in shown and m.encode() not in sent]
    assert not leaked, (leaked, reply)
    error = document.get("error") if isinstance(document, dict) else None
    assert not (isinstance(error, dict) and error.get("code") == INTERNAL_ERROR), reply


def request_id_gap(reply: Reply) -> str | None:
    """Why a non-2xx JSON error fails to name the request id of its X-Request-Id header, if it does."""
    document = reply.json()
    if 200 <= reply.status < 300 or not isinstance(document, dict) or "error" not in document:
        return None
    data = document["error"].get("data") if isinstance(document["error"], dict) else None
    named = data.get("request_id") if isinstance(data, dict) else None
    if named is not None and named == reply.headers.get("x-request-id"):
        return None
    return f"HTTP {reply.status} {reply.body[:160]!r} names request id {named!r}, header {reply.headers}"


def _client_visible_errors(document: Any) -> str:
    """The text of a JSON answer that the gateway wrote itself: all of it but a successful tool result."""
    result = document.get("result") if isinstance(document, dict) else None
    if isinstance(result, dict) and result.get("isError") is False:
        document = {key: value for key, value in document.items() if key != "result"}
    return "\n".join(strings_in(document))
