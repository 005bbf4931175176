"""Runs the real OPA binary for the tests."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

OPA_TIMEOUT_S = 60


def opa_eval(
    opa: str, query: str, input_value: Any, *, bundle: Path | None = None, data: Path | None = None
) -> Any:
    """The value of `query` evaluated by OPA with `input_value` as input, `bundle` or `data` loaded."""
    command = [opa, "eval", "--format", "json", "--stdin-input", query]
    if bundle is not None:
        command[2:2] = ["--bundle", str(bundle)]
    if data is not None:
        command[2:2] = ["--data", str(data)]
    completed = subprocess.run(
        command,
        input=json.dumps(input_value),
        capture_output=True,
        text=True,
        timeout=OPA_TIMEOUT_S,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    result = json.loads(completed.stdout)["result"]
    assert len(result) == 1, completed.stdout
    return result[0]["expressions"][0]["value"]


def run_opa(opa_bin: str, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run `opa <args>` in `cwd`."""
    return subprocess.run(
        [opa_bin, *args], cwd=cwd, capture_output=True, text=True, timeout=OPA_TIMEOUT_S, check=False
    )
