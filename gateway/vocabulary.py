"""The words the layers share: who calls (Principal, and the quotas of its key), what a call touches
(Resource), the facts of one request (CallContext), what a file write replaced (FileSnapshot), and the
names under which the edge leaves its findings in the ASGI scope's state. A leaf: it imports nothing of
the gateway, so that every layer may use it and none has to import one above it for it.
"""

from __future__ import annotations

import dataclasses
import ipaddress
from typing import Any

PRINCIPAL_STATE_KEY = "principal"  # the authenticated Principal, set by the edge's authentication
KEY_LIMIT_STATE_KEY = "key_rate_limit"  # the key's own rate limit, when it has one
Network = ipaddress.IPv4Network | ipaddress.IPv6Network  # a trusted proxy's, in configuration and at the edge
KNOWN_SCOPES = frozenset(
    {"tools:read", "tools:write", "tools:automation", "admin"}
)  # what a principal may hold


@dataclasses.dataclass(frozen=True)
class WriteQuota:
    """Per key and UTC day: at most `writes_per_day` writes storing `write_bytes_per_day` bytes in all,
    none larger than `max_write_bytes`."""

    writes_per_day: int
    write_bytes_per_day: int
    max_write_bytes: int


@dataclasses.dataclass(frozen=True)
class QuotaOverride:
    """A key's own write quotas; each None keeps the gateway's default."""

    writes_per_day: int | None = None
    write_bytes_per_day: int | None = None
    max_write_bytes: int | None = None

    def over(self, default: WriteQuota) -> WriteQuota:
        return WriteQuota(
            writes_per_day=self.writes_per_day or default.writes_per_day,
            write_bytes_per_day=self.write_bytes_per_day or default.write_bytes_per_day,
            max_write_bytes=self.max_write_bytes or default.max_write_bytes,
        )

    def as_dict(self) -> dict[str, int]:
        return {name: value for name, value in dataclasses.asdict(self).items() if value is not None}


NO_QUOTA_OVERRIDE = QuotaOverride()


@dataclasses.dataclass(frozen=True)
class Principal:
    """Who calls. `id` is what the policy names (an API key's name, `oauth:<sub>`); `credential_id` is
    which credential of it was presented, for the audit log only: the key's id (a rotated or re-created
    key of the same name has another), an access token's `jti`, or None when the token has none."""

    id: str
    kind: str
    scopes: tuple[str, ...]
    roles: tuple[str, ...] = ()
    write_quota: QuotaOverride = NO_QUOTA_OVERRIDE
    credential_id: str | None = None

    def may(self, capability: str) -> bool:
        """Whether the key's scopes cover tools of `capability` (read, write, automation)."""
        return f"tools:{capability}" in self.scopes

    def as_input(self) -> dict[str, Any]:
        """The `principal` member of the OPA input document."""
        return {"id": self.id, "kind": self.kind, "scopes": list(self.scopes), "roles": list(self.roles)}


@dataclasses.dataclass(frozen=True)
class Resource:
    """What a call touches, in normalized form. `repo` is `owner/name`."""

    owner: str | None = None
    name: str | None = None
    path: str | None = None
    ref: str | None = None
    size: int | None = None  # bytes, once known (a fetched file, a write's content)
    branch: str | None = None  # the branch a write targets

    @property
    def repo(self) -> str | None:
        return f"{self.owner}/{self.name}" if self.owner and self.name else None

    def as_input(self) -> dict[str, Any]:
        """The `resource` member of the OPA input document."""
        return {
            "repo": self.repo,
            "path": self.path,
            "ref": self.ref,
            "size": self.size,
            "branch": self.branch,
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class AutomationRun:
    """The job run a call is a step of: the job, what started it (a webhook delivery or a schedule's
    slot) and the step. It goes into the OPA input's `context.automation` and the call's audit entry."""

    job: str
    trigger: str  # "webhook" or "schedule"
    event: str | None = None  # the Gitea event of a webhook delivery
    delivery: str | None = None  # its X-Gitea-Delivery id
    slot: str | None = None  # a schedule's slot, RFC 3339 UTC
    repository: str | None = None  # owner/name the trigger names (a delivery's, or a scheduled run's)
    run_id: str
    step: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class CallContext:
    """Facts about the HTTP request the core may use; `principal` is opaque to the MCP layer.
    `client_request_id` is the client's own well-formed X-Request-ID, kept beside the gateway's."""

    principal: Any
    request_id: str
    client_ip: str | None
    client_request_id: str | None = None
    traceparent: str | None = None  # W3C trace context from the request's `_meta` (MCP 2026-07-28)
    request_state: Any = None  # the sealed state a 2026-07-28 client retries a held call with, as sent
    automation: AutomationRun | None = None  # set when an automation job's step makes the call


@dataclasses.dataclass(frozen=True)
class HeldForApproval:
    """A call held until a human approves it. `result` tells a client without multi-round-trip requests
    how to get it run (approval, then the same call again); `request_state` lets a 2026-07-28 client
    retry exactly this call, sealed so that it cannot name another."""

    approval_id: str
    expires: str
    request_state: str
    result: dict[str, Any]


@dataclasses.dataclass(frozen=True, kw_only=True)
class FileSnapshot:
    """A file write's before and after: `previous_*` are None when the write created the file."""

    repo: str
    path: str
    branch: str
    previous_sha: str | None
    previous_content: bytes | None
    new_sha: str
    commit_sha: str
