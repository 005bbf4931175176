"""With WRITE_MODE off, no write reaches Gitea, even under a policy that would allow every write: the
gateway's write tools are denied by `context.write_mode`, other servers' write tools do not exist.

The key holds the tools:write scope and the policy allows writes to acme/app (whitelist and default), so
the only gate left is WRITE_MODE: every request the simulator serves in this module must be a GET.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from gateway.mcp._jsonrpc import INVALID_PARAMS
from gateway.tools import default_registry
from tests.fuzz.client import UNTHROTTLED, CheckedClient
from tests.processes import Gateway, Simulator, create_key, start_gateway
from tests.security.rpc import assert_denied, assert_refused, call_tool, no_upstream_request

pytestmark = pytest.mark.e2e

POLICY = """\
defaults: {read: allow, write: allow, automation: allow}
write:
  repositories: [acme/app]
"""
TARGET = {"owner": "acme", "repo": "app"}
# The gateway's write tools, each with arguments it would run.
WRITE_CALLS = {
    "create_issue": {**TARGET, "title": "t", "body": "b"},
    "update_issue": {**TARGET, "index": 1, "state": "closed"},
    "create_issue_comment": {**TARGET, "index": 1, "body": "b"},
    "add_labels": {**TARGET, "index": 1, "labels": ["security"]},
    "remove_labels": {**TARGET, "index": 1, "labels": ["bug"]},
    "create_branch": {**TARGET, "branch": "aegis/x", "from_ref": "main"},
    "create_or_update_file": {**TARGET, "filepath": "x.txt", "content": "x", "branch": "main"},
    "create_pull_request": {**TARGET, "head": "feature/login", "base": "main", "title": "t"},
}
# Write tools of other Gitea MCP servers, which this gateway does not have, with the arguments they take.
FOREIGN_WRITE_CALLS = {
    "create_file": {**TARGET, "filepath": "x.txt", "content": "eA==", "branch": "main"},
    "update_file": {**TARGET, "filepath": "README.md", "content": "eA==", "sha": "0" * 40},
    "delete_file": {**TARGET, "filepath": "README.md", "sha": "0" * 40},
    "delete_branch": {**TARGET, "branch": "feature/login"},
    "merge_pull_request": {**TARGET, "index": 1, "style": "merge"},
    "push_files": {**TARGET, "branch": "main", "files": [{"path": "x", "content": "y"}], "force": True},
    "create_release": {**TARGET, "tag_name": "v9", "target": "main"},
    "create_repository": {"name": "new", "private": False},
    "delete_repository": TARGET,
    "Create_Issue": {**TARGET, "title": "t"},
    "create_issue\u200b": {**TARGET, "title": "t"},
}
READ_TOOLS = {tool.tool.name for tool in default_registry() if tool.tool.capability == "read"}


@pytest.fixture(scope="module")
def gateway(upstream: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str) -> Iterator[Gateway]:
    """WRITE_MODE unset, whatever the environment of the test run says; the key may write."""
    workdir = tmp_path_factory.mktemp("gw-writes")
    writer = create_key(workdir / "keys.json", name="writer", scopes=("tools:read", "tools:write"))
    with pytest.MonkeyPatch.context() as environment:
        environment.delenv("WRITE_MODE", raising=False)
        gw = start_gateway(workdir, policy=POLICY, upstream=upstream, env=UNTHROTTLED)
    yield dataclasses.replace(gw, key=writer)
    gw.stop()


def test_tools_list_shows_no_write_tool(client: CheckedClient) -> None:
    reply = client.post(b'{"jsonrpc":"2.0","id":1,"method":"tools/list"}', kind="tools/list")
    tools = reply.json()["result"]["tools"]
    assert {tool["name"] for tool in tools} == READ_TOOLS
    assert all(tool["annotations"]["readOnlyHint"] is True for tool in tools)


@pytest.mark.parametrize(("name", "arguments"), list(WRITE_CALLS.items()), ids=list(WRITE_CALLS))
def test_a_write_tool_is_denied_by_write_mode(
    client: CheckedClient, upstream: Simulator, name: str, arguments: dict[str, object]
) -> None:
    with no_upstream_request(upstream):
        document = call_tool(client, name, arguments)
    assert_denied(document, rule="context.write_mode")


@pytest.mark.parametrize(
    ("name", "arguments"),
    list(FOREIGN_WRITE_CALLS.items()),
    ids=[name.replace("\u200b", "-zero-width-space") for name in FOREIGN_WRITE_CALLS],
)
def test_a_foreign_write_tool_is_an_unknown_tool(
    client: CheckedClient, upstream: Simulator, name: str, arguments: dict[str, object]
) -> None:
    with no_upstream_request(upstream):
        document = call_tool(client, name, arguments)
    message = assert_refused(document, code=INVALID_PARAMS)
    assert message == f"Unknown tool: {name}"


@pytest.mark.parametrize(
    "extra",
    [{"content": "eA=="}, {"sha": "0" * 40, "message": "m"}, {"force_push": True}, {"method": "DELETE"}],
    ids=["content", "sha-and-message", "force-push", "http-method"],
)
def test_a_read_tool_takes_no_write_arguments(
    client: CheckedClient, upstream: Simulator, extra: dict[str, object]
) -> None:
    arguments = {**TARGET, "filepath": "README.md", **extra}
    with no_upstream_request(upstream):
        document = call_tool(client, "get_file_contents", arguments)
    assert_refused(document, code=INVALID_PARAMS, naming="Additional properties are not allowed")


def test_reads_still_work_under_this_policy(client: CheckedClient) -> None:
    document = call_tool(client, "get_file_contents", {**TARGET, "filepath": "README.md"})
    assert document["result"]["isError"] is False, document


def test_gitea_saw_only_reads_in_this_module(upstream: Simulator) -> None:
    """Runs last: over every call above, the simulator served GETs, and at least one."""
    methods = [request["method"] for request in upstream.requests()]
    assert methods and set(methods) == {"GET"}, methods
