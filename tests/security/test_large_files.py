"""A large file through get_file_contents: over the gateway's 1 MiB cap it is refused from its metadata
(an error result naming its size and the cap, audited as denied); within it, its text is returned once, in
the result's text content, scanned whole (a secret at its very end is masked)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.tools.read import MAX_FILE_BYTES
from tests.fuzz.client import CheckedClient
from tests.processes import Gateway, Simulator
from tests.security.rpc import call_tool
from tests.security.upstream import UpstreamWriter
from tests.untrusted import untrusted_data

pytestmark = pytest.mark.e2e

POLICY = "defaults: {read: allow, write: deny}\nsecrets: {output: mask}\n"
LINE = b"a line of plain text, the same again and again\n"
TOKEN = "ghp_" + "Pm4Kx8Wq2Zr6Tn0Bv3Ly7Hc1Jd5Fs9Ga2EuQ"
LINES = (MAX_FILE_BYTES - 100) // len(LINE)
NEAR_THE_CAP = LINE * LINES + f"GITHUB_TOKEN={TOKEN}\n".encode()
OVER_THE_CAP = LINE * (2 * MAX_FILE_BYTES // len(LINE))


@pytest.fixture(scope="module")
def planted(upstream: Simulator) -> Iterator[None]:
    writer = UpstreamWriter(upstream)
    writer.add_file("big/near.txt", NEAR_THE_CAP)
    writer.add_file("big/over.txt", OVER_THE_CAP)
    yield
    writer.close()


def read_file(client: CheckedClient, path: str) -> dict[str, Any]:
    arguments = {"owner": "acme", "repo": "app", "filepath": path}
    result: dict[str, Any] = call_tool(client, "get_file_contents", arguments)["result"]
    return result


def test_a_file_over_the_cap_is_an_error_naming_its_size_and_the_cap(
    planted: None, client: CheckedClient, gateway: Gateway
) -> None:
    result = read_file(client, "big/over.txt")
    assert result["isError"] is True
    message = result["content"][0]["text"]
    assert f"the file is {len(OVER_THE_CAP)} bytes, over the limit of {MAX_FILE_BYTES} bytes" in message
    assert {"rule": "output.max_file_bytes", "effect": "deny", "source": "gateway"} in result[
        "structuredContent"
    ]["reasons"]
    assert LINE.decode()[:20] not in json.dumps(result)
    entry = json.loads(Path(gateway.audit_log).read_text().splitlines()[-1])
    assert (entry["outcome"], entry["path"]) == ("denied", "big/over.txt")


def test_a_file_near_the_cap_is_returned_once_and_scanned_whole(planted: None, client: CheckedClient) -> None:
    result = read_file(client, "big/near.txt")
    assert result["isError"] is False, str(result)[:500]
    [block] = result["content"]
    assert untrusted_data(block["text"]) == NEAR_THE_CAP.decode().replace(TOKEN, "[REDACTED:github_token]")
    file = result["structuredContent"]
    assert (file["path"], file["size"], file["encoding"]) == ("big/near.txt", len(NEAR_THE_CAP), "utf-8")
    assert "content" not in file and "text content" in file["note"]
    assert json.dumps(result).count(LINE.decode()[:-1]) == LINES
    assert result["_meta"]["aegis"]["secrets_masked"] == 1
