"""The managed OPA: restarted when it dies (calls meanwhile denied), stopped when the gateway stops."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import Gateway, Simulator, start_gateway

pytestmark = pytest.mark.e2e
POLICY = "defaults: {read: allow}\n"


def opa_children(gateway: Gateway) -> list[int]:
    pid = gateway.process.pid
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children if "opa" in Path(f"/proc/{child}/cmdline").read_bytes().decode()]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}").exists() and "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]


def call_repo_info(gateway: Gateway) -> dict[str, object]:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "get_repository_info", "arguments": {"owner": "acme", "repo": "app"}},
    }
    response = httpx.post(
        gateway.url, json=body, headers={**gateway.auth, "Accept": "application/json"}, timeout=10
    )
    result: dict[str, object] = response.json()["result"]
    return result


def test_killed_opa_is_restarted_and_stopped_with_the_gateway(
    simulator: Simulator, tmp_path: Path, opa_bin: str
) -> None:
    gateway = start_gateway(tmp_path, policy=POLICY, upstream=simulator)
    try:
        (first,) = opa_children(gateway)
        assert call_repo_info(gateway)["isError"] is False
        os.kill(first, signal.SIGKILL)
        denied = call_repo_info(gateway)  # before the restart: fail closed
        assert denied["isError"] is True
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and httpx.get(f"{gateway.base_url}/readyz").status_code != 200:
            time.sleep(0.1)
        assert httpx.get(f"{gateway.base_url}/readyz").status_code == 200
        (second,) = opa_children(gateway)
        assert second != first
        assert call_repo_info(gateway)["isError"] is False
        # Both ran with the gateway's collector setting for OPA (GOGC is unset in the tests).
        assert b"GOGC=400" in Path(f"/proc/{second}/environ").read_bytes().split(b"\0")
    finally:
        gateway.stop()
    assert gateway.process.returncode in (0, -signal.SIGTERM)  # uvicorn re-raises SIGTERM after shutdown
    assert "Application shutdown complete." in gateway.logs()
    assert not alive(second)
    assert '"managed OPA exited, restarting"' in gateway.logs()


@pytest.fixture
def temp() -> Iterator[Path]:
    """A TMPDIR of the test's own, and a short one: OPA's socket is made under it, and a unix socket's
    path has at most 107 bytes (a pytest-xdist worker's tmp_path alone takes about 70)."""
    directory = Path(tempfile.mkdtemp(prefix="aegis-test-"))
    yield directory
    shutil.rmtree(directory, ignore_errors=True)


def test_the_next_start_removes_the_scratch_directory_a_killed_gateway_left(
    simulator: Simulator, tmp_path: Path, temp: Path
) -> None:
    first = start_gateway(tmp_path / "first", policy=POLICY, upstream=simulator, env={"TMPDIR": str(temp)})
    left = list(temp.iterdir())
    assert len(left) == 1
    os.kill(first.process.pid, signal.SIGKILL)
    first.process.wait()
    assert left[0].exists()
    second = start_gateway(tmp_path / "second", policy=POLICY, upstream=simulator, env={"TMPDIR": str(temp)})
    try:
        assert not left[0].exists()
        assert len(list(temp.iterdir())) == 1  # the running gateway's own
    finally:
        second.stop()
    assert list(temp.iterdir()) == []
