"""Fixtures of the policy compiler tests: the OPA binary and a policy file writer."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def opa() -> str:
    """The OPA binary: $AEGIS_OPA_BIN, else `opa` on PATH. Tests needing it skip when it is absent,
    unless AEGIS_REQUIRE_ALL=1 (scripts/test), where a missing tool fails them."""
    wanted = os.environ.get("AEGIS_OPA_BIN") or "opa"
    found = shutil.which(wanted)
    if found is None:
        reason = f"OPA binary {wanted!r} not found (set AEGIS_OPA_BIN or put opa on PATH)"
        if os.environ.get("AEGIS_REQUIRE_ALL") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    return found


@pytest.fixture
def write_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[[str], Path]:
    """Writes policy text to ./policy.yaml in a fresh directory, so issues read `policy.yaml:L:C`."""
    monkeypatch.chdir(tmp_path)

    def write(text: str, name: str = "policy.yaml") -> Path:
        path = Path(name)
        path.write_text(text, encoding="utf-8")
        return path

    return write
