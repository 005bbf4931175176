"""Decisions from an OPA the gateway runs itself, hot-swapped when the policy file changes.

A change to the policy file is compiled and served by a second managed OPA; once that OPA answers, its
policy verifies and the policy is recorded (archived and audited, by the recorder the gateway gives),
new calls go to it and the old one is retired after a grace period, so in-flight calls finish where they
started. A policy that does not compile, load, verify or get recorded is refused: the old one stays.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import json
import logging
import shutil
import tarfile
from pathlib import Path
from typing import Protocol

from policy_compiler import PolicyCompilerError, build_bundle

from gateway.errors import ConfigError, GatewayError, OpaError
from gateway.observability.metrics import Metrics
from gateway.opa._client import DecisionClient
from gateway.opa._delegating import Delegating
from gateway.opa._process import ManagedOpa

BUNDLE_SUFFIXES = (".tar.gz", ".tgz")
log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ManagedSettings:
    """What a managed OPA needs of the configuration, and nothing else."""

    opa_bin: str
    policy_path: Path
    policy_reload_s: float  # 0: the policy file is not watched
    opa_timeout_s: float
    bundle_verification_key: Path | None = None
    bundle_signing_alg: str = "RS256"
    console_decision_logs: bool = False  # OPA logs each decision (masked by the bundle) on its stderr


@dataclasses.dataclass(frozen=True)
class LoadedPolicy:
    """A policy about to serve: its bundle and the exact YAML it was compiled from (None for a pre-built
    bundle), the file it came from, the revision it replaces and why it was loaded."""

    revision: str
    bundle: bytes
    source: bytes | None
    file: Path
    previous_revision: str | None
    cause: str  # "start" or "reload"

    @property
    def source_sha256(self) -> str | None:
        return None if self.source is None else hashlib.sha256(self.source).hexdigest()


class PolicyRecorder(Protocol):
    async def record(self, loaded: LoadedPolicy) -> None:
        """Keep and audit a policy before it serves; raising refuses it."""
        ...


@dataclasses.dataclass(frozen=True)
class _Materialized:
    bundle: Path
    revision: str
    source: bytes | None


@dataclasses.dataclass(frozen=True)
class _Generation:
    revision: str
    managed: ManagedOpa
    client: DecisionClient
    workdir: Path


class ManagedSource(Delegating):
    """Decisions, readiness and the bundle revision of the OPA generation in service.

    Example:
        source = ManagedSource(settings=managed_settings, metrics=metrics, workdir=Path(tempfile.mkdtemp()))
        await source.start()
        decision = await source.decide(opa_input)
    """

    def __init__(
        self, *, settings: ManagedSettings, metrics: Metrics, workdir: Path, recorder: PolicyRecorder
    ) -> None:
        self._settings = settings
        self._metrics = metrics
        self._workdir = workdir
        self._recorder = recorder
        self._generations = 0
        self._current: _Generation | None = None
        self._retiring: dict[asyncio.Task[None], _Generation] = {}
        self._watcher: asyncio.Task[None] | None = None
        # Compiled now, not in start(): a bad policy stops the gateway before it binds its port.
        self._first = self._materialize(self._next_workdir())
        self._digest = _digest_of(self._first, settings.policy_path)
        self.revision = self._first.revision

    @property
    def client(self) -> DecisionClient:
        if self._current is None:
            raise OpaError("the managed OPA has not started")
        return self._current.client

    async def start(self) -> None:
        generation = await self._launch(self._first, self._first.bundle.parent)
        await self._record(generation, self._first, previous=None, cause="start")
        self._current = generation
        if self._settings.policy_reload_s > 0:
            self._watcher = asyncio.create_task(self._watch(), name="policy-watcher")

    async def stop(self) -> None:
        if self._watcher is not None:
            self._watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watcher
        retiring = dict(self._retiring)
        for task in retiring:
            task.cancel()
        await asyncio.gather(*retiring, return_exceptions=True)
        for generation in retiring.values():  # a retirement cancelled before it began shut nothing
            await self._shut(generation)
        if self._current is not None:
            await self._shut(self._current)

    async def refresh(self) -> bool:
        """Ready while the OPA in service answers and its policy verified."""
        client = self.client
        return await client.is_ready() and client.policy_verified

    async def reload_if_changed(self) -> bool:
        """Swap in the policy file's new content if it changed; True when a new policy now serves."""
        digest = await asyncio.to_thread(_digest, self._settings.policy_path)
        if digest == self._digest or self._current is None:
            return False
        self._digest = digest  # a refused content is not retried until the file changes again
        old = self._current
        try:
            workdir = self._next_workdir()
            materialized = await asyncio.to_thread(self._materialize, workdir)
            generation = await self._launch(materialized, workdir)
            await self._record(generation, materialized, previous=old.revision, cause="reload")
            self._current = generation
        except (GatewayError, PolicyCompilerError, OSError) as exc:
            self._metrics.policy_reloads.labels(result="refused").inc()
            log.error(
                "policy reload refused; the current policy stays",
                extra={"error": str(exc), "bundle_revision": self.revision},
            )
            return False
        self.revision = materialized.revision
        self._metrics.policy_reloads.labels(result="applied").inc()
        log.info(
            "policy reloaded",
            extra={"bundle_revision": materialized.revision, "previous_revision": old.revision},
        )
        task = asyncio.create_task(self._retire(old))
        self._retiring[task] = old
        task.add_done_callback(lambda done: self._retiring.pop(done, None))
        return True

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._settings.policy_reload_s)
            try:
                await self.reload_if_changed()
            except Exception:
                log.exception("policy watcher failed; it keeps watching")

    async def _record(
        self, generation: _Generation, materialized: _Materialized, *, previous: str | None, cause: str
    ) -> None:
        """Hand the policy to the recorder before it serves; one it cannot record never serves."""
        loaded = LoadedPolicy(
            revision=materialized.revision,
            bundle=materialized.bundle.read_bytes(),
            source=materialized.source,
            file=self._settings.policy_path,
            previous_revision=previous,
            cause=cause,
        )
        try:
            await self._recorder.record(loaded)
        except BaseException:
            await self._shut(generation)
            raise

    async def _launch(self, materialized: _Materialized, workdir: Path) -> _Generation:
        revision = materialized.revision
        managed = ManagedOpa(
            opa_bin=self._settings.opa_bin,
            bundle=materialized.bundle,
            workdir=workdir,
            verification_key=self._settings.bundle_verification_key,
            signing_alg=self._settings.bundle_signing_alg,
            console_decision_logs=self._settings.console_decision_logs,
        )
        await managed.start()
        client = DecisionClient(
            base_url=managed.base_url,
            unix_socket=managed.socket_path,
            timeout_s=self._settings.opa_timeout_s,
            metrics=self._metrics,
        )
        generation = _Generation(revision=revision, managed=managed, client=client, workdir=workdir)
        if not await client.verify_policy():
            await self._shut(generation)
            raise OpaError(f"OPA rejects the policy of bundle {revision[:12]} (policy_valid is not true)")
        if client.verified_revision != revision:
            await self._shut(generation)
            raise OpaError(
                f"bundle {revision[:12]}: its data names revision {str(client.verified_revision)[:12]}, "
                "not its manifest's (a hand-made or re-packed bundle?)"
            )
        return generation

    async def _retire(self, generation: _Generation) -> None:
        """Stop an old OPA once every call that started on it has had time to finish (`stop` shuts it
        at once when the gateway stops before that)."""
        await asyncio.sleep(self._settings.opa_timeout_s * 2 + 1)
        await self._shut(generation)

    async def _shut(self, generation: _Generation) -> None:
        await generation.client.aclose()
        await generation.managed.stop()
        shutil.rmtree(generation.workdir, ignore_errors=True)

    def _next_workdir(self) -> Path:
        self._generations += 1
        workdir = self._workdir / f"generation-{self._generations}"
        workdir.mkdir(mode=0o700)
        return workdir

    def _materialize(self, workdir: Path) -> _Materialized:
        """The bundle OPA will load, its revision, and the YAML it was compiled from: the policy file is
        read once and its copy compiled, so that what is archived is exactly what serves; a pre-built
        bundle is copied (later changes to the file cannot reach a running OPA unverified)."""
        source = self._settings.policy_path
        target = workdir / "bundle.tar.gz"
        if source.name.endswith(BUNDLE_SUFFIXES):
            shutil.copyfile(source, target)
            return _Materialized(target, _manifest_revision(target), source=None)
        try:
            yaml = source.read_bytes()
        except OSError as exc:
            raise ConfigError(f"cannot read the policy {source}: {exc.strerror}") from exc
        copy = workdir / source.name
        copy.write_bytes(yaml)
        info = build_bundle(copy, target)
        return _Materialized(info.path, info.revision, source=yaml)


def _digest_of(materialized: _Materialized, path: Path) -> str:
    """The digest the watcher compares the file with: of the YAML compiled, or of the bundle copied."""
    if materialized.source is not None:
        return hashlib.sha256(materialized.source).hexdigest()
    return _digest(path)


def _digest(path: Path) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError as exc:
        raise ConfigError(f"cannot read the policy {path}: {exc.strerror}") from exc


def _manifest_revision(bundle: Path) -> str:
    try:
        with tarfile.open(bundle) as archive:
            member = archive.extractfile(".manifest")
            manifest = json.loads(member.read()) if member else {}
    except (OSError, tarfile.TarError, KeyError, ValueError) as exc:
        raise ConfigError(f"{bundle} is not an OPA bundle with a .manifest: {exc}") from exc
    revision = manifest.get("revision") if isinstance(manifest, dict) else None
    if not isinstance(revision, str) or not revision:
        raise ConfigError(f"{bundle}: its .manifest has no revision")
    return revision
