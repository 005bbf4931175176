"""README command 1: `aegis demo` serves a seeded upstream that an MCP client can use with the printed key."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from bench._processes import children
from tests.processes import free_port, opa_binary

pytestmark = pytest.mark.e2e
BANNER = re.compile(r"MCP endpoint : (?P<url>\S+)\n\s+API key\s+: (?P<key>\S+)")


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    env = {**os.environ, "AEGIS_BIND": f"127.0.0.1:{free_port()}", "AEGIS_OPA_BIN": opa_binary()}
    env.pop("AEGIS_GITEA_URL", None)
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "gateway.cli", "demo", "--state-dir", str(tmp_path / "state")],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        match = None
        for _ in range(600):
            text = log.read_text(errors="replace")
            match = BANNER.search(text)
            if (match and '"aegis ready"' in text) or process.poll() is not None:
                break
            time.sleep(0.1)
        assert match is not None, log.read_text()
        yield match["url"], match["key"], tmp_path / "state"
        helpers = children(process.pid)  # the demo's Gitea simulator and OPA
        assert len(helpers) == 2
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert process.returncode in (0, -signal.SIGTERM), log.read_text()
    for _ in range(50):  # the kernel stops them once the demo is gone
        if not any(Path(f"/proc/{pid}").exists() for pid in helpers):
            break
        time.sleep(0.1)
    assert not any(Path(f"/proc/{pid}").exists() for pid in helpers), "a child of the demo outlived it"


async def test_demo_serves_files_with_the_printed_key(demo: tuple[str, str, Path]) -> None:
    url, key, state = demo
    async with (
        create_mcp_http_client(headers={"Authorization": f"Bearer {key}"}) as http,
        Client(streamable_http_client(url, http_client=http)) as client,
    ):
        readme = await client.call_tool(
            "get_file_contents", {"owner": "acme", "repo": "app", "filepath": "README.md"}
        )
        secret = await client.call_tool(
            "get_file_contents", {"owner": "acme", "repo": "app", "filepath": "src/secrets/prod.env"}
        )
    assert readme.is_error is False and readme.content[0].text
    assert secret.is_error is True
    verify = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "audit", "verify", str(state / "audit.jsonl")],
        capture_output=True,
        text=True,
    )
    assert verify.returncode == 0 and "2 entries" in verify.stdout
