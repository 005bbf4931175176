"""The tools/call results an agent receives: sanitized tool output, denials and errors.

Tool output is repository data, so it is sanitized (secrets masked or the result withheld, invisible
characters stripped, sizes bounded) and its text is put between untrusted-data markers before any agent
sees it. Denials and errors are the gateway's own words and carry the request id.
"""

from __future__ import annotations

import dataclasses
import json
import secrets
from collections import Counter
from typing import Any

from gateway.opa import Decision, Reason
from gateway.sanitize import Sanitized, SecretMode, mark_untrusted, sanitize_output
from gateway.tools import ToolOutput

SECRETS_BLOCKED = Reason(rule="output.secrets", effect="deny", source="gateway")
UNSCANNED_BLOCKED = Reason(rule="output.unscanned", effect="deny", source="gateway")
_NONCE_ATTEMPTS = 8


@dataclasses.dataclass(frozen=True, kw_only=True)
class OutputBounds:
    max_bytes: int
    max_items: int


@dataclasses.dataclass(frozen=True)
class Presented:
    """What a tool's output became: the result to return, the decision to audit, and what changed."""

    result: dict[str, Any]
    decision: Decision
    sanitized: Sanitized
    withheld_by_policy: int = 0

    @property
    def withheld(self) -> bool:
        return self.sanitized.blocked

    def audit_summary(self) -> dict[str, Any]:
        """For the audit entry: counts only, never content."""
        return {
            "secrets": dict(sorted(Counter(finding.kind for finding in self.sanitized.findings).items())),
            "secrets_mode": self.sanitized.mode,
            "withheld": self.withheld,
            "stripped_chars": self.sanitized.stripped_chars,
            "truncated_bytes": self.sanitized.truncated_bytes,
            "omitted_items": self.sanitized.omitted_items,
            "withheld_by_policy": self.withheld_by_policy,
            "unscanned": self.sanitized.unscanned,
        }


def secret_mode(decision: Decision) -> SecretMode:
    """The decision's `secrets` obligation (always present on an allow of this project's Rego); a missing
    or unknown value is treated as block."""
    return "mask" if decision.obligations.get("secrets") == "mask" else "block"


def present(output: ToolOutput, decision: Decision, *, bounds: OutputBounds, request_id: str) -> Presented:
    sanitized = sanitize_output(
        output.structured,
        output.text,
        mode=secret_mode(decision),
        max_bytes=bounds.max_bytes,
        max_items=bounds.max_items,
        found=output.findings,
    )
    if sanitized.blocked:
        return _blocked(sanitized, decision, output.withheld, request_id)
    return Presented(
        _success_result(sanitized, output.withheld, request_id), decision, sanitized, output.withheld
    )


def _blocked(sanitized: Sanitized, decision: Decision, withheld_items: int, request_id: str) -> Presented:
    """The error that replaces a result the policy's `block` withholds: secrets were found in it, or it
    holds binary data that could not be fully scanned."""
    reasons, causes = [], []
    if sanitized.findings:
        kinds = ", ".join(sorted({finding.kind for finding in sanitized.findings}))
        reasons.append(SECRETS_BLOCKED)
        causes.append(f"contains secrets ({kinds})")
    if sanitized.unscanned:
        reasons.append(UNSCANNED_BLOCKED)
        causes.append("holds binary data that cannot be fully scanned for secrets")
    withheld = dataclasses.replace(decision, allow=False, reasons=(*decision.reasons, *reasons))
    message = f"Withheld by policy: the result {' and '.join(causes)}, and the policy blocks such output"
    return Presented(_error_result(message, request_id, denied=True), withheld, sanitized, withheld_items)


def denied_result(decision: Decision, request_id: str, *, detail: str | None = None) -> dict[str, Any]:
    """A denial naming every deny rule; `detail` says more where a rule alone would not (a quota)."""
    reasons = [reason.as_dict() for reason in decision.reasons]
    rules = (
        ", ".join(f"{r['rule']} ({r['source']})" for r in reasons if r["effect"] == "deny")
        or "no rule allows it"
    )
    structured: dict[str, Any] = {"denied": True, "reasons": reasons, "request_id": request_id}
    if detail:
        rules += f": {detail}"
        structured["detail"] = detail
    return {
        "content": [{"type": "text", "text": f"Denied by policy: {rules}. Request id: {request_id}."}],
        "structuredContent": structured,
        "isError": True,
    }


def pending_result(approval: dict[str, Any], request_id: str) -> dict[str, Any]:
    """A write held for a human: not run, and how to get it run (an approval, then the same call again)."""
    text = (
        f"Awaiting human approval: this call was not run. Approval id {approval['id']} (expires"
        f" {approval['expires']}). Once an approver runs `aegis approvals approve {approval['id']}`, repeat"
        f" exactly the same call to run it once. Request id: {request_id}."
    )
    return {
        "content": [{"type": "text", "text": text}],
        "structuredContent": {
            "pending_approval": True,
            "approval_id": approval["id"],
            "expires": approval["expires"],
            "request_id": request_id,
        },
        "isError": True,
    }


def error_result(message: str, request_id: str) -> dict[str, Any]:
    return _error_result(message, request_id, denied=False)


def _error_result(message: str, request_id: str, *, denied: bool) -> dict[str, Any]:
    structured: dict[str, Any] = {"error": message, "request_id": request_id}
    if denied:
        structured["denied"] = True
    return {
        "content": [{"type": "text", "text": f"{message}. Request id: {request_id}."}],
        "structuredContent": structured,
        "isError": True,
    }


def _success_result(sanitized: Sanitized, withheld_items: int, request_id: str) -> dict[str, Any]:
    """The sanitized output between untrusted-data markers; when the policy withheld part of it, or part
    of it could not be fully scanned, the gateway says so in its own words, outside the markers, naming
    neither the items nor their content."""
    text = (
        sanitized.text if sanitized.text is not None else json.dumps(sanitized.structured, ensure_ascii=False)
    )
    content = [{"type": "text", "text": _marked(text)}]
    structured = sanitized.structured
    if withheld_items:
        notice = (
            f"Withheld by policy: {withheld_items} item(s) of this result (repositories, files, entries or"
            " diff sections) are ones the policy does not let this call show, and are not shown."
        )
        content.append({"type": "text", "text": notice})
        structured = {**structured, "withheld_by_policy": withheld_items}
    if sanitized.unscanned:
        notice = (
            f"Not fully scanned: {sanitized.unscanned} value(s) of this result are binary data (base64);"
            " only secrets written in them as ASCII or UTF-16 text were looked for and masked."
        )
        content.append({"type": "text", "text": notice})
    return {
        "content": content,
        "structuredContent": structured,
        "isError": False,
        "_meta": {
            "aegis": {
                "untrusted_content": True,
                "secrets_masked": len(sanitized.findings),
                "truncated": sanitized.truncated,
                "withheld_by_policy": withheld_items,
                "unscanned": sanitized.unscanned,
                "request_id": request_id,
            }
        },
    }


def _marked(text: str) -> str:
    for _ in range(_NONCE_ATTEMPTS):
        nonce = secrets.token_hex(16)
        if nonce not in text:
            return mark_untrusted(text, nonce=nonce)
    raise RuntimeError("could not draw a nonce absent from the text")  # 2**-128 per attempt
