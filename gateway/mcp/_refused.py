"""What a request the strict parser refused can still tell the audit log: the tool calls it named.

The strict parser refuses duplicate keys, batches and malformed JSON, and nothing of such a request
runs. Its tool calls are still audited, as `invalid`: the body is read leniently, every value of a
duplicated key counts (the client may have meant either), and a body that is not JSON gives only the
tool names that match the form a tool name has.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from typing import Any

MAX_REFUSED_CALLS = 16
_TOOL_NAME = re.compile(rb'"name"\s*:\s*"([A-Za-z0-9_.\-]{1,128})"')
_TOOLS_CALL = re.compile(rb'"method"\s*:\s*"tools/call"')


class _Values(list[Any]):
    """Every value a duplicated key had, in order."""


def named_tool_calls(body: bytes) -> list[tuple[Any, Any]]:
    """(name, arguments) of each tools/call the body names, at most MAX_REFUSED_CALLS of them;
    arguments are None where they cannot be read."""
    try:
        document = json.loads(body.decode("utf-8"), object_pairs_hook=_keep_every_value)
    except (ValueError, RecursionError):
        return _scanned_calls(body)
    messages = document if isinstance(document, list) else [document]
    calls = (call for message in messages for call in _calls_of(message))
    return list(itertools.islice(calls, MAX_REFUSED_CALLS))


def _calls_of(message: Any) -> Iterator[tuple[Any, Any]]:
    if not isinstance(message, dict) or "tools/call" not in _every(message.get("method")):
        return
    for params in _every(message.get("params")):
        if not isinstance(params, dict):
            continue
        arguments = _every(params.get("arguments", {}))
        argument = arguments[0] if len(arguments) == 1 and _encodable(arguments[0]) else None
        for name in _every(params.get("name")):
            if isinstance(name, str):
                yield _escaped(name), argument


def _scanned_calls(body: bytes) -> list[tuple[Any, Any]]:
    if not _TOOLS_CALL.search(body):
        return []
    names = [match.decode("ascii") for match in _TOOL_NAME.findall(body)]
    return [(name, None) for name in dict.fromkeys(names)][:MAX_REFUSED_CALLS]


def _encodable(value: Any) -> bool:
    """Whether `value` is UTF-8 text throughout (a `\\ud800` escape decodes to a lone surrogate)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _escaped(name: str) -> str:
    return name.encode("utf-8", "backslashreplace").decode("utf-8")


def _every(value: Any) -> list[Any]:
    return list(value) if isinstance(value, _Values) else [value]


def _keep_every_value(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    document: dict[str, Any] = {}
    for key, value in pairs:
        if key not in document:
            document[key] = value
        elif isinstance(document[key], _Values):
            document[key].append(value)
        else:
            document[key] = _Values([document[key], value])
    return document
