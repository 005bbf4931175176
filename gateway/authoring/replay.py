"""`aegis audit replay`: decide recorded calls again, under the bundle that decided them (which must give
the recorded decision) and, optionally, under a candidate policy (to show what would change).

An entry records what OPA decided on (`decision_input`: principal, tool, resource, context; never the
arguments, which no rule reads) and the decision's reasons. Only OPA's own part is replayed: reasons the
gateway added after it (a quota, an approver's denial, a refused request state) are left out of the
comparison, and a decision the gateway made without OPA (OPA unreachable, a scope the key lacks) is not
replayed at all.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from policy_compiler import build_bundle

from gateway.audit import DECISION_INPUT
from gateway.opa._eval import evaluate_decisions

GATEWAY_SOURCES = ("gateway", "transport")


@dataclasses.dataclass(frozen=True)
class Verdict:
    allow: bool
    reasons: tuple[tuple[str, str, str], ...]  # (rule, effect, source) of OPA's reasons

    def describe(self) -> str:
        rules = ", ".join(f"{rule} ({source})" for rule, _, source in self.reasons) or "no reason"
        return f"{'allow' if self.allow else 'deny'}: {rules}"


@dataclasses.dataclass(frozen=True)
class Replayed:
    seq: int
    recorded: Verdict
    replayed: Verdict

    @property
    def reproduced(self) -> bool:
        return self.recorded == self.replayed


def replayable(entry: Mapping[str, Any]) -> str | None:
    """Why `entry` cannot be replayed, or None when it can."""
    if entry.get("event") != "tool_call":
        return "not a tool call"
    if not isinstance(entry.get(DECISION_INPUT), dict) or not isinstance(entry.get("bundle_revision"), str):
        return "no decision recorded (an invalid call, or a log from before decision inputs were kept)"
    if any(_by_gateway(reason) and str(reason.get("rule")).startswith("opa.") for reason in _reasons(entry)):
        return "decided by the gateway without OPA"
    return None


def recorded_verdict(entry: Mapping[str, Any]) -> Verdict:
    """OPA's part of the recorded decision: its reasons, and whether any of them denies."""
    reasons = tuple(_key(reason) for reason in _reasons(entry) if not _by_gateway(reason))
    return Verdict(allow=not any(effect == "deny" for _, effect, _ in reasons), reasons=reasons)


def replay(entries: Sequence[Mapping[str, Any]], bundle: Path, *, opa_bin: str) -> list[Replayed]:
    """Each entry's recorded input decided again by `bundle` (one OPA process for all of them)."""
    inputs = [{"version": 1, **entry[DECISION_INPUT], "args": {}} for entry in entries]
    decisions = evaluate_decisions(opa_bin, bundle, inputs) if inputs else []
    return [
        Replayed(seq=entry["seq"], recorded=recorded_verdict(entry), replayed=_verdict(decision))
        for entry, decision in zip(entries, decisions, strict=True)
    ]


def replay_under(entries: Sequence[Mapping[str, Any]], policy: Path, *, opa_bin: str) -> list[Replayed]:
    """The entries decided by a candidate policy (YAML), compiled for the purpose."""
    with tempfile.TemporaryDirectory(prefix="aegis-replay-") as scratch:
        bundle = build_bundle(policy, Path(scratch) / "candidate.tar.gz")
        return replay(entries, bundle.path, opa_bin=opa_bin)


def _verdict(decision: Mapping[str, Any]) -> Verdict:
    reasons = decision.get("reasons") or []
    return Verdict(allow=decision.get("allow") is True, reasons=tuple(_key(reason) for reason in reasons))


def _reasons(entry: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    reasons = entry.get("reasons")
    return [reason for reason in reasons if isinstance(reason, dict)] if isinstance(reasons, list) else []


def _by_gateway(reason: Mapping[str, Any]) -> bool:
    source = str(reason.get("source"))
    return source in GATEWAY_SOURCES or source.startswith("approver:")


def _key(reason: Mapping[str, Any]) -> tuple[str, str, str]:
    return str(reason.get("rule")), str(reason.get("effect")), str(reason.get("source"))
