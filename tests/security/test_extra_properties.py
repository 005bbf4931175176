"""Arguments a tool's schema does not declare are refused, naming the property, before anything runs:
a misspelled, case-changed or smuggled argument never reaches policy or Gitea."""

from __future__ import annotations

import pytest

from gateway.mcp._jsonrpc import INVALID_PARAMS
from gateway.tools import default_registry
from tests.fuzz.client import CheckedClient
from tests.processes import Simulator
from tests.security.rpc import assert_refused, base_arguments, call_tool, no_upstream_request

pytestmark = pytest.mark.e2e

POLICY = "defaults: {read: allow, write: deny}\n"
EXTRA_PROPERTIES = {
    "unknown": "extra",
    "write-flag": "force_push",
    "http-method": "method",
    "upper-case-twin": "Owner",
    "trailing-space-twin": "repo ",
    "zero-width-twin": "owner\u200b",
    "prototype": "__proto__",
    "empty": "",
}
CASES = [
    pytest.param(tool.tool.name, name, id=f"{tool.tool.name}-{label}")
    for tool in default_registry()
    for label, name in EXTRA_PROPERTIES.items()
]
TOOLS = {tool.tool.name: tool for tool in default_registry()}


@pytest.mark.parametrize(("tool", "extra"), CASES)
def test_an_undeclared_argument_is_refused_by_name(
    client: CheckedClient, upstream: Simulator, tool: str, extra: str
) -> None:
    arguments = {**base_arguments(TOOLS[tool]), extra: True}
    with no_upstream_request(upstream):
        document = call_tool(client, tool, arguments)
    message = assert_refused(document, code=INVALID_PARAMS, naming=repr(extra))
    assert "Additional properties are not allowed" in message
