"""Fixtures shared by the whole suite: one seeded Gitea simulator per session."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.postgres_server import PostgresServer, start_postgres
from tests.processes import Simulator, opa_binary, start_simulator
from tests.redis_server import RedisServer, start_redis
from tests.replay import COUNTS_FILE, recorded, summary
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


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """scripts/test collects the deploy checks from tests/deploy alone, and the rest without them: a
    deploy check anywhere else would run in neither."""
    strays = [
        item.nodeid
        for item in items
        if item.get_closest_marker("deploy") and not item.nodeid.startswith("tests/deploy/")
    ]
    if strays:
        raise pytest.UsageError(f"deploy checks belong in tests/deploy: {', '.join(strays)}")


RUN_COUNTS = pytest.StashKey[tuple[str, int]]()  # the counts file and where this run's lines start in it


def pytest_configure(config: pytest.Config) -> None:
    """Every process of the run (each pytest-xdist worker inherits the environment) appends its replays'
    counts to one file, so the summary covers them all: AEGIS_TEST_REPLAY_COUNTS, else a file of the run's."""
    if hasattr(config, "workerinput"):
        return
    counts = os.environ.get(COUNTS_FILE)
    if counts is None:
        handle, counts = tempfile.mkstemp(prefix="aegis-replays-", suffix=".jsonl")
        os.close(handle)
        os.environ[COUNTS_FILE] = counts
        config.add_cleanup(_forget_counts_file)
    config.stash[RUN_COUNTS] = (counts, os.path.getsize(counts) if os.path.exists(counts) else 0)


def _forget_counts_file() -> None:
    os.unlink(os.environ.pop(COUNTS_FILE))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """What the gateways' audit logs replayed, per module (tests/replay.py), when any gateway stopped."""
    if RUN_COUNTS not in config.stash:
        return
    replays = recorded(*config.stash[RUN_COUNTS])
    if replays:
        terminalreporter.section("audit replay")
        for line in summary(replays):
            terminalreporter.write_line(line)
