"""Tool calls over raw JSON-RPC, what a refusal must look like, and proof that Gitea was not asked.

Example:
    with no_upstream_request(simulator):
        document = call_tool(client, "get_file_contents", {"owner": "acme", "repo": "app", "filepath": ".."})
    assert_refused(document, code=INVALID_PARAMS, naming="'filepath'")
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from gateway.tools import BoundTool
from tests.fuzz.client import CheckedClient
from tests.fuzz.invariants import INTERNAL_MARKERS
from tests.fuzz.json_text import encode
from tests.fuzz.strategies import tools_call
from tests.processes import Simulator

MAX_MESSAGE_CHARS = 300
# A valid value for each required argument of the tools, on a repository and file the simulator serves.
BASE_VALUES: dict[str, Any] = {
    "owner": "acme",
    "repo": "app",
    "filepath": "README.md",
    "index": 1,
    "title": "t",
    "body": "b",
    "labels": ["bug"],
    "branch": "aegis/x",
    "content": "x",
    "head": "aegis/x",
    "base": "main",
    "sha": "0123456789abcdef0123456789abcdef01234567",
    "query": "def",
}


def base_arguments(tool: BoundTool) -> dict[str, Any]:
    """The tool's required arguments (and those of the first alternative its schema may require), with
    values that make a valid call."""
    names = list(tool.schema.get("required", ()))
    for alternative in tool.schema.get("anyOf", ())[:1]:
        names += alternative["required"]
    return {name: BASE_VALUES[name] for name in names}


def call_tool(client: CheckedClient, name: str, arguments: Any) -> dict[str, Any]:
    """The JSON-RPC answer to a tools/call (a 200, as every tools/call answer is)."""
    reply = client.post(encode(tools_call(name, arguments)), kind="tools/call")
    assert reply.status == 200, reply
    document: dict[str, Any] = reply.json()
    return document


def assert_refused(document: dict[str, Any], *, code: int, naming: str | None = None) -> str:
    """The answer is a JSON-RPC error `code` whose message is plain and, if asked, names `naming`."""
    assert "result" not in document, document
    error = document["error"]
    assert error["code"] == code, error
    message: str = error["message"]
    assert_plain(message)
    assert naming is None or naming in message, (naming, message)
    return message


def assert_denied(document: dict[str, Any], *, rule: str) -> None:
    """The call ran through policy and was denied, naming `rule` among the reasons."""
    result = document["result"]
    assert result["isError"] is True and result["structuredContent"]["denied"] is True, result
    assert rule in [reason["rule"] for reason in result["structuredContent"]["reasons"]], result


def assert_plain(message: str) -> None:
    """Short, and free of anything only a stack trace or an exception's repr would put there."""
    assert len(message) <= MAX_MESSAGE_CHARS, message
    leaked = [marker for marker in INTERNAL_MARKERS if marker in message]
    assert not leaked, (leaked, message)


@contextlib.contextmanager
def upstream_requests(simulator: Simulator) -> Iterator[list[dict[str, object]]]:
    """The requests the simulator served during the block; the list is filled when the block ends."""
    before = len(simulator.requests())
    served: list[dict[str, object]] = []
    yield served
    served.extend(simulator.requests()[before:])


@contextlib.contextmanager
def no_upstream_request(simulator: Simulator) -> Iterator[None]:
    """Fails when the block made the simulator serve anything."""
    with upstream_requests(simulator) as served:
        yield
    assert served == [], f"reached Gitea: {served}"
