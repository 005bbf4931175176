"""Real processes for tests: the Gitea simulator and the gateway, each under uvicorn on loopback."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from bench._processes import stop
from gateway import cli
from gateway.config import replica_log
from gateway.demo import spawn_simulator
from tests.ports import free_port
from tests.replay import replay_log

REPO_ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 60.0
# Budgets far above what a test sends, for tests that load the gateway on purpose.
UNLIMITED = {
    "AEGIS_IP_RATE": "1000000",
    "AEGIS_IP_BURST": "1000000",
    "AEGIS_KEY_RATE": "1000000",
    "AEGIS_KEY_BURST": "1000000",
}


# Reads allowed but acme/app's secrets directory, writes off: the policy of the fuzz and security suites.
SECRETS_DENIED_POLICY = """\
defaults: {read: allow, write: deny}
repositories:
  acme/app:
    paths:
      deny: ["src/secrets/**"]
"""

# Why a gateway's log is not replayed when it decides with a sidecar (start_gateway's `not_replayed`).
SIDECAR_NOT_ARCHIVED = "a sidecar OPA decided: the gateway archives no bundle of a sidecar's to replay under"


def opa_binary() -> str:
    """The pinned OPA the setup installed (AEGIS_OPA_BIN), else `opa` from PATH."""
    return os.environ.get("AEGIS_OPA_BIN") or "opa"


@dataclasses.dataclass
class Simulator:
    url: str
    token: str
    state_dir: Path
    process: subprocess.Popen[str]

    def requests(self) -> list[dict[str, object]]:
        """Every request the simulator has received so far (method, path, query, auth_given)."""
        log = self.state_dir.parent / "requests.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def stop(self) -> None:
        stop(self.process)
        if self.process.stdout is not None:
            self.process.stdout.close()


@dataclasses.dataclass(frozen=True)
class Upstream:
    """Any Gitea the gateway may be pointed at (a test's own failing server, say)."""

    url: str
    token: str = "test-token"


@dataclasses.dataclass
class Gateway:
    url: str
    base_url: str
    key: str
    audit_log: Path
    keys_file: Path
    log_file: Path
    process: subprocess.Popen[bytes]
    workdir: Path
    env: Mapping[str, str]  # the gateway's whole environment: replay reads its archive as it did
    aegis: tuple[str, ...]
    not_replayed: str | None  # why its log is not replayed at stop, or None
    replayed: bool = False

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def stop(self) -> None:
        """Stop the process, then (once) replay its audit log: every decision must be reproduced."""
        stop(self.process)
        if not self.replayed:
            self.replayed = True
            replay_log(
                self.audit_log,
                env=self.env,
                cwd=self.workdir,
                aegis=self.aegis,
                not_replayed=self.not_replayed,
            )

    def logs(self) -> str:
        return self.log_file.read_text(encoding="utf-8", errors="replace")

    def logged(
        self, request_id: str, *, awaiting: frozenset[str] = frozenset({"http request"})
    ) -> list[dict[str, Any]]:
        """The JSON log lines of one request, once those with the messages `awaiting` are there: the
        access log line is written after the response has gone out, so a test may read before it."""
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            lines = [json.loads(line) for line in self.logs().splitlines() if line.startswith("{")]
            mine = [line for line in lines if line.get("request_id") == request_id]
            if awaiting <= {line["msg"] for line in mine} or time.monotonic() > deadline:
                return mine
            time.sleep(0.05)


def start_simulator(
    state_dir: Path, *, token_scopes: tuple[str, ...] = (), host: str = "127.0.0.1"
) -> Simulator:
    """The demo simulator in its own process on `host`, logging every request it receives to
    requests.jsonl; its token has the demo's read scopes, or `token_scopes` (Gitea scope names)."""
    token_file = state_dir.parent / f"{state_dir.name}.token"
    request_log = state_dir.parent / "requests.jsonl"
    scopes = ("--token-scopes", ",".join(token_scopes)) if token_scopes else ()
    process, url = spawn_simulator(
        state_dir, token_file, "--request-log", str(request_log), "--host", host, *scopes
    )
    return Simulator(url=url, token=token_file.read_text().strip(), state_dir=state_dir, process=process)


AEGIS = (sys.executable, "-m", "gateway.cli")  # the checkout's `aegis`


def create_key(
    keys_file: Path,
    name: str = "e2e-agent",
    scopes: tuple[str, ...] = ("tools:read",),
    extra: tuple[str, ...] = (),
    *,
    aegis: tuple[str, ...] = AEGIS,
) -> str:
    """`aegis keys create`; `extra` are more of its options (--expires, --rate, --burst). The checkout's
    command runs in this process (the same `main`, without a second interpreter's start-up)."""
    scope_args = [arg for scope in scopes for arg in ("--scope", scope)]
    argv = ["keys", "create", "--name", name, "--keys-file", str(keys_file), *scope_args, *extra]
    if aegis != AEGIS:
        return subprocess.run([*aegis, *argv], capture_output=True, text=True, check=True).stdout.strip()
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as refused:  # argparse's usage error
            code = refused.code
    assert code == 0, f"aegis {' '.join(argv)} exited with {code}: {err.getvalue()}"
    return out.getvalue().strip()


def start_gateway(
    workdir: Path,
    *,
    policy: str,
    upstream: Simulator | Upstream,
    env: Mapping[str, str] | None = None,
    wait_ready: bool = True,
    bind_host: str = "127.0.0.1",
    serve_args: tuple[str, ...] = (),
    aegis: tuple[str, ...] = AEGIS,
    port: int | None = None,
    not_replayed: str | None = None,
) -> Gateway:
    """`aegis serve` (the checkout's, or another `aegis`) with its own managed OPA, a fresh key and audit
    log in `workdir`, which is also its working directory; on `port`, else a free one (a test that must
    name the gateway's URL in its settings, as OAuth's resource URL, picks the port first). Its stop
    replays its audit log (tests/replay.py) unless `not_replayed` says why not."""
    workdir.mkdir(parents=True, exist_ok=True)
    policy_file = workdir / "policy.yaml"
    policy_file.write_text(policy, encoding="utf-8")
    keys_file = workdir / "keys.json"
    key = create_key(keys_file, aegis=aegis)
    port = port or free_port()
    full_env = {
        **os.environ,
        "AEGIS_GITEA_URL": upstream.url,
        "AEGIS_GITEA_TOKEN": upstream.token,
        "AEGIS_POLICY": str(policy_file),
        "AEGIS_KEYS_FILE": str(keys_file),
        "AEGIS_AUDIT_LOG": str(workdir / "audit.jsonl"),
        "AEGIS_STATE_DB": str(workdir / "state.db"),
        "AEGIS_BIND": f"{bind_host}:{port}",
        "AEGIS_OPA_BIN": opa_binary(),
        "AEGIS_KEYS_RELOAD_INTERVAL": "0",  # a key a test creates works at once: no test waits for it
        **(env or {}),
    }
    log_file = workdir / "gateway.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [*aegis, "serve", *serve_args],
            env=full_env,
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    base_url = f"http://127.0.0.1:{port}"
    gateway = Gateway(
        url=f"{base_url}/mcp",
        base_url=base_url,
        key=key,
        audit_log=replica_log(
            workdir / full_env["AEGIS_AUDIT_LOG"], full_env.get("AEGIS_REPLICA_ID") or None
        ),
        keys_file=keys_file,
        log_file=log_file,
        process=process,
        workdir=workdir,
        env=full_env,
        aegis=aegis,
        not_replayed=not_replayed,
    )
    if wait_ready:
        _wait_ready(gateway)
    return gateway


def _wait_ready(gateway: Gateway) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    with httpx.Client(timeout=1.0) as client:  # one client: making one costs more than a request
        while time.monotonic() < deadline:
            if gateway.process.poll() is not None:
                raise RuntimeError(f"gateway exited with {gateway.process.returncode}:\n{gateway.logs()}")
            try:
                if client.get(f"{gateway.base_url}/readyz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
    stop(gateway.process)  # not gateway.stop(): a replay's failure would hide why it never became ready
    raise RuntimeError(f"gateway not ready after {START_TIMEOUT_S}s:\n{gateway.logs()}")


def wait_healthy(gateway: Gateway) -> None:
    """Until /healthz answers (for a gateway started with wait_ready=False, which may never be ready)."""
    with httpx.Client(timeout=1.0) as client:
        for _ in range(300):
            try:
                if client.get(f"{gateway.base_url}/healthz").status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if gateway.process.poll() is not None:
                raise RuntimeError(gateway.logs())
            time.sleep(0.1)
    raise RuntimeError("gateway never became healthy")


class SilentUpstream:
    """A TCP server that accepts connections and never answers: a Gitea that hangs."""

    def __init__(self) -> None:
        self.server = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.server.getsockname()[1]}"
        self.connections: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.server.accept()
            except OSError:
                return
            self.connections.append(connection)

    def close(self) -> None:
        self.server.close()
        for connection in self.connections:
            connection.close()
