"""The `aegis` command line: exit codes and messages of the policy and audit commands."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from gateway.audit import AuditLog, Checkpointing, CheckpointSigner, public_key_pem
from gateway.cli import main
from tests.unit.audit.test_audit import ENTRY


def test_policy_check_reports_file_line_column(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("defaults:\n  read: maybe\n")
    assert main(["policy", "check", str(policy)]) == 1
    assert capsys.readouterr().err.startswith(f"{policy}:2:9: ")


def test_the_example_policy_is_printed_and_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "example"]) == 0
    policy = tmp_path / "policy.yaml"
    policy.write_text(capsys.readouterr().out)
    assert "src/secrets/**" in policy.read_text()
    assert main(["policy", "check", str(policy)]) == 0


def test_policy_compile_writes_a_bundle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("defaults: {read: allow}\n")
    bundle = tmp_path / "bundle.tar.gz"
    assert main(["policy", "check", str(policy)]) == 0
    assert main(["policy", "compile", str(policy), "-o", str(bundle)]) == 0
    assert "revision " in capsys.readouterr().out
    with tarfile.open(bundle) as archive:
        names = archive.getnames()
    assert ".manifest" in names and "aegis/policy/data.json" in names


def test_policy_compile_signs_when_given_a_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("defaults: {read: allow}\n")
    secret = tmp_path / "secret"
    secret.write_text("s" * 64)
    bundle = tmp_path / "bundle.tar.gz"
    assert (
        main(
            [
                "policy",
                "compile",
                str(policy),
                "-o",
                str(bundle),
                "--signing-key",
                str(secret),
                "--signing-alg",
                "HS256",
            ]
        )
        == 0
    )
    assert "signed (HS256)" in capsys.readouterr().out
    with tarfile.open(bundle) as archive:
        assert ".signatures.json" in archive.getnames()


def test_audit_verify_of_a_missing_file_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", str(tmp_path / "absent.jsonl")]) == 1
    assert "cannot read" in capsys.readouterr().err


def test_audit_verify_require_covered_refuses_entries_after_the_last_checkpoint(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signer = CheckpointSigner(Ed25519PrivateKey.generate())
    public_key = tmp_path / "signing.pub"
    public_key.write_bytes(public_key_pem(signer.public_key))
    path = tmp_path / "audit.jsonl"
    plan = Checkpointing(signer=signer, sink=tmp_path / "sink", every_entries=3, every_s=3600)
    log = AuditLog.open(path, fsync=False, checkpointing=plan)
    for _ in range(3):
        log.write(ENTRY)
    log.close()  # entries 1-3, then the checkpoint's own entry 4
    strict = [
        "audit",
        "verify",
        str(path),
        "--public-key",
        str(public_key),
        "--checkpoints",
        str(tmp_path / "sink"),
    ]
    assert main([*strict, "--require-covered"]) == 0

    log = AuditLog.open(path, fsync=False)  # another hand, without the key
    log.write(ENTRY)
    log.write(ENTRY)
    log.close()
    capsys.readouterr()
    assert main(strict) == 0  # reported, not refused
    assert "3 entr(ies) after it not yet covered" in capsys.readouterr().out
    assert main([*strict, "--require-covered"]) == 1
    refused = capsys.readouterr()
    assert (
        "NOT COVERED: no signature covers entries 5 to 6, after the last signed checkpoint (of entry 3)"
        in refused.err
    )
    assert "OK" not in refused.out


def test_audit_verify_require_covered_needs_a_public_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify", str(tmp_path / "audit.jsonl"), "--require-covered"]) == 1
    assert "--require-covered needs --public-key" in capsys.readouterr().err


def test_serve_without_upstream_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AEGIS_GITEA_URL", raising=False)
    assert main(["serve"]) == 1
    assert "AEGIS_GITEA_URL is not set" in capsys.readouterr().err
