"""Path rules per role and per principal through the running gateway: a key holding a role with a path
allowlist reads and lists only those paths, a principal's own deny keeps that key alone off a path, and
other keys are unaffected; each denial names the rule and its YAML line."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.processes import UNLIMITED, Gateway, Simulator, create_key, start_gateway
from tests.replay import assert_every_decision_replays
from tests.untrusted import untrusted_data

pytestmark = pytest.mark.e2e

POLICY = """\
defaults: {read: allow, write: deny}
roles:
  docs-bot: {capabilities: [read]}
principals:
  docs-agent: {roles: [docs-bot]}
  e2e-agent: {}
repositories:
  acme/app:
    paths:
      roles:
        docs-bot: {allow: ["docs/**"]}
      principals:
        e2e-agent: {deny: ["src/**"]}
"""


@pytest.fixture(scope="module")
def gateway(
    simulator: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str
) -> Iterator[Gateway]:
    gw = start_gateway(
        tmp_path_factory.mktemp("gw-path-scopes"), policy=POLICY, upstream=simulator, env=UNLIMITED
    )
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def docs_key(gateway: Gateway) -> str:
    return create_key(gateway.keys_file, name="docs-agent")


def call(gateway: Gateway, key: str, tool: str, **arguments: str) -> dict[str, Any]:
    response = httpx.post(
        gateway.url,
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": tool, "arguments": {"owner": "acme", "repo": "app", **arguments}},
        },
        headers={"Authorization": f"Bearer {key}", "Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200
    result: dict[str, Any] = response.json()["result"]
    return result


def test_a_role_allowlist_keeps_its_holder_in_docs(gateway: Gateway, docs_key: str) -> None:
    denied = call(gateway, docs_key, "get_file_contents", filepath="README.md")
    assert denied["isError"] is True
    assert "repo.acme/app.paths.roles.docs-bot.allow (policy.yaml:11)" in denied["content"][0]["text"]
    allowed = call(gateway, docs_key, "get_file_contents", filepath="docs/guide.md")
    assert allowed["isError"] is False


def test_a_role_allowlist_applies_inside_a_listing(gateway: Gateway, docs_key: str) -> None:
    listing = call(gateway, docs_key, "get_file_tree")
    assert listing["isError"] is False
    paths = {entry["path"] for entry in listing["structuredContent"]["entries"]}
    assert paths and all(path == "docs" or path.startswith("docs/") for path in paths)
    assert listing["structuredContent"]["withheld_by_policy"] > 0
    assert "README.md" not in untrusted_data(listing["content"][0]["text"])


def test_a_principal_deny_keeps_that_key_alone_off_the_path(gateway: Gateway, docs_key: str) -> None:
    denied = call(gateway, gateway.key, "get_file_contents", filepath="src/main.py")
    assert denied["isError"] is True
    assert "repo.acme/app.paths.principals.e2e-agent.deny[0] (policy.yaml:13)" in denied["content"][0]["text"]
    assert call(gateway, gateway.key, "get_file_contents", filepath="README.md")["isError"] is False
    listing = call(gateway, gateway.key, "get_file_tree")
    paths = {entry["path"] for entry in listing["structuredContent"]["entries"]}
    assert "README.md" in paths and not any(path == "src" or path.startswith("src/") for path in paths)


def test_every_decision_replays_under_its_archived_policy(gateway: Gateway) -> None:
    """Runs last: the whole log of this module's gateway, decided again, gives every recorded decision."""
    assert_every_decision_replays(gateway, at_least=5)
