"""`aegis policy explain POLICY --input INPUT.json`: the decision and the YAML lines behind it."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

from policy_compiler import SOURCE_NAME, build_bundle

from gateway.errors import ConfigError
from gateway.opa._eval import evaluate_decisions


def explain(policy: Path, input_file: Path, *, opa_bin: str) -> str:
    """A readable account of the decision for one OPA input: verdict, then each reason with its YAML line,
    the obligations, and each require_approval entry that holds the call with its YAML line."""
    try:
        opa_input: Any = json.loads(input_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"{input_file}: not a readable JSON input document ({exc})") from exc
    with tempfile.TemporaryDirectory(prefix="aegis-explain-") as tmp:
        bundle = build_bundle(policy, Path(tmp) / "bundle.tar.gz")
        [decision] = evaluate_decisions(opa_bin, bundle.path, [opa_input])
    return "\n".join(describe_decision(decision, policy, bundle.revision))


def describe_decision(decision: dict[str, Any], policy: Path, revision: str) -> list[str]:
    """The lines of `explain` for one decision of the bundle `revision` compiled from `policy`."""
    lines = policy.read_text(encoding="utf-8").splitlines()
    verdict = "ALLOW" if decision.get("allow") is True else "DENY"
    out = [f"decision: {verdict}  (policy {policy.name}, bundle revision {revision[:12]})"]
    for reason in decision.get("reasons", []):
        out.append(f"  {reason['effect']:<5} {reason['rule']}  [{reason['source']}]")
        quoted = _source_line(reason["source"], lines)
        if quoted:
            out.append(f"        {quoted}")
    obligations = decision.get("obligations") or {}
    if obligations:
        out.append(f"obligations: {json.dumps(obligations, sort_keys=True)}")
    approvals = obligations.get("require_approval")
    if isinstance(approvals, list) and approvals:
        out.append("held for a human approval (aegis approvals approve ID) by:")
        for entry in approvals:
            out.append(f"  approval {entry['rule']}  [{entry['source']}]")
            quoted = _source_line(entry["source"], lines)
            if quoted:
                out.append(f"        {quoted}")
    return out


def _source_line(source: str, lines: list[str]) -> str | None:
    """The YAML text a `file:line` source points at, when it is in the explained file: the compiler
    names that file SOURCE_NAME in every source, whatever it is called."""
    name, _, number = source.rpartition(":")
    if name != SOURCE_NAME or not number.isdigit() or not 1 <= int(number) <= len(lines):
        return None
    return f"{number}| {lines[int(number) - 1].strip()}"
