"""The `aegis` command line: exit codes and messages of the policy and audit commands."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from gateway.cli import main


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


def test_serve_without_upstream_refuses_to_start(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AEGIS_GITEA_URL", raising=False)
    assert main(["serve"]) == 1
    assert "AEGIS_GITEA_URL is not set" in capsys.readouterr().err
