"""A gateway that cannot start says why in one line naming what to fix, announces nothing, and exits
non-zero: never a traceback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import Simulator, start_gateway

pytestmark = pytest.mark.e2e

POLICY = "defaults: {read: allow, write: deny}\n"


@pytest.fixture
def taken_port() -> Iterator[int]:
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen(1)
    yield holder.getsockname()[1]
    holder.close()


def failed_start(tmp_path: Path, simulator: Simulator, env: dict[str, str]) -> tuple[int, list[str]]:
    gateway = start_gateway(tmp_path / "gw", policy=POLICY, upstream=simulator, env=env, wait_ready=False)
    code = gateway.process.wait(timeout=60)
    return code, gateway.logs().splitlines()


@pytest.mark.parametrize(
    ("env", "said"),
    [
        pytest.param(
            {"AEGIS_OPA_BIN": "/nonexistent/opa"},
            "aegis: cannot run OPA (/nonexistent/opa): No such file or directory; set AEGIS_OPA_BIN",
            id="missing-opa",
        ),
        pytest.param(
            {"AEGIS_AUDIT_LOG": "/proc/nowhere/audit.jsonl"},
            "aegis: cannot open the audit log at /proc/nowhere/audit.jsonl: No such file or directory;"
            " check AEGIS_AUDIT_LOG",
            id="unwritable-audit-directory",
        ),
        pytest.param(
            {"AEGIS_STATE_DB": "/proc/nowhere/state.db"},
            "aegis: cannot open the state database at /proc/nowhere/state.db: No such file or directory;"
            " check AEGIS_STATE_DB",
            id="unwritable-state-directory",
        ),
        pytest.param(
            {"AEGIS_MAX_IN_FLIGHT": "lots"},
            "aegis: AEGIS_MAX_IN_FLIGHT must be a whole number >= 1, got 'lots'",
            id="bad-setting",
        ),
    ],
)
def test_a_start_up_failure_is_one_line(
    tmp_path: Path, simulator: Simulator, env: dict[str, str], said: str
) -> None:
    code, lines = failed_start(tmp_path, simulator, env)
    assert code == 1
    assert lines[-1].startswith(said), lines
    assert not any("Traceback" in line or "Aegis MCP endpoint" in line for line in lines), lines


def test_a_taken_port_is_one_line(tmp_path: Path, simulator: Simulator, taken_port: int) -> None:
    code, lines = failed_start(tmp_path, simulator, {"AEGIS_BIND": f"127.0.0.1:{taken_port}"})
    assert code == 1
    assert lines == [
        f"aegis: cannot listen on 127.0.0.1:{taken_port}: it is in use (another gateway?); set AEGIS_BIND"
        " to a free HOST:PORT"
    ]


def test_a_temporary_directory_too_deep_for_opa_s_socket_is_one_line(
    tmp_path: Path, simulator: Simulator
) -> None:
    """The managed OPA listens on a unix socket in the gateway's private directory under TMPDIR, and a
    unix socket's path has at most 107 bytes."""
    deep = tmp_path / ("d" * 100)
    deep.mkdir()
    code, lines = failed_start(tmp_path, simulator, {"TMPDIR": str(deep)})
    assert code == 1
    assert lines[-1].startswith(f"aegis: OPA's unix socket would be {deep}/aegis-gw-"), lines
    assert lines[-1].endswith("a unix socket's path allows: set TMPDIR to a shorter directory"), lines
    assert not any("Traceback" in line or "Aegis MCP endpoint" in line for line in lines), lines
