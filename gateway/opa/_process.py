"""The managed OPA: `opa run --server` on a private unix socket, supervised, stopped with the gateway."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
from collections.abc import Mapping
from pathlib import Path

from gateway.children import die_with_parent
from gateway.errors import ConfigError, OpaError
from gateway.opa._binary import cannot_run
from gateway.outbound import HttpSession, RequestFailed

READY_TIMEOUT_S = 30.0
SOCKET_PATH_MAX = 107  # bytes: sockaddr_un's sun_path holds 108 with the terminating NUL
STOP_GRACE_S = 5.0
RESTART_BACKOFF_S = (0.5, 1.0, 2.0, 5.0)
# OPA's decision log on its stderr (the gateway's), each logged input masked by the bundle's
# system.log.mask; with it on, OPA answers every query with its decision_id.
CONSOLE_DECISION_LOGS = {"decision_logs": {"console": True, "mask_decision": "/system/log/mask"}}

log = logging.getLogger(__name__)


# Go's garbage collector at 4x the live heap instead of 2x: a decision allocates about 2,000 objects, and
# at Go's default the collector took about a third of OPA's CPU per decision; at 400 OPA used 30 to 45%
# less CPU per decision for about 20 MiB more memory (docs/performance.md). An operator's GOGC wins.
OPA_GOGC = "400"


def opa_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """The environment OPA runs in: the gateway's, with GOGC at OPA_GOGC unless it is set."""
    return {**environment, "GOGC": environment.get("GOGC", OPA_GOGC)}


class ManagedOpa:
    """Runs OPA with one bundle, restarts it if it dies, and stops it on `stop()`.

    OPA listens on a unix socket inside `workdir` (mode 0600), so nothing else on the host can query or
    reconfigure it. If the gateway is killed outright, the kernel sends OPA SIGTERM (PR_SET_PDEATHSIG).
    With `console_decision_logs`, OPA writes a decision log line per query to its stderr, which is the
    gateway's: the line's decision_id is the one the audit entry records.

    Example:
        opa = ManagedOpa(opa_bin="opa", bundle=Path("bundle.tar.gz"), workdir=Path("/tmp/x"))
        await opa.start()
        client = DecisionClient(base_url=opa.base_url, unix_socket=opa.socket_path, ...)
    """

    def __init__(
        self,
        *,
        opa_bin: str,
        bundle: Path,
        workdir: Path,
        verification_key: Path | None = None,
        signing_alg: str = "RS256",
        console_decision_logs: bool = False,
    ) -> None:
        self._opa_bin = opa_bin
        self._bundle = bundle
        self._verification = (
            ["--verification-key", str(verification_key), "--signing-alg", signing_alg]
            if verification_key
            else []
        )
        self._config: list[str] = []
        if console_decision_logs:
            config = workdir / "opa-config.json"  # JSON is YAML, which OPA reads
            config.write_text(json.dumps(CONSOLE_DECISION_LOGS), encoding="utf-8")
            self._config = ["--config-file", str(config)]
        self.socket_path = workdir / "opa.sock"
        length = len(os.fsencode(self.socket_path))
        if length > SOCKET_PATH_MAX:  # OPA itself would only say "invalid argument"
            raise ConfigError(
                f"OPA's unix socket would be {self.socket_path}, {length} bytes, over the"
                f" {SOCKET_PATH_MAX} a unix socket's path allows: set TMPDIR to a shorter directory"
            )
        self._process: asyncio.subprocess.Process | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._stopping = False

    @property
    def base_url(self) -> str:
        return "http://opa"

    async def start(self) -> None:
        await self._spawn()
        self._supervisor = asyncio.create_task(self._supervise(), name="opa-supervisor")

    async def stop(self) -> None:
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
        await self._terminate()

    async def _spawn(self) -> None:
        self.socket_path.unlink(missing_ok=True)
        try:
            self._process = await asyncio.create_subprocess_exec(
                self._opa_bin,
                "run",
                "--server",
                "--addr",
                f"unix://{self.socket_path}",
                "--unix-socket-perm",
                "600",
                "--bundle",
                str(self._bundle),
                *self._verification,
                *self._config,
                "--skip-version-check",
                # Data kept as Rego values: a rule set read whole (with its path globs) is not converted
                # on every query, which cost time in proportion to its size.
                "--optimize-store-for-read-speed",
                "--log-level",
                "error",
                "--shutdown-grace-period",
                "1",
                stdin=asyncio.subprocess.DEVNULL,
                env=opa_environment(os.environ),
                preexec_fn=die_with_parent,
                # Its own session: a terminal's Ctrl-C reaches the gateway alone, which stops OPA after
                # the calls in flight, instead of OPA dying under them (and being restarted).
                start_new_session=True,
            )
        except OSError as exc:
            raise cannot_run(self._opa_bin, exc) from exc
        await self._wait_ready()

    async def _wait_ready(self) -> None:
        deadline = asyncio.get_running_loop().time() + READY_TIMEOUT_S
        probe = HttpSession(base_url=self.base_url, timeout_s=1.0, unix_socket=self.socket_path)
        try:
            while asyncio.get_running_loop().time() < deadline:
                if self._process is None or self._process.returncode is not None:
                    raise OpaError("OPA exited during start-up (is the bundle valid?)")
                with contextlib.suppress(RequestFailed, TimeoutError):
                    if (await probe.request("GET", "/health", params={"bundles": "true"})).status == 200:
                        return
                await asyncio.sleep(0.05)
        finally:
            await probe.aclose()
        await self._terminate()
        raise OpaError(f"OPA did not become ready within {READY_TIMEOUT_S:.0f}s")

    async def _supervise(self) -> None:
        failures = 0
        while not self._stopping:
            if self._process is None:
                return
            code = await self._process.wait()
            if self._stopping:
                return
            delay = RESTART_BACKOFF_S[min(failures, len(RESTART_BACKOFF_S) - 1)]
            log.error("managed OPA exited, restarting", extra={"exit_code": code, "retry_in_s": delay})
            failures += 1
            await asyncio.sleep(delay)
            try:
                await self._spawn()
                failures = 0
            except OpaError:
                log.exception("managed OPA restart failed")

    async def _terminate(self) -> None:
        process = self._process
        if process is None or process.returncode is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), STOP_GRACE_S)
        except TimeoutError:
            process.kill()
            await process.wait()
