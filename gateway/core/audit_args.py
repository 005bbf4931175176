"""The `args` of a tool call's audit entry: the target arguments its tool declares, in clear, except
those the policy says are only hashed.

A reviewer reads which pull request, commit, query or path a call named. Contents (a file's, a
comment's, an issue's title and body, a commit message) are never target arguments (`Tool.audited_args`
cannot name them), so only the digest of all arguments (`args_sha256`) covers them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Mapping
from typing import Any

from gateway.audit import canonical_json
from gateway.tools import Tool


def audited_arguments(
    tool: Tool, arguments: Mapping[str, Any], hashed: Collection[str] | None
) -> dict[str, Any]:
    """The tool's target arguments the call passed (normalized), each in clear or, when `hashed` names it,
    as `{"sha256": <hex of its canonical JSON>}`. `hashed` None means the policy's list is not known (no
    decision came from OPA): every argument is then hashed, so that a failure never shows one in clear.

    Example:
        audited_arguments(search_tool, {"owner": "acme", "query": "token"}, hashed={"query"})
        # {"query": {"sha256": "3c46..."}}
    """
    recorded: dict[str, Any] = {}
    for name in tool.audited_args:
        value = arguments.get(name)
        if value is None:
            continue
        if hashed is None or name in hashed:
            recorded[name] = {"sha256": hashlib.sha256(canonical_json(value)).hexdigest()}
        else:
            recorded[name] = value
    return recorded
