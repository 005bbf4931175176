"""The only state-changing Gitea requests the gateway can send.

Writes are allowed by shape, not refused by a blocklist: a method and API path must match one of these
patterns or the client refuses to send it. Merge, PR update, branch deletion or rename, tag deletion,
repository edit or deletion and every admin endpoint match none of them, so no tool, bug or future
change can reach them through this client. A body carrying `force_push` is refused whatever its value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote

from gateway.errors import UpstreamError

_SEGMENT = r"[^/]+"
_REPO = rf"/api/v1/repos/{_SEGMENT}/{_SEGMENT}"
_INDEX = r"[1-9][0-9]{0,17}"
ALLOWED_WRITES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (method, re.compile(_REPO + suffix))
    for method, suffix in (
        ("POST", "/issues"),
        ("PATCH", f"/issues/{_INDEX}"),
        ("POST", f"/issues/{_INDEX}/comments"),
        ("POST", f"/issues/{_INDEX}/labels"),
        ("DELETE", f"/issues/{_INDEX}/labels/{_INDEX}"),
        ("POST", "/branches"),
        ("POST", f"/contents/{_SEGMENT}(?:/{_SEGMENT})*"),
        ("PUT", f"/contents/{_SEGMENT}(?:/{_SEGMENT})*"),
        ("DELETE", f"/contents/{_SEGMENT}(?:/{_SEGMENT})*"),
        ("POST", "/pulls"),
    )
)
FORBIDDEN_BODY_FIELDS = frozenset({"force_push"})


def check_write(method: str, path: str, body: Mapping[str, Any] | None) -> None:
    """Raise UpstreamError("refused") unless `method path` is an allowed write with an allowed body."""
    if not any(method == allowed and pattern.fullmatch(path) for allowed, pattern in ALLOWED_WRITES):
        raise UpstreamError("refused")
    if any(unquote(segment) in (".", "..") for segment in path.split("/")):
        raise UpstreamError("refused")  # dot segments: the allowlist holds without the normalizer
    if body is not None and FORBIDDEN_BODY_FIELDS.intersection(body):
        raise UpstreamError("refused")
