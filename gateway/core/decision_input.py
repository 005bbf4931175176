"""The OPA input of one call (the version 1 contract of docs/contracts.md), built in one place for the core
and for what decides without running a call (an automation job's dry run)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from gateway.tools import Tool
from gateway.vocabulary import CallContext, Principal, Resource


def call_input(
    principal: Principal,
    tool: Tool,
    resource: Resource,
    arguments: Mapping[str, Any],
    context: Mapping[str, Any],
) -> dict[str, Any]:
    return {
        "version": 1,
        "principal": principal.as_input(),
        "tool": {"name": tool.name, "capability": tool.capability},
        "resource": resource.as_input(),
        "args": dict(arguments),
        "context": dict(context),
    }


def context_input(context: CallContext, *, write_mode: bool) -> dict[str, Any]:
    """The input's `context`; `automation` only on an automation job's calls."""
    facts: dict[str, Any] = {
        "write_mode": write_mode,
        # Microseconds: a grant's `expires` must not be passable within the current second.
        "time": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "client_ip": context.client_ip,
        "request_id": context.request_id,
    }
    if context.automation is not None:
        facts["automation"] = context.automation.as_dict()
    return facts
