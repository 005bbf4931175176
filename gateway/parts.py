"""The parts the app is built on: everything that holds a file, a process or a connection.

`create_app(settings)` builds them with build_parts; a test gives the app parts of its own (an engine
that needs no OPA, a Gitea client to nowhere) and drives it in process.

Example:
    parts = build_parts(settings)
    app = create_app(settings, parts)
"""

from __future__ import annotations

import contextlib
import dataclasses
import tempfile
from collections.abc import Callable, Iterator
from typing import Protocol

from gateway import state as state_databases
from gateway.audit import AuditLog, Checkpointing, CheckpointSigner, Rotation
from gateway.automation import DeliveryHandler, no_automation_jobs
from gateway.config import AUDIT_LOG_SETTING, STATE_DB_SETTING, Settings
from gateway.core.policy_records import PolicyRecords
from gateway.core.service import Decider
from gateway.edge import limits as limit_backends
from gateway.edge.keys import KeyStore
from gateway.edge.limits import LimitBackend, MemoryBackend
from gateway.edge.oauth import OAuthResourceServer
from gateway.errors import ConfigError
from gateway.gitea import CircuitBreaker, GiteaClient
from gateway.observability.metrics import Metrics
from gateway.opa import ManagedSettings, ManagedSource, PolicyRecorder, SidecarSource
from gateway.scratch import ScratchDir
from gateway.scratch import remove_stale as remove_stale_scratch
from gateway.state import Database, PolicyArchive, SqliteDatabase, migrate


class PolicyEngine(Decider, Protocol):
    """Where decisions come from, as the app runs it: started with the app, asked for readiness."""

    @property
    def revision(self) -> str | None:
        """The bundle revision in force, for /readyz and the logs."""
        ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def refresh(self) -> bool: ...


@dataclasses.dataclass
class Parts:
    metrics: Metrics
    keys: KeyStore
    limits: LimitBackend
    decisions: PolicyEngine
    state: Database
    audit: AuditLog
    gitea: GiteaClient
    scratch: ScratchDir | None = None  # the managed OPA's private directory
    started: bool = False
    oauth: OAuthResourceServer | None = None  # JWT access tokens, when AEGIS_OAUTH_ISSUER is set
    # Where accepted Gitea webhook deliveries go (on the automation workers): the job runner plugs in here.
    handle_delivery: DeliveryHandler = no_automation_jobs

    async def start(self) -> None:
        """Reach the limits backend and start the decision source (a managed OPA that does not verify
        its policy stops here); raises what makes serving impossible. Once is enough: `serve` starts
        the parts before it accepts a connection, and the app's lifespan starts them when it runs alone."""
        if self.started:
            return
        await self.limits.ping()
        await self.state.connect()
        await migrate(self.state)  # under a lock: one replica migrates, the others find it done
        await self.decisions.start()
        self.started = True

    async def aclose(self) -> None:
        await self.decisions.stop()
        await self.gitea.aclose()
        await self.limits.aclose()
        if self.oauth is not None:
            await self.oauth.aclose()
        self.audit.close()
        await self.state.aclose()
        if self.scratch is not None:
            self.scratch.remove()


def build_parts(settings: Settings, metrics: Metrics | None = None) -> Parts:
    """The real parts; raises ConfigError (or PolicyError) for anything that would make it unsafe to run."""
    gitea_url = settings.require_upstream()
    settings.check_bind()
    metrics = metrics or Metrics.create()
    keys = KeyStore(settings.keys_file, reload_interval_s=settings.keys_reload_s)
    if not keys.has_live_key() and settings.oauth is None:  # with OAuth, tokens alone may authenticate
        raise ConfigError(
            f"{settings.keys_file} holds no usable key: create one with `aegis keys create`, or accept"
            " OAuth access tokens (AEGIS_OAUTH_ISSUER, docs/oauth.md)"
        )
    limits = _limit_backend(settings)
    with _opening("a private temporary directory", "TMPDIR", tempfile.gettempdir):
        remove_stale_scratch()
        scratch = ScratchDir.create()
    try:
        state = state_database(settings)
        with _opening("the audit log", AUDIT_LOG_SETTING, lambda: settings.audit_log):
            audit = AuditLog.open(
                settings.audit_log,
                fsync=settings.audit_fsync,
                checkpointing=_checkpointing(settings),
                rotation=Rotation(
                    max_bytes=settings.audit_rotate_bytes,
                    max_age_s=settings.audit_rotate_s,
                    retain_segments=settings.audit_retain_segments,
                    retain_s=settings.audit_retain_s,
                ),
                replica=settings.replica_id,
            )
        records = PolicyRecords(archive=PolicyArchive(state), audit=audit)
        opa = _decision_source(settings, metrics, scratch, records)
    except Exception:
        scratch.remove()
        raise
    breaker = CircuitBreaker(
        failure_threshold=settings.breaker_failures,
        cooldown_s=settings.breaker_cooldown_s,
        on_change=lambda is_open: metrics.gitea_circuit_open.set(1 if is_open else 0),
    )
    gitea = GiteaClient(
        base_url=gitea_url, token=settings.gitea_token, timeout_s=settings.gitea_timeout_s, breaker=breaker
    )
    oauth = OAuthResourceServer.connect(settings.oauth) if settings.oauth else None
    return Parts(metrics, keys, limits, opa, state, audit, gitea, scratch, oauth=oauth)


@contextlib.contextmanager
def _opening(what: str, setting: str, where: Callable[[], object]) -> Iterator[None]:
    """Turn an operating system's refusal to open one of the gateway's files into a ConfigError that
    names the file and the setting that chose it."""
    try:
        yield
    except OSError as exc:
        try:
            place = f" at {where()}"
        except OSError:
            place = ""
        reason = exc.strerror or str(exc)
        on = f" ({exc.filename})" if exc.filename and str(exc.filename) not in place else ""
        raise ConfigError(f"cannot open {what}{place}: {reason}{on}; check {setting}") from exc


def state_database(settings: Settings) -> Database:
    """The state database the settings name: PostgreSQL (AEGIS_STATE_URL) or the SQLite file."""
    if settings.state_url:
        return state_databases.PostgresDatabase(settings.state_url)  # its driver imported only now
    with _opening("the state database", STATE_DB_SETTING, lambda: settings.state_db):
        return SqliteDatabase.open(settings.state_db)


def _decision_source(
    settings: Settings, metrics: Metrics, scratch: ScratchDir, recorder: PolicyRecorder
) -> PolicyEngine:
    if settings.opa_url:
        return SidecarSource(url=settings.opa_url, timeout_s=settings.opa_timeout_s, metrics=metrics)
    managed = ManagedSettings(
        opa_bin=settings.opa_bin,
        policy_path=settings.policy_path,
        policy_reload_s=settings.policy_reload_s,
        opa_timeout_s=settings.opa_timeout_s,
        bundle_verification_key=settings.bundle_verification_key,
        bundle_signing_alg=settings.bundle_signing_alg,
        console_decision_logs=settings.opa_decision_logs == "console",
    )
    return ManagedSource(settings=managed, metrics=metrics, workdir=scratch.path, recorder=recorder)


def _checkpointing(settings: Settings) -> Checkpointing | None:
    if settings.audit_signing_key is None:
        return None
    return Checkpointing(
        signer=CheckpointSigner.load(settings.audit_signing_key),
        sink=settings.audit_checkpoint_sink,
        every_entries=settings.audit_checkpoint_entries,
        every_s=settings.audit_checkpoint_s,
    )


def _limit_backend(settings: Settings) -> LimitBackend:
    if settings.limits_backend == "redis" and settings.redis_url:
        return limit_backends.RedisBackend.from_url(settings.redis_url)  # its client imported only now
    return MemoryBackend()
