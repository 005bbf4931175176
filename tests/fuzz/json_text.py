"""A JSON writer that also writes what `json.dumps` refuses to: duplicate keys and raw tokens.

The fuzz strategies build a message from ordinary Python values, then put `Raw` values (bytes written as
they are: `NaN`, `1e999`, a lone `\\ud800` escape, invalid UTF-8) and `Key` keys (a key that a dict holds
beside an equal `str`, so that the written object repeats a member) into it, so that one encoder serves
valid and malformed messages alike.

Example:
    encode({"name": "a", Key.of("name"): "b", "x": Raw(b"NaN")})
    # b'{"name":"a","name":"b","x":NaN}'
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any


@dataclasses.dataclass(frozen=True)
class Raw:
    """Bytes written verbatim in place of a JSON value."""

    token: bytes


@dataclasses.dataclass(frozen=True)
class Key:
    """An object key written verbatim (a quoted JSON string); never equal to a `str` key."""

    token: bytes

    @classmethod
    def of(cls, text: str) -> Key:
        return cls(_scalar(text))


def encode(value: Any) -> bytes:
    """UTF-8 JSON text of `value`, with `Raw` values and `Key` keys written as they are."""
    if isinstance(value, Raw):
        return value.token
    if isinstance(value, dict):
        members = (_key(key) + b":" + encode(item) for key, item in value.items())
        return b"{" + b",".join(members) + b"}"
    if isinstance(value, list | tuple):
        return b"[" + b",".join(encode(item) for item in value) + b"]"
    return _scalar(value)


def _key(key: str | Key) -> bytes:
    return key.token if isinstance(key, Key) else _scalar(key)


def _scalar(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode()
