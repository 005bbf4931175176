"""A real PostgreSQL for tests: Debian's server (scripts/setup --with-postgres), initdb into a temporary
directory and started on a free loopback port by the tests, never as a system service."""

from __future__ import annotations

import dataclasses
import glob
import os
import pwd
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from tests.ports import free_port

START_TIMEOUT_S = 30.0
SUPERUSER = "aegis"


@dataclasses.dataclass
class PostgresServer:
    port: int
    data: Path
    bindir: Path
    process: subprocess.Popen[bytes]
    fsync: bool = False

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; returns its URL."""
        name = f"test_{secrets.token_hex(6)}"
        self.psql(f"CREATE DATABASE {name}")
        return self.url(name)

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            ["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", self.url(database), "-c", sql],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
        return result.stdout

    def stop(self, *, mode: str = "fast") -> None:
        """Stop the server (`immediate`: as a crash would, without a clean shutdown)."""
        _as_owner(self.data, [str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop"])
        self.process.wait(timeout=30)

    def remove(self) -> None:
        shutil.rmtree(self.data.parent, ignore_errors=True)

    def start(self) -> None:
        """Start it again on the same port and data (after stop)."""
        self.process = _launch(self.bindir, self.data, self.port, fsync=self.fsync)
        _wait_ready(self)


def start_postgres(*, fsync: bool = False) -> PostgresServer:
    """A new cluster in its own temporary directory (the server's user, not root, must reach it), removed
    by `remove()`. Without `fsync` (the tests' default) commits never wait for the disk; a benchmark that
    compares it with a database that does (SQLite's synchronous=FULL) wants it on."""
    bindir = _bindir()
    data = Path(tempfile.mkdtemp(prefix="aegis-pg-")) / "pgdata"
    data.mkdir()
    _hand_to_owner(data.parent, data)
    _as_owner(
        data,
        [str(bindir / "initdb"), "-D", str(data), "-U", SUPERUSER, "--auth=trust", "-E", "UTF8", "--no-sync"],
    )
    port = free_port()
    process = _launch(bindir, data, port, fsync=fsync)
    server = PostgresServer(port=port, data=data, bindir=bindir, process=process, fsync=fsync)
    _wait_ready(server)
    return server


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("postgres")
    if on_path is None:
        raise RuntimeError("PostgreSQL not found: run ./scripts/setup --with-postgres")
    return Path(on_path).resolve().parent


def _launch(bindir: Path, data: Path, port: int, *, fsync: bool) -> subprocess.Popen[bytes]:
    options = [
        "-D", str(data), "-p", str(port), "-h", "127.0.0.1", "-k", str(data),
        "-c", f"fsync={'on' if fsync else 'off'}", "-c", "max_connections=200", "-c", "shared_buffers=32MB",
    ]  # fmt: skip
    return subprocess.Popen(
        _owner_command(data, [str(bindir / "postgres"), *options]),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _wait_ready(server: PostgresServer) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"postgres exited with {server.process.returncode}")
        ready = subprocess.run(
            [str(server.bindir / "pg_isready"), "-h", "127.0.0.1", "-p", str(server.port)],
            capture_output=True,
        )
        if ready.returncode == 0:
            return
        time.sleep(0.1)
    raise RuntimeError("postgres did not start")


def _hand_to_owner(*paths: Path) -> None:
    """PostgreSQL refuses to run as root: as root, its files belong to the `postgres` user."""
    if os.getuid() != 0:
        return
    owner = pwd.getpwnam("postgres")
    for path in paths:
        os.chown(path, owner.pw_uid, owner.pw_gid)


def _owner_command(data: Path, command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.getuid() == 0 else command


def _as_owner(data: Path, command: list[str]) -> None:
    subprocess.run(_owner_command(data, command), check=True, capture_output=True, timeout=120)
