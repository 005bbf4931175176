"""`aegis keys create | list | revoke | rotate`: output, exit codes, and their effect on a running gateway."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.cli import main
from gateway.edge.keys import hash_key, load_keys
from tests.processes import Gateway, Simulator, start_gateway


def aegis(keys_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """`aegis keys ARGS --keys-file KEYS_FILE` in its own process."""
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", "keys", *args, "--keys-file", str(keys_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def keys(keys_file: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`aegis keys ARGS` in this process: exit code, stdout, stderr."""
    code = main(["keys", *args, "--keys-file", str(keys_file)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def keys_file(tmp_path: Path) -> Path:
    return tmp_path / "keys.json"


def test_create_prints_only_the_key_on_stdout(keys_file: Path) -> None:
    result = aegis(keys_file, "create", "--name", "ci-bot", "--scope", "tools:write", "--expires", "30d")
    assert result.returncode == 0, result.stderr
    key = result.stdout.removesuffix("\n")
    assert key.startswith("aegis_") and "\n" not in key
    assert result.stderr == f"Key 'ci-bot' stored (hash only) in {keys_file}. It is shown this once.\n"
    (stored,) = load_keys(keys_file)
    assert (stored.sha256, stored.scopes) == (hash_key(key), ("tools:write",))


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--name", "Bad Name"], "aegis: key name 'Bad Name' must match", id="bad-name"),
        pytest.param(
            ["--name", "a", "--expires", "soon"], "aegis: expiry 'soon' is neither", id="bad-expiry"
        ),
        pytest.param(
            ["--name", "a", "--expires", "2000-01-01T00:00:00Z"],
            "aegis: expiry 2000-01-01T00:00:00Z is not in the future",
            id="past-expiry",
        ),
        pytest.param(
            ["--name", "a", "--rate", "5"], "aegis: --rate and --burst go together", id="rate-alone"
        ),
        pytest.param(
            ["--name", "a", "--rate", "0", "--burst", "1"], "aegis: rate must be a positive", id="zero-rate"
        ),
    ],
)
def test_create_refusals_exit_1_with_a_message(
    keys_file: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    code, out, err = keys(keys_file, capsys, "create", *args)
    assert (code, out) == (1, "")
    assert err.startswith(message) and err.count("\n") == 1
    assert not keys_file.exists()


def test_list_shows_every_key_and_its_state_but_no_hash(
    keys_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    created = [
        keys(keys_file, capsys, "create", "--name", "ci-bot", "--rate", "2.5", "--burst", "5")[1],
        keys(keys_file, capsys, "create", "--name", "gone")[1],
    ]
    assert keys(keys_file, capsys, "revoke", "gone")[0] == 0
    code, rotated, _ = keys(keys_file, capsys, "rotate", "ci-bot", "--overlap", "2h")
    assert code == 0
    code, table, err = keys(keys_file, capsys, "list")
    assert (code, err) == (0, "")
    lines = table.splitlines()
    assert lines[0].split() == ["NAME", "ID", "SCOPES", "CREATED", "AGE", "EXPIRES", "STATE", "RATE", "LIMIT"]
    old, gone, new = load_keys(keys_file)
    assert [line.split()[:2] for line in lines[1:]] == [
        ["ci-bot", old.id],
        ["gone", gone.id],
        ["ci-bot", new.id],
    ]
    assert "rotating until " in lines[1] and "2.5/s burst 5" in lines[1]
    assert " revoked " in lines[2] and lines[2].endswith("default")
    assert " active " in lines[3] and "0m" in lines[3]
    code, listed, _ = keys(keys_file, capsys, "list", "--json")
    rows: list[dict[str, Any]] = json.loads(listed)
    assert [(row["name"], row["id"], row["state"]) for row in rows] == [
        ("ci-bot", old.id, "rotating"),
        ("gone", gone.id, "revoked"),
        ("ci-bot", new.id, "active"),
    ]
    assert rows[0]["rotated_to"] == new.id and (rows[0]["rate"], rows[0]["burst"]) == (2.5, 5)
    for secret in [*created, rotated, old.sha256, gone.sha256, new.sha256]:
        assert secret.strip() not in table + listed


def test_revoke_by_id_and_its_errors(keys_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys(keys_file, capsys, "create", "--name", "ci-bot")
    keys(keys_file, capsys, "rotate", "ci-bot")
    old, new = load_keys(keys_file)
    assert keys(keys_file, capsys, "revoke", "ci-bot", "--id", old.id) == (
        0,
        f"revoked ci-bot (id {old.id})\n",
        "",
    )
    assert keys(keys_file, capsys, "revoke", "ci-bot", "--id", old.id) == (
        1,
        "",
        f"aegis: the key 'ci-bot' with id '{old.id}' is already revoked\n",
    )
    assert keys(keys_file, capsys, "revoke", "nobody") == (1, "", "aegis: no key named 'nobody'\n")
    assert [stored.state(new.created) for stored in load_keys(keys_file)] == ["revoked", "active"]


def test_rotate_prints_only_the_new_key(keys_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys(keys_file, capsys, "create", "--name", "ci-bot")
    code, out, err = keys(keys_file, capsys, "rotate", "ci-bot", "--overlap", "90m")
    assert code == 0 and out.startswith("aegis_") and out.count("\n") == 1
    assert err.startswith("Key 'ci-bot' rotated; the key(s) it replaces stay valid until ")
    assert hash_key(out.strip()) == load_keys(keys_file)[1].sha256
    assert keys(keys_file, capsys, "rotate", "ci-bot", "--overlap", "1.5h")[1:] == (
        "",
        "aegis: '1.5h' is not a duration like 30d, 12h, 90m or 45s\n",
    )


def test_a_missing_keys_file_is_an_error(keys_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for action in (["list"], ["revoke", "a"], ["rotate", "a"]):
        assert keys(keys_file, capsys, *action) == (
            1,
            "",
            f"aegis: keys file {keys_file} does not exist (create a key with `aegis keys create`)\n",
        )


def test_file_permissions_warn_or_refuse(keys_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    keys(keys_file, capsys, "create", "--name", "a")
    keys_file.chmod(0o644)
    code, out, err = keys(keys_file, capsys, "list")
    assert code == 0 and out.startswith("NAME")
    warning = f"keys file {keys_file} is readable by group or others (mode 0644): chmod 600 {keys_file}"
    assert err == f"aegis: WARNING: {warning}\n"
    keys_file.chmod(0o666)
    code, out, err = keys(keys_file, capsys, "list")
    assert (code, out) == (1, "")
    assert err.startswith(f"aegis: keys file {keys_file} is writable by group or others (mode 0666)")


def test_concurrent_creates_from_several_processes_lose_nothing(keys_file: Path) -> None:
    names = [f"bot-{index}" for index in range(8)]
    with ThreadPoolExecutor(len(names)) as pool:
        results = list(pool.map(lambda name: aegis(keys_file, "create", "--name", name), names))
    assert [result.returncode for result in results] == [0] * len(names)
    stored = {key.name: key.sha256 for key in load_keys(keys_file)}
    assert stored == {
        name: hash_key(result.stdout.strip()) for name, result in zip(names, results, strict=True)
    }


@pytest.fixture(scope="module")
def gateway(
    simulator: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str
) -> Iterator[Gateway]:
    gw = start_gateway(
        tmp_path_factory.mktemp("gw-keys"), policy="defaults: {read: allow}\n", upstream=simulator
    )
    yield gw
    gw.stop()


def status(gateway: Gateway, key: str) -> int:
    ping = {"jsonrpc": "2.0", "id": 1, "method": "ping"}
    headers = {"Authorization": f"Bearer {key}", "Accept": "application/json, text/event-stream"}
    return httpx.post(gateway.url, json=ping, headers=headers, timeout=10).status_code


@pytest.mark.e2e
def test_a_running_gateway_follows_rotation_and_revocation(gateway: Gateway) -> None:
    old = gateway.key
    rotated = aegis(gateway.keys_file, "rotate", "e2e-agent")
    assert rotated.returncode == 0, rotated.stderr
    new = rotated.stdout.strip()
    assert (status(gateway, old), status(gateway, new)) == (200, 200)
    old_id = next(key.id for key in load_keys(gateway.keys_file) if key.sha256 == hash_key(old))
    assert aegis(gateway.keys_file, "revoke", "e2e-agent", "--id", old_id).returncode == 0
    assert (status(gateway, old), status(gateway, new)) == (401, 200)
    assert aegis(gateway.keys_file, "revoke", "e2e-agent").returncode == 0
    assert status(gateway, new) == 401
