"""The official MCP conformance suite against the running gateway (Node 22, pinned in package-lock.json)."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from tests.conformance.key_injecting_proxy import KeyInjectingProxy, ProxyServer
from tests.processes import Gateway, Simulator, free_port, start_gateway

pytestmark = pytest.mark.conformance

HERE = Path(__file__).parent
BASELINE = HERE / "baseline.yml"
SUMMARY_LINE = re.compile(r"^\S+\s+([\w-]+): (\d+) passed, (\d+) failed$", re.MULTILINE)
REQUIRED = ("server-initialize", "ping", "tools-list", "dns-rebinding-protection")


def conformance_command() -> list[str]:
    root = Path(
        os.environ.get("AEGIS_CONFORMANCE_DIR", Path(__file__).resolve().parents[2] / ".tools/conformance")
    )
    node = root / "node_modules/.bin/node"
    cli = root / "node_modules/@modelcontextprotocol/conformance/dist/index.js"
    if not (node.exists() and cli.exists()):
        pytest.fail(f"conformance suite not installed in {root}: run ./scripts/setup --with-node")
    return [str(node), str(cli)]


@pytest.fixture(scope="module")
def gateway(
    simulator: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str
) -> Iterator[Gateway]:
    gw = start_gateway(
        tmp_path_factory.mktemp("gw-conformance"), policy="defaults: {read: allow}\n", upstream=simulator
    )
    yield gw
    gw.stop()


def test_baseline_explains_every_entry_and_excludes_required_scenarios() -> None:
    baseline = yaml.safe_load(BASELINE.read_text())
    assert set(baseline) == {"server"}
    assert not set(REQUIRED) & set(baseline["server"])
    text = BASELINE.read_text()
    for scenario in baseline["server"]:
        line = next(line for line in text.splitlines() if line.strip().startswith(f"- {scenario}"))
        assert "#" in line, f"{scenario} has no reason in the baseline"


def test_conformance_suite_passes_with_baseline(gateway: Gateway, tmp_path: Path) -> None:
    port = free_port()
    with ProxyServer(KeyInjectingProxy(upstream=gateway.base_url, key=gateway.key), port):
        result = subprocess.run(
            [
                *conformance_command(),
                "server",
                "--url",
                f"http://localhost:{port}/mcp",
                "--expected-failures",
                str(BASELINE),
                "-o",
                str(tmp_path / "results"),
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    summary = {name: (int(passed), int(failed)) for name, passed, failed in SUMMARY_LINE.findall(output)}
    for scenario in REQUIRED:
        passed, failed = summary[scenario]
        assert passed >= 1 and failed == 0, (scenario, passed, failed)
