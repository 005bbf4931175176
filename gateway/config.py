"""Gateway configuration, read once from the environment.

Example:
    settings = Settings.from_env(os.environ)
"""

from __future__ import annotations

import dataclasses
import ipaddress
import re
import shutil
from collections.abc import Mapping
from pathlib import Path

from gateway.errors import ConfigError
from gateway.oauth_config import OAuthSettings
from gateway.vocabulary import Network, WriteQuota

DEFAULT_BIND = "127.0.0.1:8080"
DEFAULT_OPA_TIMEOUT_S = 2.0
DEFAULT_GITEA_TIMEOUT_S = 10.0
DEFAULT_MAX_BODY_BYTES = 1 << 20
DEFAULT_IP_RATE, DEFAULT_IP_BURST = 50.0, 100
DEFAULT_KEY_RATE, DEFAULT_KEY_BURST = 20.0, 40
DEFAULT_AUTH_FAILURE_LIMIT, DEFAULT_AUTH_FAILURE_WINDOW_S = 10, 60.0
DEFAULT_MAX_IN_FLIGHT = 64
IN_FLIGHT_SHARE_PER_KEY = 4  # unless set, one key may hold a quarter of the in-flight cap
DEFAULT_HEADER_TIMEOUT_S = 10.0
DEFAULT_BODY_TIMEOUT_S = 30.0
DEFAULT_MAX_HEADER_BYTES = 16 << 10
DEFAULT_MAX_HEADERS = 100
DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 32
DEFAULT_BREAKER_FAILURES, DEFAULT_BREAKER_COOLDOWN_S = 5, 30.0
DEFAULT_MAX_OUTPUT_BYTES = 1 << 20  # the largest file a read tool returns
DEFAULT_MAX_OUTPUT_ITEMS = 1000
LIMIT_BACKENDS = ("memory", "redis")
OPA_DECISION_LOGS = ("off", "console")  # the managed OPA's decision log: none, or on its stderr
LOOPBACK_BINDS = frozenset({"localhost", "::1"})
DEFAULT_VAR_DIR = Path("var")
AUDIT_LOG_SETTING = "AEGIS_AUDIT_LOG"
REPLICA_ID = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?")
STATE_DB_SETTING = "AEGIS_STATE_DB"
CHECKOUT_OPA = Path(__file__).resolve().parents[1] / ".tools" / "bin" / "opa"  # in a source checkout
TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})


def parse_bool(name: str, value: str) -> bool:
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ConfigError(f"{name} must be one of true/false/1/0/yes/no/on/off, got {value!r}")


def parse_bind(value: str) -> tuple[str, int]:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ConfigError(f"AEGIS_BIND must be HOST:PORT, got {value!r}")
    return host.strip("[]"), int(port)


def parse_positive_int(name: str, value: str) -> int:
    if not value.strip().isdigit() or int(value) < 1:
        raise ConfigError(f"{name} must be a whole number >= 1, got {value!r}")
    return int(value)


def is_loopback(host: str) -> bool:
    return host in LOOPBACK_BINDS or host.startswith("127.")


ADMIN_KEY_VARIABLE = "AEGIS_ADMIN_KEY"


@dataclasses.dataclass(frozen=True)
class AdminConnection:
    """How `aegis approvals` and `aegis rollback` reach the gateway's admin API."""

    url: str
    key: str | None = dataclasses.field(repr=False)
    ca_file: str | None


def admin_connection(env: Mapping[str, str]) -> AdminConnection:
    """AEGIS_ADMIN_URL (else the gateway's own AEGIS_BIND, https when it serves TLS), the key in
    AEGIS_ADMIN_KEY, and a private CA in AEGIS_ADMIN_CA_FILE."""
    if env.get("AEGIS_ADMIN_URL"):
        url = env["AEGIS_ADMIN_URL"].rstrip("/")
    else:
        host, port = parse_bind(env.get("AEGIS_BIND", DEFAULT_BIND))
        host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - a wildcard bind is reached locally
        scheme = "https" if env.get("AEGIS_TLS_CERT") else "http"
        url = f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"
    return AdminConnection(
        url=url, key=secret_of(env, ADMIN_KEY_VARIABLE), ca_file=env.get("AEGIS_ADMIN_CA_FILE")
    )


def secret_of(env: Mapping[str, str], name: str) -> str | None:
    """A secret setting: its value, or what the file `<name>_FILE` names holds (as Kubernetes and compose
    mount secrets), without its final line break. Both at once is refused: one of them would be ignored."""
    value = env.get(name) or None
    file_setting = f"{name}_FILE"
    path = env.get(file_setting)
    if not path:
        return value
    if value is not None:
        raise ConfigError(f"set {name} or {file_setting}, not both")
    try:
        secret = Path(path).read_text(encoding="utf-8").removesuffix("\n").removesuffix("\r")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise ConfigError(f"{file_setting}: cannot read {path}: {why}") from exc
    if not secret.strip():
        raise ConfigError(f"{file_setting}: {path} is empty")
    return secret


def _random_secret(env: Mapping[str, str], name: str, *, min_chars: int) -> str | None:
    """A secret setting that keys an HMAC (`secret_of`): long enough that guessing it is hopeless, or
    refused."""
    secret = secret_of(env, name)
    if secret is not None and len(secret.strip()) < min_chars:
        raise ConfigError(
            f"{name}: use at least {min_chars} random characters (for example `openssl rand -hex 32`)"
        )
    return secret


def keys_file_of(env: Mapping[str, str]) -> Path:
    """The keys file the `aegis keys` commands use by default: AEGIS_KEYS_FILE, else var/keys.json."""
    return Path(env.get("AEGIS_KEYS_FILE", str(DEFAULT_VAR_DIR / "keys.json")))


def jobs_file_of(env: Mapping[str, str]) -> Path | None:
    """The automation jobs file: AEGIS_JOBS, or None (no automation)."""
    return Path(env["AEGIS_JOBS"]) if env.get("AEGIS_JOBS") else None


def policy_file_of(env: Mapping[str, str]) -> Path:
    return Path(env.get("AEGIS_POLICY", "policy.yaml"))


def write_mode_of(env: Mapping[str, str]) -> bool:
    return parse_bool("WRITE_MODE", env.get("WRITE_MODE", "false"))


DEMO_KEYS_FILE = "demo-keys.json"


def demo_settings(env: Mapping[str, str], *, state_dir: Path, policy: Path) -> Settings:
    """The settings of `aegis demo`: the environment's, with the demo's own files under `state_dir` and
    `policy` where the environment names none."""
    defaults = {
        "AEGIS_POLICY": str(policy),
        "AEGIS_AUDIT_LOG": str(state_dir / "audit.jsonl"),
        "AEGIS_STATE_DB": str(state_dir / "state.db"),
    }
    settings = Settings.from_env({**defaults, **{name: value for name, value in env.items() if value}})
    # Its own keys file always, under a name no other command uses: the demo makes it anew at every start,
    # so it must never be someone's (`--state-dir var` would otherwise be var/keys.json, serve's default).
    return dataclasses.replace(settings, keys_file=state_dir / DEMO_KEYS_FILE)


def default_opa_bin(env: Mapping[str, str]) -> str:
    """AEGIS_OPA_BIN; else `opa` on PATH; else, in a checkout, the pinned OPA ./scripts/setup built."""
    if env.get("AEGIS_OPA_BIN"):
        return env["AEGIS_OPA_BIN"]
    built = CHECKOUT_OPA
    return "opa" if shutil.which("opa") or not built.is_file() else str(built)


def parse_positive_float(name: str, value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    if not number > 0:
        raise ConfigError(f"{name} must be positive, got {value!r}")
    return number


def parse_networks(name: str, value: str) -> tuple[Network, ...]:
    """Comma-separated CIDRs (`10.0.0.0/8, 2001:db8::/32`; an address alone is one host). A network with
    host bits set (`10.0.0.1/8`) is refused: it is more likely a typo than the network meant."""
    networks = []
    for item in _split_list(value):
        try:
            network = ipaddress.ip_network(item, strict=True)
        except ValueError as exc:
            raise ConfigError(f"{name}: {item!r} is not an IP network ({exc})") from None
        if isinstance(network, ipaddress.IPv6Network) and network.network_address.ipv4_mapped is not None:
            # Clients are compared as IPv4 addresses: an IPv4-mapped network would never match.
            raise ConfigError(f"{name}: write the IPv4-mapped network {item!r} as an IPv4 network")
        networks.append(network)
    return tuple(networks)


DEFAULT_APPROVAL_TTL_S = 3600.0
DEFAULT_REQUEST_STATE_TTL_S = 600.0
MIN_REQUEST_STATE_KEY_CHARS = 32
DEFAULT_AUDIT_CHECKPOINT_ENTRIES = 1000
DEFAULT_AUDIT_CHECKPOINT_S = 60.0
DEFAULT_AUDIT_ROTATE_BYTES = 100 << 20
DEFAULT_WRITE_QUOTA = WriteQuota(writes_per_day=100, write_bytes_per_day=10 << 20, max_write_bytes=1 << 20)
# Gitea's payloads are a few KiB; a push lists at most FEED_MAX_COMMIT_NUM commits (5 by default), but each
# with its added, removed and modified paths, and an issue or pull request carries its whole body: 1 MiB
# holds any of them with room, and bounds what an unauthenticated sender makes the gateway read and hash.
DEFAULT_WEBHOOK_MAX_BODY_BYTES = 1 << 20
DEFAULT_WEBHOOK_REPLAY_WINDOW_S = 7 * 86400.0  # a row of ~100 bytes per delivery is cheap to keep a week
MIN_WEBHOOK_SECRET_CHARS = 32
DEFAULT_AUTOMATION_QUEUE = 100
DEFAULT_AUTOMATION_WORKERS = 4


@dataclasses.dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the gateway needs to run. `gitea_token` never appears in `repr`."""

    gitea_url: str | None
    gitea_token: str | None = dataclasses.field(default=None, repr=False)
    opa_url: str | None = None
    opa_bin: str = "opa"
    policy_path: Path = Path("policy.yaml")
    jobs_path: Path | None = None  # automation jobs (docs/automation.md); None: no automation
    audit_log: Path = DEFAULT_VAR_DIR / "audit.jsonl"
    audit_fsync: bool = True
    keys_file: Path = DEFAULT_VAR_DIR / "keys.json"
    bind_host: str = "127.0.0.1"
    bind_port: int = 8080
    write_mode: bool = False
    opa_timeout_s: float = DEFAULT_OPA_TIMEOUT_S
    gitea_timeout_s: float = DEFAULT_GITEA_TIMEOUT_S
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    allowed_hosts: tuple[str, ...] = ()
    allowed_origins: tuple[str, ...] = ()
    policy_reload_s: float = 2.0
    keys_reload_s: float = 1.0
    bundle_verification_key: Path | None = None
    bundle_signing_alg: str = "RS256"
    opa_decision_logs: str = "off"
    ip_rate_per_s: float = DEFAULT_IP_RATE
    ip_burst: int = DEFAULT_IP_BURST
    key_rate_per_s: float = DEFAULT_KEY_RATE
    key_burst: int = DEFAULT_KEY_BURST
    auth_failure_limit: int = DEFAULT_AUTH_FAILURE_LIMIT
    auth_failure_window_s: float = DEFAULT_AUTH_FAILURE_WINDOW_S
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    max_in_flight_per_key: int = DEFAULT_MAX_IN_FLIGHT // IN_FLIGHT_SHARE_PER_KEY
    header_timeout_s: float = DEFAULT_HEADER_TIMEOUT_S
    body_timeout_s: float = DEFAULT_BODY_TIMEOUT_S
    max_header_bytes: int = DEFAULT_MAX_HEADER_BYTES
    max_headers: int = DEFAULT_MAX_HEADERS
    max_connections_per_address: int = DEFAULT_MAX_CONNECTIONS_PER_ADDRESS
    limits_backend: str = "memory"
    redis_url: str | None = dataclasses.field(default=None, repr=False)
    breaker_failures: int = DEFAULT_BREAKER_FAILURES
    breaker_cooldown_s: float = DEFAULT_BREAKER_COOLDOWN_S
    max_output_bytes: int = DEFAULT_MAX_OUTPUT_BYTES
    max_output_items: int = DEFAULT_MAX_OUTPUT_ITEMS
    tls_cert: Path | None = None
    tls_key: Path | None = None
    allow_insecure_bind: bool = False
    state_db: Path = DEFAULT_VAR_DIR / "state.db"
    state_url: str | None = dataclasses.field(default=None, repr=False)  # PostgreSQL, shared by replicas
    replica_id: str | None = None  # this replica's name in its audit chain (AEGIS_REPLICA_ID)
    approval_ttl_s: float = DEFAULT_APPROVAL_TTL_S
    # Seals the requestState of held calls; None: a random key per process (one replica only).
    request_state_key: str | None = dataclasses.field(default=None, repr=False)
    request_state_ttl_s: float = DEFAULT_REQUEST_STATE_TTL_S
    write_quota: WriteQuota = DEFAULT_WRITE_QUOTA
    trusted_proxies: tuple[Network, ...] = ()
    audit_signing_key: Path | None = None
    audit_checkpoints: Path | None = None  # None: beside the audit log
    audit_checkpoint_entries: int = DEFAULT_AUDIT_CHECKPOINT_ENTRIES
    audit_checkpoint_s: float = DEFAULT_AUDIT_CHECKPOINT_S
    audit_rotate_bytes: int = DEFAULT_AUDIT_ROTATE_BYTES
    audit_rotate_s: float = 0.0
    audit_retain_segments: int = 0
    audit_retain_s: float = 0.0
    oauth: OAuthSettings | None = None  # JWT access tokens beside the API keys (AEGIS_OAUTH_*)
    # The Gitea webhook receiver (POST /hooks/gitea) exists only with a secret (AEGIS_WEBHOOK_SECRET_FILE).
    webhook_secret: str | None = dataclasses.field(default=None, repr=False)
    webhook_max_body_bytes: int = DEFAULT_WEBHOOK_MAX_BODY_BYTES
    webhook_replay_window_s: float = DEFAULT_WEBHOOK_REPLAY_WINDOW_S
    automation_queue: int = DEFAULT_AUTOMATION_QUEUE  # deliveries waiting for a worker, then 503
    automation_workers: int = DEFAULT_AUTOMATION_WORKERS
    scheduler: bool | None = None  # AEGIS_SCHEDULER; None: run it when jobs have a schedule

    @property
    def audit_checkpoint_sink(self) -> Path:
        """Where the copies of the signed checkpoints go: AEGIS_AUDIT_CHECKPOINTS, else beside the log."""
        return self.audit_checkpoints or self.audit_log.with_name(self.audit_log.name + ".checkpoints")

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        host, port = parse_bind(env.get("AEGIS_BIND", DEFAULT_BIND))
        max_in_flight = _int(env, "AEGIS_MAX_IN_FLIGHT", DEFAULT_MAX_IN_FLIGHT)
        redis_url = secret_of(env, "AEGIS_REDIS_URL")  # it may carry a password
        replica_id = _replica_id(env.get("AEGIS_REPLICA_ID") or None)
        opa_url = env.get("AEGIS_OPA_URL") or None
        return cls(
            gitea_url=env.get("AEGIS_GITEA_URL") or None,
            gitea_token=secret_of(env, "AEGIS_GITEA_TOKEN"),
            opa_url=opa_url,
            opa_bin=default_opa_bin(env),
            policy_path=policy_file_of(env),
            jobs_path=jobs_file_of(env),
            audit_log=replica_log(
                Path(env.get(AUDIT_LOG_SETTING, str(DEFAULT_VAR_DIR / "audit.jsonl"))), replica_id
            ),
            replica_id=replica_id,
            audit_fsync=parse_bool("AEGIS_AUDIT_FSYNC", env.get("AEGIS_AUDIT_FSYNC", "true")),
            keys_file=keys_file_of(env),
            bind_host=host,
            bind_port=port,
            write_mode=write_mode_of(env),
            opa_timeout_s=parse_positive_float(
                "AEGIS_OPA_TIMEOUT", env.get("AEGIS_OPA_TIMEOUT", str(DEFAULT_OPA_TIMEOUT_S))
            ),
            gitea_timeout_s=parse_positive_float(
                "AEGIS_GITEA_TIMEOUT", env.get("AEGIS_GITEA_TIMEOUT", str(DEFAULT_GITEA_TIMEOUT_S))
            ),
            allowed_hosts=_split_list(env.get("AEGIS_ALLOWED_HOSTS", "")),
            allowed_origins=_split_list(env.get("AEGIS_ALLOWED_ORIGINS", "")),
            policy_reload_s=_non_negative_float(
                "AEGIS_POLICY_RELOAD_INTERVAL", env.get("AEGIS_POLICY_RELOAD_INTERVAL", "2")
            ),
            keys_reload_s=_non_negative_float(
                "AEGIS_KEYS_RELOAD_INTERVAL", env.get("AEGIS_KEYS_RELOAD_INTERVAL", "1")
            ),
            bundle_verification_key=_optional_path(env.get("AEGIS_BUNDLE_VERIFICATION_KEY")),
            bundle_signing_alg=env.get("AEGIS_BUNDLE_SIGNING_ALG") or "RS256",
            opa_decision_logs=_opa_decision_logs(env.get("AEGIS_OPA_DECISION_LOGS") or "off", opa_url),
            ip_rate_per_s=_float(env, "AEGIS_IP_RATE", DEFAULT_IP_RATE),
            ip_burst=_int(env, "AEGIS_IP_BURST", DEFAULT_IP_BURST),
            key_rate_per_s=_float(env, "AEGIS_KEY_RATE", DEFAULT_KEY_RATE),
            key_burst=_int(env, "AEGIS_KEY_BURST", DEFAULT_KEY_BURST),
            auth_failure_limit=_int(env, "AEGIS_AUTH_FAILURE_LIMIT", DEFAULT_AUTH_FAILURE_LIMIT),
            auth_failure_window_s=_float(env, "AEGIS_AUTH_FAILURE_WINDOW", DEFAULT_AUTH_FAILURE_WINDOW_S),
            max_in_flight=max_in_flight,
            max_in_flight_per_key=_share_per_key(env, max_in_flight),
            header_timeout_s=_float(env, "AEGIS_HEADER_TIMEOUT", DEFAULT_HEADER_TIMEOUT_S),
            body_timeout_s=_float(env, "AEGIS_BODY_TIMEOUT", DEFAULT_BODY_TIMEOUT_S),
            max_header_bytes=_int(env, "AEGIS_MAX_HEADER_BYTES", DEFAULT_MAX_HEADER_BYTES),
            max_headers=_int(env, "AEGIS_MAX_HEADERS", DEFAULT_MAX_HEADERS),
            max_connections_per_address=_int(
                env, "AEGIS_MAX_CONNECTIONS_PER_ADDRESS", DEFAULT_MAX_CONNECTIONS_PER_ADDRESS
            ),
            limits_backend=_limits_backend(env.get("AEGIS_LIMITS_BACKEND") or "memory", redis_url),
            redis_url=redis_url,
            breaker_failures=_int(env, "AEGIS_GITEA_BREAKER_FAILURES", DEFAULT_BREAKER_FAILURES),
            breaker_cooldown_s=_float(env, "AEGIS_GITEA_BREAKER_COOLDOWN", DEFAULT_BREAKER_COOLDOWN_S),
            max_output_bytes=_int(env, "AEGIS_MAX_OUTPUT_BYTES", DEFAULT_MAX_OUTPUT_BYTES),
            max_output_items=_int(env, "AEGIS_MAX_OUTPUT_ITEMS", DEFAULT_MAX_OUTPUT_ITEMS),
            tls_cert=_optional_path(env.get("AEGIS_TLS_CERT")),
            tls_key=_optional_path(env.get("AEGIS_TLS_KEY")),
            allow_insecure_bind=parse_bool(
                "AEGIS_ALLOW_INSECURE_BIND", env.get("AEGIS_ALLOW_INSECURE_BIND", "false")
            ),
            state_db=Path(env.get(STATE_DB_SETTING, str(DEFAULT_VAR_DIR / "state.db"))),
            state_url=_state_url(secret_of(env, "AEGIS_STATE_URL")),
            approval_ttl_s=_float(env, "AEGIS_APPROVAL_TTL", DEFAULT_APPROVAL_TTL_S),
            request_state_key=_random_secret(
                env, "AEGIS_REQUEST_STATE_KEY", min_chars=MIN_REQUEST_STATE_KEY_CHARS
            ),
            request_state_ttl_s=_float(env, "AEGIS_REQUEST_STATE_TTL", DEFAULT_REQUEST_STATE_TTL_S),
            write_quota=WriteQuota(
                writes_per_day=_int(env, "AEGIS_WRITES_PER_DAY", DEFAULT_WRITE_QUOTA.writes_per_day),
                write_bytes_per_day=_int(
                    env, "AEGIS_WRITE_BYTES_PER_DAY", DEFAULT_WRITE_QUOTA.write_bytes_per_day
                ),
                max_write_bytes=_int(env, "AEGIS_MAX_WRITE_BYTES", DEFAULT_WRITE_QUOTA.max_write_bytes),
            ),
            trusted_proxies=parse_networks("AEGIS_TRUSTED_PROXIES", env.get("AEGIS_TRUSTED_PROXIES", "")),
            audit_signing_key=_optional_path(env.get("AEGIS_AUDIT_SIGNING_KEY")),
            audit_checkpoints=_optional_path(env.get("AEGIS_AUDIT_CHECKPOINTS")),
            audit_checkpoint_entries=_int(
                env, "AEGIS_AUDIT_CHECKPOINT_ENTRIES", DEFAULT_AUDIT_CHECKPOINT_ENTRIES
            ),
            audit_checkpoint_s=_float(env, "AEGIS_AUDIT_CHECKPOINT_INTERVAL", DEFAULT_AUDIT_CHECKPOINT_S),
            audit_rotate_bytes=_non_negative_int(env, "AEGIS_AUDIT_ROTATE_BYTES", DEFAULT_AUDIT_ROTATE_BYTES),
            audit_rotate_s=_non_negative_int(env, "AEGIS_AUDIT_ROTATE_INTERVAL", 0),
            audit_retain_segments=_non_negative_int(env, "AEGIS_AUDIT_RETAIN_SEGMENTS", 0),
            audit_retain_s=_non_negative_int(env, "AEGIS_AUDIT_RETAIN_DAYS", 0) * 86400.0,
            oauth=OAuthSettings.from_env(env),
            webhook_secret=_random_secret(env, "AEGIS_WEBHOOK_SECRET", min_chars=MIN_WEBHOOK_SECRET_CHARS),
            webhook_max_body_bytes=_int(env, "AEGIS_WEBHOOK_MAX_BODY_BYTES", DEFAULT_WEBHOOK_MAX_BODY_BYTES),
            webhook_replay_window_s=_float(
                env, "AEGIS_WEBHOOK_REPLAY_WINDOW", DEFAULT_WEBHOOK_REPLAY_WINDOW_S
            ),
            automation_queue=_int(env, "AEGIS_AUTOMATION_QUEUE", DEFAULT_AUTOMATION_QUEUE),
            automation_workers=_int(env, "AEGIS_AUTOMATION_WORKERS", DEFAULT_AUTOMATION_WORKERS),
            scheduler=_optional_bool("AEGIS_SCHEDULER", env.get("AEGIS_SCHEDULER", "")),
        )

    @property
    def largest_body_bytes(self) -> int:
        """The largest request body any route takes: the connection's bound is made from it."""
        webhook = self.webhook_max_body_bytes if self.webhook_secret else 0
        return max(self.max_body_bytes, webhook)

    @property
    def tls(self) -> bool:
        return self.tls_cert is not None

    def check_bind(self) -> None:
        """Refuse a configuration that would expose the gateway unsafely: TLS needs both its files, and a
        non-loopback bind needs TLS or the explicit insecure opt-in (keys are always required)."""
        if (self.tls_cert is None) != (self.tls_key is None):
            raise ConfigError("AEGIS_TLS_CERT and AEGIS_TLS_KEY must be set together")
        for name, path in (("AEGIS_TLS_CERT", self.tls_cert), ("AEGIS_TLS_KEY", self.tls_key)):
            if path is not None and not path.is_file():
                raise ConfigError(f"{name} {path} is not a readable file")
        if is_loopback(self.bind_host) or self.tls or self.allow_insecure_bind:
            return
        raise ConfigError(
            f"refusing to bind {self.bind_host}:{self.bind_port} without TLS: set AEGIS_TLS_CERT and "
            "AEGIS_TLS_KEY, or bind to loopback, or pass --allow-insecure-bind when a trusted proxy or "
            "mesh terminates TLS in front of the gateway"
        )

    def require_upstream(self) -> str:
        if not self.gitea_url:
            raise ConfigError("AEGIS_GITEA_URL is not set: the gateway needs a Gitea to talk to")
        if not self.gitea_url.startswith(("http://", "https://")):
            raise ConfigError(f"AEGIS_GITEA_URL must be an http(s) URL, got {self.gitea_url!r}")
        return self.gitea_url.rstrip("/")


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    return parse_positive_float(name, env[name]) if env.get(name) else default


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    return parse_positive_int(name, env[name]) if env.get(name) else default


def _non_negative_int(env: Mapping[str, str], name: str, default: int) -> int:
    """A count where 0 turns the feature off."""
    value = env.get(name)
    if not value:
        return default
    return 0 if value.strip() == "0" else parse_positive_int(name, value)


def _share_per_key(env: Mapping[str, str], max_in_flight: int) -> int:
    """AEGIS_MAX_IN_FLIGHT_PER_KEY, at most the whole cap; unset, a quarter of the cap (at least 1)."""
    share = _int(env, "AEGIS_MAX_IN_FLIGHT_PER_KEY", max(1, max_in_flight // IN_FLIGHT_SHARE_PER_KEY))
    if share > max_in_flight:
        raise ConfigError(
            f"AEGIS_MAX_IN_FLIGHT_PER_KEY ({share}) must not exceed AEGIS_MAX_IN_FLIGHT ({max_in_flight})"
        )
    return share


def replica_log(path: Path, replica_id: str | None) -> Path:
    """A replica's own audit chain: audit.jsonl becomes audit.<replica>.jsonl beside it."""
    return path if replica_id is None else path.with_name(f"{path.stem}.{replica_id}{path.suffix}")


def _replica_id(value: str | None) -> str | None:
    """A DNS label, as a pod's name is, with a letter in it: a name of digits and '-' could read as the
    seq range of a rotated segment's file name."""
    if value is not None and (not REPLICA_ID.fullmatch(value) or not any(c.isalpha() for c in value)):
        raise ConfigError(
            f"AEGIS_REPLICA_ID must be a DNS label with a letter (a-z, 0-9, '-'; at most 63), got {value!r}"
        )
    return value


def _state_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("postgresql://", "postgres://")):
        raise ConfigError(
            "AEGIS_STATE_URL must be a postgresql:// URL (unset: the SQLite file AEGIS_STATE_DB)"
        )
    return value


def _opa_decision_logs(value: str, opa_url: str | None) -> str:
    if value not in OPA_DECISION_LOGS:
        raise ConfigError(
            f"AEGIS_OPA_DECISION_LOGS must be one of {', '.join(OPA_DECISION_LOGS)}, got {value!r}"
        )
    if value != "off" and opa_url:
        raise ConfigError(
            "AEGIS_OPA_DECISION_LOGS configures the managed OPA only; a sidecar OPA (AEGIS_OPA_URL) logs "
            "decisions by its own decision_logs configuration (docs/operations.md)"
        )
    return value


def _limits_backend(value: str, redis_url: str | None) -> str:
    if value not in LIMIT_BACKENDS:
        raise ConfigError(f"AEGIS_LIMITS_BACKEND must be one of {', '.join(LIMIT_BACKENDS)}, got {value!r}")
    if value == "redis" and not redis_url:
        raise ConfigError("AEGIS_LIMITS_BACKEND=redis needs AEGIS_REDIS_URL (redis://host:port/db)")
    return value


def _non_negative_float(name: str, value: str) -> float:
    return 0.0 if value.strip() in {"0", "0.0"} else parse_positive_float(name, value)


def _optional_bool(name: str, value: str) -> bool | None:
    return None if not value.strip() else parse_bool(name, value)


def _optional_path(value: str | None) -> Path | None:
    return Path(value) if value else None


def _split_list(value: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in value.split(",") if item.strip())
