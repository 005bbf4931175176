"""Traversal and URL tricks in every path-like and ref-like argument of every tool: refused with -32602
naming the argument, before anything reaches Gitea.

The arguments come from the registry (owner and repo of repository tools, `Tool.path_arg`, `Tool.ref_arg`)
and from the schemas (any property named like a path, ref or sha), so a new tool is covered by itself.
"""

from __future__ import annotations

import re

import pytest

from gateway.mcp._jsonrpc import INVALID_PARAMS
from gateway.tools import BoundTool, default_registry
from tests.fuzz.client import CheckedClient
from tests.processes import SECRETS_DENIED_POLICY, Simulator
from tests.security.rpc import assert_refused, base_arguments, call_tool, no_upstream_request

pytestmark = pytest.mark.e2e

POLICY = SECRETS_DENIED_POLICY
_PATHLIKE_PROPERTY = re.compile(r"path|ref|sha", re.IGNORECASE)
PAYLOADS = {
    "dot-dot-slash": "../../etc/passwd",
    "dot-dot": "..",
    "climb-out-of-a-directory": "a/../../b",
    "dot-dot-then-secret": "README.md/../src/secrets/prod.env",
    "percent-dots": "%2e%2e/etc/passwd",
    "percent-slash": "..%2fetc%2fpasswd",
    "percent-all": "%2e%2e%2fetc%2fpasswd",
    "double-percent": "%252e%252e%252fetc",
    "backslashes": "..\\..\\etc\\passwd",
    "absolute": "/etc/passwd",
    "drive-letter": "C:\\Windows\\win.ini",
    "nul": "README.md\u0000.png",
    "one-dot-leader": "\u2024\u2024/etc/passwd",
    "fullwidth-full-stop": "\uff0e\uff0e/etc/passwd",
    "fullwidth-solidus": "..\uff0fetc\uff0fpasswd",
    "division-slash": "..\u2215etc\u2215passwd",
    "fraction-slash": "..\u2044etc\u2044passwd",
    "overlong-utf8-dots": "%c0%ae%c0%ae/etc/passwd",
    "overlong-length": "a/" * 2100 + "b",
    "space-padded-dots": " .. /etc/passwd",
    "newline": "README.md\n../../etc/passwd",
    "trailing-newline": "main\n",
    "carriage-return": "README.md\r\nX-Injected: 1",
    "tab": "..\t/etc/passwd",
    "query": "README.md?ref=secret",
    "fragment": "README.md#L1",
    "reflog": "main@{1}",
    "tilde": "main~1",
    "caret": "main^",
}


def pathlike_arguments(tool: BoundTool) -> list[str]:
    """owner and repo of a repository tool, its path and ref arguments, and any path/ref/sha property."""
    names = ["owner", "repo"] if tool.tool.repo_scoped else []
    names += [
        name for name in (tool.tool.path_arg, tool.tool.ref_arg, tool.tool.branch_arg) if name is not None
    ]
    names += tool.tool.other_ref_args
    names += [name for name in tool.schema["properties"] if _PATHLIKE_PROPERTY.search(name)]
    return sorted(set(names), key=names.index)


def case(tool: BoundTool, argument: str, label: str) -> object:
    return pytest.param(tool, argument, PAYLOADS[label], id=f"{tool.tool.name}-{argument}-{label}")


CASES = [
    case(tool, argument, label)
    for tool in default_registry()
    for argument in pathlike_arguments(tool)
    for label in PAYLOADS
]


@pytest.mark.parametrize(
    ("name", "arguments"),
    [
        ("get_file_contents", ["owner", "repo", "filepath", "ref"]),
        ("list_commits", ["owner", "repo", "path", "ref"]),
        ("get_file_tree", ["owner", "repo", "ref"]),
        ("list_repositories", []),
        ("create_branch", ["owner", "repo", "from_ref", "branch"]),
        ("create_pull_request", ["owner", "repo", "base", "head"]),
        ("create_or_update_file", ["owner", "repo", "filepath", "branch", "sha"]),
    ],
)
def test_pathlike_arguments_are_found_in_the_registry_and_schemas(name: str, arguments: list[str]) -> None:
    tool = default_registry().get(name)
    assert tool is not None and pathlike_arguments(tool) == arguments


@pytest.mark.parametrize(("tool", "argument", "payload"), CASES)
def test_traversal_is_refused_before_gitea(
    client: CheckedClient, upstream: Simulator, tool: BoundTool, argument: str, payload: str
) -> None:
    with no_upstream_request(upstream):
        document = call_tool(client, tool.tool.name, {**base_arguments(tool), argument: payload})
    assert_refused(document, code=INVALID_PARAMS, naming=f"'{argument}'")
