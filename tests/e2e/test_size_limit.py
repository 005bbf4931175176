"""max_file_bytes: OPA obliges the gateway to check a read's size once it is known (from the file's metadata,
before it is read); a larger file is decided again with its size and denied under the limit's own rule,
and its content never reaches the agent."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import Gateway, Simulator, start_gateway
from tests.replay import assert_every_decision_replays

pytestmark = pytest.mark.e2e
POLICY = """\
version: 1
defaults: {read: allow}
repositories:
  acme/*:
    limits: {max_file_bytes: 1000}
"""


@pytest.fixture(scope="module")
def gateway(
    simulator: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str
) -> Iterator[Gateway]:
    gw = start_gateway(tmp_path_factory.mktemp("gw-size"), policy=POLICY, upstream=simulator)
    yield gw
    gw.stop()


def read(gateway: Gateway, filepath: str) -> dict[str, Any]:
    call = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {
            "name": "get_file_contents",
            "arguments": {"owner": "acme", "repo": "app", "filepath": filepath},
        },
    }
    result: dict[str, Any] = httpx.post(gateway.url, json=call, headers=gateway.auth).json()["result"]
    return result


def test_file_under_the_limit_is_returned(gateway: Gateway) -> None:
    result = read(gateway, "README.md")
    assert result["isError"] is False
    assert result["structuredContent"]["size"] < 1000


def test_file_over_the_limit_is_denied_under_the_limit_rule(gateway: Gateway, simulator: Simulator) -> None:
    direct = httpx.get(
        f"{simulator.url}/api/v1/repos/acme/app/raw/src/fixture_2k.txt",
        headers={"Authorization": f"token {simulator.token}"},
    )
    assert len(direct.content) == 2048
    result = read(gateway, "src/fixture_2k.txt")
    assert result["isError"] is True
    reasons = result["structuredContent"]["reasons"]
    assert {
        "rule": "repo.acme/*.limits.max_file_bytes",
        "effect": "deny",
        "source": "policy.yaml:5",
    } in reasons
    assert "content" not in result["structuredContent"]
    assert "the file is 2048 bytes, over the limit of 1000 bytes" in result["content"][0]["text"]
    assert direct.text[:64] not in json.dumps(result)
    entry = json.loads(Path(gateway.audit_log).read_text().splitlines()[-1])
    assert (entry["outcome"], entry["path"]) == ("denied", "src/fixture_2k.txt")


def test_every_decision_replays_under_its_archived_policy(gateway: Gateway) -> None:
    """Runs last: the whole log of this module's gateway, decided again, gives every recorded decision."""
    assert_every_decision_replays(gateway, at_least=2)
