"""README command 1: `aegis demo` serves a seeded upstream that an MCP client can use with the printed key."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from bench._processes import children
from tests.ports import free_port
from tests.processes import REPO_ROOT, opa_binary

pytestmark = pytest.mark.e2e
WRITE_DEMO_POLICY = REPO_ROOT / "examples" / "write-demo-policy.yaml"
BANNER = re.compile(r"MCP endpoint : (?P<url>\S+)\n\s+API key\s+: (?P<key>\S+)")


@dataclasses.dataclass(frozen=True)
class Demo:
    url: str
    key: str
    state: Path
    log: Path


@contextlib.contextmanager
def running_demo(tmp_path: Path, settings: Mapping[str, str]) -> Iterator[Demo]:
    """`aegis demo` in its own process, until its banner is out and it is ready; stopped at the end, with
    every child it started."""
    env = {**os.environ, "AEGIS_OPA_BIN": opa_binary(), **settings}
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
        yield Demo(match["url"], match["key"], tmp_path / "state", log)
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


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[Demo]:
    with running_demo(tmp_path, {"AEGIS_BIND": f"127.0.0.1:{free_port()}"}) as started:
        yield started


async def test_demo_serves_files_with_the_printed_key(demo: Demo) -> None:
    url, key, state = demo.url, demo.key, demo.state
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
    assert verify.returncode == 0 and "3 entries" in verify.stdout  # the policy loaded, then the two calls


def second_demo(state: Path, port: int) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AEGIS_BIND": f"127.0.0.1:{port}", "AEGIS_OPA_BIN": opa_binary()}
    env.pop("AEGIS_GITEA_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "demo", "--state-dir", str(state)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_second_demo_leaves_the_running_one_alone(demo: Demo) -> None:
    url, key, state = demo.url, demo.key, demo.state
    refused = second_demo(state, free_port())
    assert refused.returncode != 0
    assert "a demo runs already" in refused.stderr and "API key" not in refused.stdout
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json"}
    assert httpx.post(url, json=ping, headers=headers).status_code == 200  # its key still works


def test_a_demo_on_a_port_in_use_says_so_before_any_banner(demo: Demo, tmp_path: Path) -> None:
    taken = int(demo.url.rsplit(":", 1)[1].split("/")[0])
    refused = second_demo(tmp_path / "other", taken)
    assert refused.returncode != 0
    assert "is in use" in refused.stderr and "API key" not in refused.stdout


def test_the_banner_says_where_the_keys_are_and_how_to_run_aegis(demo: Demo) -> None:
    demo_log = demo.log.read_text()
    assert "keys file    : " in demo_log and "keys create --keys-file" in demo_log
    assert str(Path(sys.executable).with_name("aegis")) in demo_log
    assert "src/secrets/ is denied by the policy" in demo_log  # the example policy is loaded


async def test_with_write_mode_the_demo_completes_a_write(tmp_path: Path) -> None:
    env = {
        "AEGIS_BIND": f"127.0.0.1:{free_port()}",
        "WRITE_MODE": "true",
        "AEGIS_POLICY": str(WRITE_DEMO_POLICY),
    }
    with running_demo(tmp_path, env) as demo:
        async with (
            create_mcp_http_client(headers={"Authorization": f"Bearer {demo.key}"}) as http,
            Client(streamable_http_client(demo.url, http_client=http)) as client,
        ):
            created = await client.call_tool(
                "create_issue", {"owner": "acme", "repo": "app", "title": "From the demo"}
            )
    assert created.is_error is False, created.content
    assert created.structured_content is not None and created.structured_content["number"] > 0


def test_the_readme_client_example_reads_through_the_demo(demo: Demo) -> None:
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "examples" / "client.py"), demo.url, demo.key],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert "## Benchmarks" in done.stdout  # the demo README's own text, as main has it
