"""Deployment safety: loopback by default; a non-loopback bind needs TLS or an explicit, loud opt-in."""

from __future__ import annotations

import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import Gateway, Simulator, create_key, start_gateway

pytestmark = pytest.mark.e2e

POLICY = "defaults: {read: allow, write: deny}\n"
ANY_ADDRESS = "0.0.0.0"  # noqa: S104 - the point of these tests


@pytest.fixture
def stopped() -> Iterator[list[Gateway]]:
    gateways: list[Gateway] = []
    yield gateways
    for gateway in gateways:
        gateway.stop()


def exit_status(gateway: Gateway) -> int:
    return gateway.process.wait(timeout=60)


def test_a_non_loopback_bind_without_tls_refuses_to_start(
    simulator: Simulator, tmp_path: Path, stopped: list[Gateway]
) -> None:
    gateway = start_gateway(
        tmp_path, policy=POLICY, upstream=simulator, bind_host=ANY_ADDRESS, wait_ready=False
    )
    stopped.append(gateway)
    assert exit_status(gateway) == 1
    assert "refusing to bind 0.0.0.0" in gateway.logs() and "AEGIS_TLS_CERT" in gateway.logs()


def test_the_insecure_opt_in_serves_and_warns(
    simulator: Simulator, tmp_path: Path, stopped: list[Gateway]
) -> None:
    gateway = start_gateway(
        tmp_path,
        policy=POLICY,
        upstream=simulator,
        bind_host=ANY_ADDRESS,
        serve_args=("--allow-insecure-bind",),
    )
    stopped.append(gateway)
    assert httpx.get(f"{gateway.base_url}/healthz").status_code == 200
    assert "UNSAFE: serving plain HTTP on a non-loopback address" in gateway.logs()


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def test_a_non_loopback_bind_with_tls_serves_https_only(
    simulator: Simulator, tmp_path: Path, certificate: tuple[Path, Path], stopped: list[Gateway]
) -> None:
    cert, key = certificate
    gateway = start_gateway(
        tmp_path / "gw",
        policy=POLICY,
        upstream=simulator,
        bind_host=ANY_ADDRESS,
        env={"AEGIS_TLS_CERT": str(cert), "AEGIS_TLS_KEY": str(key)},
        wait_ready=False,
    )
    stopped.append(gateway)
    https_url = gateway.base_url.replace("http://", "https://")
    trust = ssl.create_default_context(cafile=str(cert))
    for _ in range(300):
        try:
            if httpx.get(f"{https_url}/readyz", verify=trust).status_code == 200:
                break
        except httpx.HTTPError:
            assert gateway.process.poll() is None, gateway.logs()
            time.sleep(0.1)
    response = httpx.post(
        f"{https_url}/mcp",
        json={"jsonrpc": "2.0", "id": 1, "method": "ping"},
        headers={**gateway.auth, "Accept": "application/json"},
        verify=trust,
    )
    assert response.json()["result"] == {}
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"{gateway.base_url}/healthz", timeout=2)  # no plain HTTP on the TLS port
    assert "UNSAFE" not in gateway.logs()


def test_a_certificate_without_its_key_refuses_to_start(
    simulator: Simulator, tmp_path: Path, certificate: tuple[Path, Path], stopped: list[Gateway]
) -> None:
    gateway = start_gateway(
        tmp_path / "gw",
        policy=POLICY,
        upstream=simulator,
        env={"AEGIS_TLS_CERT": str(certificate[0])},
        wait_ready=False,
    )
    stopped.append(gateway)
    assert exit_status(gateway) == 1
    assert "AEGIS_TLS_CERT and AEGIS_TLS_KEY must be set together" in gateway.logs()


def test_a_gateway_without_a_usable_key_refuses_to_start(
    simulator: Simulator, tmp_path: Path, stopped: list[Gateway]
) -> None:
    revoked = tmp_path / "revoked-keys.json"
    create_key(revoked, name="gone")
    subprocess.run(
        [sys.executable, "-m", "gateway.cli", "keys", "revoke", "gone", "--keys-file", str(revoked)],
        check=True,
        capture_output=True,
    )
    gateway = start_gateway(
        tmp_path / "gw",
        policy=POLICY,
        upstream=simulator,
        env={"AEGIS_KEYS_FILE": str(revoked)},
        wait_ready=False,
    )
    stopped.append(gateway)
    assert exit_status(gateway) == 1
    assert "holds no usable key" in gateway.logs()
