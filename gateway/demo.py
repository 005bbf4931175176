"""`aegis demo`: the gateway against AEGIS_GITEA_URL, or a seeded Gitea simulator, with a fresh key."""

from __future__ import annotations

import contextlib
import dataclasses
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path

from gateway.children import die_with_parent
from gateway.config import Settings
from gateway.edge.keys import create_key
from gateway.errors import ConfigError
from gateway.server import serve

EXAMPLE_POLICY = Path(__file__).resolve().parents[1] / "examples" / "policy.yaml"
SIMULATOR_READY_PREFIX = "gitea-simulator listening on "
DEMO_KEY_NAME = "demo"


def run_demo(*, state_dir: Path, env: Mapping[str, str]) -> None:
    state_dir.mkdir(parents=True, exist_ok=True)
    with _upstream(state_dir, env) as (gitea_url, gitea_token):
        keys_file = state_dir / "keys.json"
        keys_file.unlink(missing_ok=True)
        key = create_key(keys_file, name=DEMO_KEY_NAME, scopes=("tools:read",))
        settings = dataclasses.replace(
            Settings.from_env({**env, "AEGIS_GITEA_URL": gitea_url}),
            gitea_token=gitea_token,
            keys_file=keys_file,
            policy_path=Path(env.get("AEGIS_POLICY", str(EXAMPLE_POLICY))),
            audit_log=Path(env.get("AEGIS_AUDIT_LOG", str(state_dir / "audit.jsonl"))),
            state_db=Path(env.get("AEGIS_STATE_DB", str(state_dir / "state.db"))),
        )
        _print_banner(settings, key, gitea_url)
        serve(settings)


@contextlib.contextmanager
def _upstream(state_dir: Path, env: Mapping[str, str]) -> Iterator[tuple[str, str | None]]:
    """The configured Gitea, or a simulator seeded with demo repositories (stopped on exit)."""
    if env.get("AEGIS_GITEA_URL"):
        yield env["AEGIS_GITEA_URL"], env.get("AEGIS_GITEA_TOKEN")
        return
    token_file = state_dir / "gitea-token"
    process, url = spawn_simulator(state_dir / "gitea", token_file)
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
    print(
        f"""
Aegis demo
  MCP endpoint : {url}
  API key      : {key}
  upstream     : {gitea_url}
  policy       : {settings.policy_path}
  audit log    : {settings.audit_log}   (verify: aegis audit verify {settings.audit_log})

Connect an MCP client with the header  Authorization: Bearer {key}
  e.g. read acme/app README.md with the tool get_file_contents; src/secrets/ is denied by the policy.
""",
        flush=True,
    )
