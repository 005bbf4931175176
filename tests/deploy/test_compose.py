"""The compose profile `dev` as a user runs it: deploy/compose/init, then podman-compose up, and the
gateway answers a call with its policy's decision."""

from __future__ import annotations

import os
import re
import secrets
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from bench._processes import free_port
from tests.deploy.test_image_pod import await_ready, require_images
from tests.processes import REPO_ROOT

pytestmark = pytest.mark.deploy

COMPOSE_FILE = REPO_ROOT / "deploy" / "compose" / "compose.yaml"


@pytest.fixture
def dev_profile(tmp_path: Path) -> Iterator[tuple[str, str]]:
    require_images()
    env = {**os.environ, "AEGIS_COMPOSE_DIR": str(tmp_path / "compose"), "AEGIS_PORT": str(free_port())}
    init = subprocess.run(
        [REPO_ROOT / "deploy" / "compose" / "init", "dev"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert init.returncode == 0, init.stdout + init.stderr
    key = re.search(r"aegis_[A-Za-z0-9_-]+", init.stdout)
    assert key is not None, init.stdout
    compose = [
        "podman-compose",
        "-p",
        f"aegis-{secrets.token_hex(4)}",
        "-f",
        str(COMPOSE_FILE),
        "--profile",
        "dev",
    ]
    up = subprocess.run([*compose, "up", "-d"], env=env, capture_output=True, text=True, timeout=300)
    try:
        assert up.returncode == 0, up.stdout + up.stderr
        yield f"http://127.0.0.1:{env['AEGIS_PORT']}", key.group(0)
    finally:
        subprocess.run([*compose, "down", "-t", "5"], env=env, capture_output=True, timeout=300)


def test_the_dev_profile_serves_its_policy(dev_profile: tuple[str, str]) -> None:
    url, key = dev_profile
    ready = await_ready(url, timeout_s=90)
    assert ready is not None and ready.status_code == 200
    headers = {
        "Authorization": f"Bearer {key}",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-06-18",
    }
    arguments = {"owner": "acme", "repo": "app", "filepath": "src/secrets/token.txt"}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call"}
    body["params"] = {"name": "get_file_contents", "arguments": arguments}
    result = httpx.post(f"{url}/mcp", json=body, headers=headers, timeout=30).json()["result"]
    assert result["isError"] is True
    assert result["structuredContent"]["reasons"][0]["rule"] == "repo.acme/app.paths.deny[0]"
    allowed = {**body, "params": {**body["params"], "arguments": {**arguments, "filepath": "README.md"}}}
    assert (
        httpx.post(f"{url}/mcp", json=allowed, headers=headers, timeout=30).json()["result"]["isError"]
        is False
    )
