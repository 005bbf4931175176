"""`aegis demo`: the gateway against AEGIS_GITEA_URL, or a seeded Gitea simulator, with a fresh key."""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.resources
import importlib.util
import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from gateway.audit import lock_log
from gateway.children import die_with_parent
from gateway.config import Settings, demo_settings
from gateway.edge.keys import create_key
from gateway.errors import AuditWriteError, ConfigError
from gateway.server import serve

EXAMPLE_POLICY = Path(str(importlib.resources.files("gateway") / "example-policy.yaml"))  # package data
SIMULATOR_READY_PREFIX = "gitea-simulator listening on "
DEMO_KEY_NAME = "demo"
WRITE_TOKEN_SCOPES = ("read:repository", "write:repository", "read:issue", "write:issue", "read:user")


def run_demo(*, state_dir: Path, env: Mapping[str, str]) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    base = demo_settings(env, state_dir=state_dir, policy=EXAMPLE_POLICY)
    _refuse_if_running(base.audit_log)  # before anything of a running demo's is touched
    with _upstream(state_dir, base) as (gitea_url, gitea_token):
        base.keys_file.unlink(missing_ok=True)
        scopes = ("tools:read", "tools:write") if base.write_mode else ("tools:read",)
        key = create_key(base.keys_file, name=DEMO_KEY_NAME, scopes=scopes)
        settings = dataclasses.replace(base, gitea_url=gitea_url, gitea_token=gitea_token)
        serve(settings, announce=lambda: _print_banner(settings, key, gitea_url))


def _refuse_if_running(audit_log: Path) -> None:
    if not audit_log.exists():
        return
    try:
        fd = lock_log(audit_log, create=False)
    except AuditWriteError:
        raise ConfigError(
            f"{audit_log} is held by a running gateway: a demo runs already (stop it first, or give this one"
            " another --state-dir)"
        ) from None
    os.close(fd)


@contextlib.contextmanager
def _upstream(state_dir: Path, settings: Settings) -> Iterator[tuple[str, str | None]]:
    """The configured Gitea, or a simulator seeded with demo repositories (stopped on exit), whose token
    may write when WRITE_MODE is on."""
    if settings.gitea_url:
        yield settings.gitea_url, settings.gitea_token
        return
    if importlib.util.find_spec("gitea_simulator") is None:
        raise ConfigError(
            "the demo Gitea simulator is not installed (it is not part of the gateway's package: pip install"
            " the gitea-simulator directory of the source tree), or set AEGIS_GITEA_URL to a Gitea"
        )
    token_file = state_dir / "gitea-token"
    scopes = ("--token-scopes", ",".join(WRITE_TOKEN_SCOPES)) if settings.write_mode else ()
    process, url = spawn_simulator(state_dir / "gitea", token_file, *scopes)
    try:
        yield url, token_file.read_text(encoding="utf-8").strip()
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def spawn_simulator(state_dir: Path, token_file: Path, *extra_args: str) -> tuple[subprocess.Popen[str], str]:
    """Start `python -m gitea_simulator serve` with the demo data (seeded if `state_dir` is empty); return
    the process and its URL once it listens. The caller stops it."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gitea_simulator",
            "serve",
            "--state",
            str(state_dir),
            "--seed-demo",
            "--port",
            "0",
            "--token-file",
            str(token_file),
            *extra_args,
        ],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=die_with_parent,
    )
    try:
        return process, _await_simulator(process)
    except ConfigError:
        process.kill()
        process.wait()
        raise


def _await_simulator(process: subprocess.Popen[str]) -> str:
    stdout = process.stdout
    if stdout is None:
        raise ConfigError("demo Gitea simulator has no stdout")
    for line in stdout:
        if line.startswith(SIMULATOR_READY_PREFIX):
            return line[len(SIMULATOR_READY_PREFIX) :].strip()
    raise ConfigError("the demo Gitea simulator exited before it was ready")


def _print_banner(settings: Settings, key: str, gitea_url: str) -> None:
    url = f"http://{settings.bind_host}:{settings.bind_port}/mcp"
    aegis = Path(sys.executable).with_name("aegis")
    example = (
        "\n  e.g. read acme/app README.md with the tool get_file_contents;"
        " src/secrets/ is denied by the policy."
        if settings.policy_path.resolve() == EXAMPLE_POLICY
        else ""
    )
    print(
        f"""
Aegis demo
  MCP endpoint : {url}
  API key      : {key}
  upstream     : {gitea_url}
  policy       : {settings.policy_path}
  write mode   : {"on" if settings.write_mode else "off (WRITE_MODE=true turns it on)"}
  keys file    : {settings.keys_file}   (new at every start)
  audit log    : {settings.audit_log}

Connect an MCP client with the header  Authorization: Bearer {key}{example}
The aegis command is {aegis} (not on PATH unless you add it):
  {aegis} audit verify {settings.audit_log}
  {aegis} keys create --keys-file {settings.keys_file} --name approver --scope admin
""",
        flush=True,
    )
