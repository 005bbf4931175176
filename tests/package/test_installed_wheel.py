"""The built wheel, installed into a clean virtualenv with no test extras, is the whole product: it
checks, compiles and explains policies, makes keys and serves, from any directory, with no checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import venv
from pathlib import Path

import httpx
import pytest

from tests.processes import REPO_ROOT, Simulator, start_gateway

pytestmark = pytest.mark.e2e

POLICY = """\
defaults: {read: allow, write: deny}
repositories:
  acme/app:
    paths:
      deny: ["src/secrets/**"]
"""


@pytest.fixture(scope="module")
def aegis(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`aegis` of the wheel built from this tree, in a virtualenv of its own."""
    root = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "-w",
            str(root / "dist"),
            str(REPO_ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = (root / "dist").glob("aegis_gateway-*.whl")
    venv.create(root / "venv", with_pip=True)
    python = root / "venv" / "bin" / "python"
    clean = {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}  # sees no checkout
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", str(wheel)], check=True, capture_output=True, env=clean
    )
    return root / "venv" / "bin" / "aegis"


@pytest.fixture
def elsewhere() -> dict[str, str]:
    """An environment that cannot see the checkout: no PYTHONPATH (each command runs outside it)."""
    return {name: value for name, value in os.environ.items() if name != "PYTHONPATH"}


def run(aegis: Path, *args: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(aegis), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_the_wheel_carries_no_simulator_and_no_test_tools(aegis: Path, elsewhere: dict[str, str]) -> None:
    python = aegis.parent / "python"
    for module in ("gitea_simulator", "pytest", "mcp"):
        probe = subprocess.run([python, "-c", f"import {module}"], env=elsewhere, capture_output=True)
        assert probe.returncode != 0, f"{module} is installed with the wheel"


def test_the_demo_without_the_simulator_says_what_to_do(
    aegis: Path, tmp_path: Path, elsewhere: dict[str, str], opa_bin: str
) -> None:
    env = {**elsewhere, "AEGIS_OPA_BIN": opa_bin, "AEGIS_BIND": "127.0.0.1:0"}
    demo = run(aegis, "demo", "--state-dir", str(tmp_path / "demo"), cwd=tmp_path, env=env)
    assert demo.returncode == 1
    assert demo.stderr.startswith("aegis: the demo Gitea simulator is not installed"), demo.stderr
    assert "Traceback" not in demo.stderr


def test_policies_are_checked_compiled_and_tested(
    aegis: Path, tmp_path: Path, elsewhere: dict[str, str], opa_bin: str
) -> None:
    env = {**elsewhere, "AEGIS_OPA_BIN": opa_bin}
    example = run(aegis, "policy", "example", cwd=tmp_path, env=env)
    assert example.returncode == 0, example.stderr
    (tmp_path / "policy.yaml").write_text(example.stdout)
    checked = run(aegis, "policy", "check", "policy.yaml", cwd=tmp_path, env=env)
    assert checked.returncode == 0 and checked.stdout == "policy.yaml: OK\n", checked.stderr
    compiled = run(aegis, "policy", "compile", "policy.yaml", "-o", "bundle.tar.gz", cwd=tmp_path, env=env)
    assert compiled.returncode == 0, compiled.stderr
    assert (tmp_path / "bundle.tar.gz").stat().st_size > 0
    tested = run(aegis, "policy", "test", "policy.yaml", cwd=tmp_path, env=env)  # the bundle's Rego loads
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_keys_are_made_and_the_gateway_serves(
    aegis: Path, tmp_path: Path, simulator: Simulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PYTHONPATH", raising=False)
    gateway = start_gateway(tmp_path / "gw", policy=POLICY, upstream=simulator, aegis=(str(aegis),))
    try:
        headers = {
            "Authorization": f"Bearer {gateway.key}",
            "Accept": "application/json, text/event-stream",
            "MCP-Protocol-Version": "2025-06-18",
        }

        def call(path: str) -> dict[str, object]:
            arguments = {"owner": "acme", "repo": "app", "filepath": path}
            body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call"}
            body["params"] = {"name": "get_file_contents", "arguments": arguments}
            response = httpx.post(gateway.url, json=body, headers=headers, timeout=30)
            assert response.status_code == 200, response.text
            assert "result" in response.json(), response.text
            result: dict[str, object] = response.json()["result"]
            return result

        assert call("README.md")["isError"] is False
        denied = call("src/secrets/token.txt")
        assert denied["isError"] is True and "repo.acme/app.paths.deny[0] (policy.yaml:5)" in str(
            denied["content"]
        )
    finally:
        gateway.stop()
    verified = run(aegis, "audit", "verify", str(gateway.audit_log), cwd=tmp_path, env=dict(os.environ))
    # The policy it loaded, then the two calls.
    assert verified.returncode == 0 and "3 entries" in verified.stdout, verified.stdout + verified.stderr


def test_jobs_are_checked_against_the_schema_the_wheel_carries(
    aegis: Path, tmp_path: Path, elsewhere: dict[str, str]
) -> None:
    (tmp_path / "jobs.yaml").write_text((REPO_ROOT / "examples/automation.yaml").read_text())
    checked = run(aegis, "jobs", "check", "--jobs", "jobs.yaml", cwd=tmp_path, env=elsewhere)
    assert checked.returncode == 0 and checked.stdout == "jobs.yaml: OK, 4 job(s)\n", checked.stderr
    (tmp_path / "jobs.yaml").write_text("version: 1\njobs: {x: {trigger: {webhook: {events: [tag]}}}}\n")
    refused = run(aegis, "jobs", "check", "--jobs", "jobs.yaml", cwd=tmp_path, env=elsewhere)
    assert refused.returncode == 1 and refused.stderr.startswith("jobs.yaml:2:"), refused.stderr
