"""The settings that bound slow and greedy clients: defaults, and a clear refusal of bad values."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from gateway.config import Settings, admin_connection
from gateway.errors import ConfigError


def test_defaults_bound_every_client() -> None:
    settings = Settings.from_env({})
    assert (settings.max_in_flight, settings.max_in_flight_per_key) == (64, 16)
    assert (settings.header_timeout_s, settings.body_timeout_s) == (10.0, 30.0)
    assert (settings.max_header_bytes, settings.max_headers) == (16384, 100)
    assert settings.max_connections_per_address == 32


@pytest.mark.parametrize(("cap", "share"), [("64", 16), ("8", 2), ("3", 1), ("1", 1)])
def test_a_key_gets_a_quarter_of_the_in_flight_cap_unless_told(cap: str, share: int) -> None:
    assert Settings.from_env({"AEGIS_MAX_IN_FLIGHT": cap}).max_in_flight_per_key == share


def test_a_share_over_the_whole_cap_stops_the_start() -> None:
    env = {"AEGIS_MAX_IN_FLIGHT": "4", "AEGIS_MAX_IN_FLIGHT_PER_KEY": "5"}
    with pytest.raises(ConfigError, match=r"AEGIS_MAX_IN_FLIGHT_PER_KEY \(5\) must not exceed"):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("AEGIS_HEADER_TIMEOUT", "0", "positive"),
        ("AEGIS_BODY_TIMEOUT", "soon", "a number"),
        ("AEGIS_MAX_HEADER_BYTES", "-1", "a whole number >= 1"),
        ("AEGIS_MAX_HEADERS", "1.5", "a whole number >= 1"),
        ("AEGIS_MAX_CONNECTIONS_PER_ADDRESS", "0", "a whole number >= 1"),
        ("AEGIS_MAX_IN_FLIGHT_PER_KEY", "0", "a whole number >= 1"),
        ("AEGIS_SCHEDULER", "sometimes", "one of true/false"),
    ],
)
def test_a_bad_value_names_its_setting(name: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"{name} must be {message}"):
        Settings.from_env({name: value})


@pytest.mark.parametrize(("value", "scheduler"), [(None, None), ("", None), ("off", False), ("true", True)])
def test_the_scheduler_setting_is_on_off_or_left_to_the_jobs(
    value: str | None, scheduler: bool | None
) -> None:
    env = {} if value is None else {"AEGIS_SCHEDULER": value}
    assert Settings.from_env(env).scheduler is scheduler


def test_a_port_another_gateway_listens_on_is_refused_before_anything_starts() -> None:
    from gateway.config import Settings
    from gateway.server import _listen

    first = _listen(Settings(gitea_url=None, bind_host="127.0.0.1", bind_port=0))
    try:
        taken = first.getsockname()[1]
        with pytest.raises(ConfigError, match="is in use"):
            _listen(Settings(gitea_url=None, bind_host="127.0.0.1", bind_port=taken))
    finally:
        first.close()


def test_the_demo_never_takes_the_keys_file_of_serve(tmp_path: Path) -> None:
    from gateway.config import demo_settings, keys_file_of

    settings = demo_settings(
        {"AEGIS_KEYS_FILE": str(tmp_path / "real-keys.json")},
        state_dir=Path("var"),
        policy=tmp_path / "p.yaml",
    )
    assert settings.keys_file != keys_file_of({})  # `--state-dir var` is not var/keys.json
    assert settings.keys_file != tmp_path / "real-keys.json"  # nor the one the environment names


@pytest.mark.parametrize(
    ("setting", "read"),
    [
        ("AEGIS_GITEA_TOKEN", lambda env: Settings.from_env(env).gitea_token),
        ("AEGIS_REDIS_URL", lambda env: Settings.from_env(env).redis_url),
        ("AEGIS_ADMIN_KEY", lambda env: admin_connection(env).key),
    ],
)
def test_a_secret_can_come_from_the_file_its_FILE_setting_names(
    tmp_path: Path, setting: str, read: Callable[[dict[str, str]], str | None]
) -> None:
    mounted = tmp_path / "secret"
    mounted.write_text("s3cr3t value\n")  # as Kubernetes mounts a Secret made from a file with a newline
    assert read({f"{setting}_FILE": str(mounted)}) == "s3cr3t value"
    assert read({setting: "inline"}) == "inline"
    with pytest.raises(ConfigError, match=f"set {setting} or {setting}_FILE, not both"):
        read({setting: "inline", f"{setting}_FILE": str(mounted)})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read .*: No such file or directory"),
        ("\n", ".* is empty"),
        (b"\xff\xfe", ".*: not UTF-8"),
    ],
)
def test_an_unreadable_secret_file_stops_the_start(
    tmp_path: Path, content: str | bytes | None, message: str
) -> None:
    mounted = tmp_path / "token"
    if isinstance(content, bytes):
        mounted.write_bytes(content)
    elif content is not None:
        mounted.write_text(content)
    with pytest.raises(ConfigError, match=f"AEGIS_GITEA_TOKEN_FILE: {message}"):
        Settings.from_env({"AEGIS_GITEA_TOKEN_FILE": str(mounted)})


def test_the_managed_opas_decision_log_is_off_unless_asked_for_on_the_console() -> None:
    assert Settings.from_env({}).opa_decision_logs == "off"
    assert Settings.from_env({"AEGIS_OPA_DECISION_LOGS": "console"}).opa_decision_logs == "console"
    with pytest.raises(ConfigError, match="AEGIS_OPA_DECISION_LOGS must be one of off, console, got 'http'"):
        Settings.from_env({"AEGIS_OPA_DECISION_LOGS": "http"})


def test_a_sidecars_decision_log_is_configured_on_the_sidecar() -> None:
    env = {"AEGIS_OPA_DECISION_LOGS": "console", "AEGIS_OPA_URL": "http://127.0.0.1:8181"}
    with pytest.raises(ConfigError, match="configures the managed OPA only"):
        Settings.from_env(env)


def test_the_webhook_receiver_is_off_without_a_secret_and_bounded_by_default() -> None:
    settings = Settings.from_env({})
    assert settings.webhook_secret is None
    assert settings.webhook_max_body_bytes == 1 << 20
    assert settings.webhook_replay_window_s == 7 * 86400
    assert (settings.automation_queue, settings.automation_workers) == (100, 4)


def test_the_webhook_secret_comes_from_its_file_hidden_and_long_enough(tmp_path: Path) -> None:
    mounted = tmp_path / "webhook-secret"
    mounted.write_text("w" * 64 + "\n")
    settings = Settings.from_env({"AEGIS_WEBHOOK_SECRET_FILE": str(mounted)})
    assert settings.webhook_secret == "w" * 64
    assert "w" * 64 not in repr(settings)
    mounted.write_text("short\n")
    with pytest.raises(ConfigError, match="AEGIS_WEBHOOK_SECRET: use at least 32 random characters"):
        Settings.from_env({"AEGIS_WEBHOOK_SECRET_FILE": str(mounted)})


def test_the_connection_bound_fits_the_largest_body_a_route_takes() -> None:
    assert Settings.from_env({}).largest_body_bytes == 1 << 20
    hooks = {"AEGIS_WEBHOOK_SECRET": "w" * 64, "AEGIS_WEBHOOK_MAX_BODY_BYTES": str(4 << 20)}
    assert Settings.from_env(hooks).largest_body_bytes == 4 << 20
