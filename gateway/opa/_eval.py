"""`opa eval` over a bundle, for many inputs in one OPA process: the engine of the authoring tools."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from gateway.errors import OpaError
from gateway.opa._binary import cannot_run

BATCH_QUERY = "[d | some c in input.cases; d := data.aegis.authz.decision with input as c]"
EVAL_TIMEOUT_S = 300


def evaluate_decisions(opa_bin: str, bundle: Path, inputs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The decision for each input, in order, from the real OPA (`opa eval --bundle`).

    Example:
        [decision] = evaluate_decisions("opa", Path("bundle.tar.gz"), [opa_input])
    """
    try:
        done = subprocess.run(
            [opa_bin, "eval", "--bundle", str(bundle), "--format", "json", "--stdin-input", BATCH_QUERY],
            input=json.dumps({"cases": list(inputs)}),
            capture_output=True,
            text=True,
            timeout=EVAL_TIMEOUT_S,
        )
    except OSError as exc:
        raise cannot_run(opa_bin, exc) from exc
    except subprocess.TimeoutExpired:
        raise OpaError(f"opa eval took longer than {EVAL_TIMEOUT_S}s") from None
    if done.returncode != 0:
        raise OpaError(f"opa eval failed: {done.stderr.strip() or done.stdout.strip()}")
    try:
        decisions: list[dict[str, Any]] = json.loads(done.stdout)["result"][0]["expressions"][0]["value"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise OpaError("opa eval returned no decisions (is the bundle an Aegis policy?)") from None
    if len(decisions) != len(inputs):
        raise OpaError("opa eval returned a decision for only some inputs")
    return decisions
