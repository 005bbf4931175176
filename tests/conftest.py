"""Fixtures shared by the whole suite: one seeded Gitea simulator per session."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres_server import PostgresServer, start_postgres
from tests.processes import Simulator, opa_binary, start_simulator
from tests.redis_server import RedisServer, start_redis
from tests.replay import RUN, summary
from tests.small_disk import SmallDisk, mount_small_disk, unmount


@pytest.fixture(scope="session")
def opa_bin() -> str:
    binary = opa_binary()
    if shutil.which(binary) is None:
        pytest.fail(f"OPA binary {binary!r} not found: run ./scripts/setup (or set AEGIS_OPA_BIN)")
    return binary


@pytest.fixture(scope="session")
def node_modules(repo_root: Path) -> Path:
    """Node 22 and the Node programs the tests drive (the MCP conformance suite, the Inspector, the TypeScript
    SDKs), installed by ./scripts/setup --with-node as pinned by tests/node/package-lock.json."""
    modules = Path(os.environ.get("AEGIS_NODE_DIR", repo_root / ".tools/node")) / "node_modules"
    if not (modules / ".bin/node").exists():
        pytest.fail(f"Node tools not installed in {modules.parent}: run ./scripts/setup --with-node")
    return modules


@pytest.fixture(scope="session")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    sim = start_simulator(tmp_path_factory.mktemp("gitea") / "state")
    yield sim
    sim.stop()


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    if shutil.which("redis-server") is None:
        pytest.fail("redis-server not found: run ./scripts/setup --with-redis")
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server
    server.stop()


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[SmallDisk]:
    """A 1 MiB filesystem of the test's own, to fill and free."""
    try:
        disk = mount_small_disk(tmp_path / "disk")
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield disk
    unmount(disk)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    try:
        server = start_postgres()
    except (RuntimeError, OSError, subprocess.CalledProcessError) as exc:
        pytest.fail(f"PostgreSQL cannot start: {exc}")
    yield server
    server.stop()
    server.remove()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """What the gateways' audit logs replayed, per module (tests/replay.py), when any gateway stopped."""
    if RUN:
        terminalreporter.section("audit replay")
        for line in summary(RUN):
            terminalreporter.write_line(line)
