"""A pre-built, signed bundle as AEGIS_POLICY: the managed OPA verifies it with the configured key and
refuses an unsigned or altered one (at start-up, and on reload, where the old policy then stays)."""

from __future__ import annotations

import io
import tarfile
import time
from pathlib import Path

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from policy_compiler import build_bundle, sign_bundle

from tests.processes import Simulator, start_gateway

pytestmark = pytest.mark.e2e
POLICY = "defaults: {read: allow}\n"


def key_pair(directory: Path) -> tuple[Path, Path]:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = directory / "signing.pem"
    public_pem = directory / "verify.pem"
    private_pem.write_bytes(
        private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    public_pem.write_bytes(
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_pem, public_pem


def signed_bundle(directory: Path, private_pem: Path, name: str, policy: str = POLICY) -> Path:
    source = directory / f"{name}.yaml"
    source.write_text(policy)
    bundle = build_bundle(source, directory / f"{name}.tar.gz").path
    sign_bundle(bundle, signing_key=private_pem)
    return bundle


def altered(bundle: Path) -> bytes:
    """The bundle with one byte of its data changed and its signature left as it was."""
    out = io.BytesIO()
    with tarfile.open(bundle) as source, tarfile.open(fileobj=out, mode="w:gz") as target:
        for member in source.getmembers():
            data = source.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "aegis/policy/data.json":
                data = data.replace(b'"allow"', b'"allox"', 1)
            target.addfile(member, io.BytesIO(data))
    return out.getvalue()


def test_signed_bundle_is_served_and_a_tampered_one_refused(
    simulator: Simulator, tmp_path: Path, opa_bin: str
) -> None:
    private_pem, public_pem = key_pair(tmp_path)
    bundle = signed_bundle(tmp_path, private_pem, "policy")
    env = {
        "AEGIS_POLICY": str(bundle),
        "AEGIS_BUNDLE_VERIFICATION_KEY": str(public_pem),
        "AEGIS_POLICY_RELOAD_INTERVAL": "0.2",
    }
    gateway = start_gateway(tmp_path / "gw", policy=POLICY, upstream=simulator, env=env)
    try:
        first = httpx.get(f"{gateway.base_url}/readyz").json()["bundle_revision"]
        call = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "get_repository_info", "arguments": {"owner": "acme", "repo": "app"}},
        }
        assert httpx.post(gateway.url, json=call, headers=gateway.auth).json()["result"]["isError"] is False
        bundle.write_bytes(altered(bundle))  # tampered after signing: the reload is refused
        time.sleep(1.0)
        assert httpx.get(f"{gateway.base_url}/readyz").json()["bundle_revision"] == first
        assert "policy reload refused" in gateway.logs()
    finally:
        gateway.stop()


@pytest.mark.parametrize("tampering", ["unsigned", "altered"])
def test_gateway_refuses_to_start_on_an_unverifiable_bundle(
    tmp_path: Path, opa_bin: str, simulator: Simulator, tampering: str
) -> None:
    private_pem, public_pem = key_pair(tmp_path)
    bundle = signed_bundle(tmp_path, private_pem, "policy")
    if tampering == "altered":
        bundle.write_bytes(altered(bundle))
    else:
        bundle = build_bundle(tmp_path / "policy.yaml", tmp_path / "unsigned.tar.gz").path
    gateway = start_gateway(
        tmp_path / "gw",
        policy=POLICY,
        upstream=simulator,
        wait_ready=False,
        env={"AEGIS_POLICY": str(bundle), "AEGIS_BUNDLE_VERIFICATION_KEY": str(public_pem)},
    )
    try:
        assert gateway.process.wait(timeout=60) != 0
        assert "OPA exited during start-up" in gateway.logs()
    finally:
        gateway.stop()


def test_a_bundle_whose_data_and_manifest_disagree_is_refused(
    tmp_path: Path, opa_bin: str, simulator: Simulator
) -> None:
    source = tmp_path / "policy.yaml"
    source.write_text(POLICY)
    bundle = build_bundle(source, tmp_path / "bundle.tar.gz").path
    repacked = io.BytesIO()
    with tarfile.open(bundle) as original, tarfile.open(fileobj=repacked, mode="w:gz") as target:
        for member in original.getmembers():
            data = original.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == ".manifest":
                data = data.replace(b'"revision": "', b'"revision": "0000', 1)
                assert b'"revision": "0000' in data
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    bundle.write_bytes(repacked.getvalue())
    gateway = start_gateway(
        tmp_path / "gw",
        policy=POLICY,
        upstream=simulator,
        wait_ready=False,
        env={"AEGIS_POLICY": str(bundle)},
    )
    try:
        assert gateway.process.wait(timeout=60) != 0
        assert "not its manifest's" in gateway.logs()
    finally:
        gateway.stop()
