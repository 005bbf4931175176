"""``python -m gitea_simulator serve`` as a real process on a free port."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import gitea_simulator
import httpx
import pytest
from gitea_simulator import read_demo_token
from gitea_simulator._cli import _bind

READY = "gitea-simulator listening on "
SOURCE_ROOT = str(Path(gitea_simulator.__file__).resolve().parents[1])


def _start(*args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [SOURCE_ROOT, os.environ.get("PYTHONPATH")])),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "gitea_simulator", "serve", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []
    yield started
    for process in started:
        process.terminate()
        process.communicate(timeout=10)


def _url(process: subprocess.Popen[str]) -> str:
    assert process.stdout is not None
    line = process.stdout.readline()
    assert line.startswith(READY), line
    return line.removeprefix(READY).strip()


def test_serve_seeds_picks_a_port_and_hands_out_the_token(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    state, token_file = tmp_path / "state", tmp_path / "token"
    processes.append(
        _start("--state", str(state), "--seed-demo", "--port", "0", "--token-file", str(token_file))
    )
    url = _url(processes[0])
    assert url.startswith("http://127.0.0.1:")
    assert not url.endswith(":0")
    token = token_file.read_text().strip()
    assert token_file.stat().st_mode & 0o777 == 0o600
    response = httpx.get(
        f"{url}/api/v1/repos/acme/private-notes", headers={"Authorization": f"token {token}"}
    )
    assert response.status_code == 200
    assert response.json()["html_url"] == f"{url}/acme/private-notes"

    # A second start on the seeded directory keeps the data and hands out the same token.
    processes[0].terminate()
    processes[0].communicate(timeout=10)
    second_token = tmp_path / "token2"
    processes.append(
        _start("--state", str(state), "--seed-demo", "--port", "0", "--token-file", str(second_token))
    )
    _url(processes[1])
    assert second_token.read_text().strip() == token


def test_listening_socket_is_tcp_so_answers_are_not_delayed() -> None:
    # asyncio sets TCP_NODELAY on accepted connections only for sockets created as IPPROTO_TCP;
    # without it every answer waits ~40 ms for a delayed ACK.
    sock = _bind("127.0.0.1", 0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()


def test_token_file_without_demo_data_fails(tmp_path: Path) -> None:
    process = _start("--state", str(tmp_path), "--port", "0", "--token-file", str(tmp_path / "token"))
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert "holds no demo token" in stderr


def test_token_scopes_make_a_token_of_the_demo_user_with_those_scopes(
    tmp_path: Path, processes: list[subprocess.Popen[str]]
) -> None:
    state, token_file = tmp_path / "state", tmp_path / "token"
    processes.append(
        _start(
            "--state",
            str(state),
            "--seed-demo",
            "--port",
            "0",
            "--token-file",
            str(token_file),
            "--token-scopes",
            "write:issue,read:repository",
        )
    )
    url = _url(processes[0])
    headers = {"Authorization": f"token {token_file.read_text().strip()}"}
    created = httpx.post(
        f"{url}/api/v1/repos/acme/app/issues", json={"title": "From the CLI"}, headers=headers
    )
    assert created.status_code == 201
    assert created.json()["user"]["login"] == "aegis-bot"
    branch = httpx.post(
        f"{url}/api/v1/repos/acme/app/branches", json={"new_branch_name": "x"}, headers=headers
    )
    assert branch.status_code == 403
    assert branch.json()["message"].endswith(
        "required=[write:repository], token scope=write:issue,read:repository"
    )
    assert token_file.read_text().strip() != read_demo_token(state)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        pytest.param(
            ["--token-scopes", "write:issue"], "--token-scopes needs --token-file", id="no-token-file"
        ),
        pytest.param(
            ["--token-scopes", "write:everything", "--token-file", "TOKEN"],
            "unknown token scopes",
            id="bad-scope",
        ),
    ],
)
def test_bad_token_scopes_fail(tmp_path: Path, args: list[str], error: str) -> None:
    args = [arg.replace("TOKEN", str(tmp_path / "token")) for arg in args]
    process = _start("--state", str(tmp_path / "state"), "--seed-demo", "--port", "0", *args)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2
    assert error in stderr
    assert not (tmp_path / "token").exists()
