"""The one exception root of the gateway, and the errors each layer translates into."""

from __future__ import annotations

import enum


class GatewayError(Exception):
    """Root of every error the gateway raises on purpose."""


class Kind(enum.Enum):
    """Why an operation was refused, as the layer that refuses it knows it; the HTTP boundary alone turns
    a kind into a status."""

    INVALID = "invalid"  # the request itself is wrong
    FORBIDDEN = "forbidden"  # this caller may not
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # the state it acts on forbids it now
    UPSTREAM = "upstream"  # Gitea refused or failed
    UNAVAILABLE = "unavailable"  # a part the gateway needs cannot serve now (the audit log)
    INTERNAL = "internal"


class Refused(GatewayError):
    """An operation that was not carried out, of a `kind`; the message is written for the caller."""

    def __init__(self, message: str, kind: Kind) -> None:
        super().__init__(message)
        self.kind = kind


class StateUnavailable(GatewayError):
    """The state database (SQLite or PostgreSQL) could not answer: a write is refused, never run unchecked."""


class ConfigError(GatewayError):
    """The configuration is invalid; the gateway refuses to start."""


class AuditWriteError(GatewayError):
    """An audit entry could not be written; the call it describes must not succeed silently."""


class AuditEntryError(GatewayError):
    """Code asked the audit log to write an entry whose fields its verifier would refuse: a bug."""


class AuditChainError(GatewayError):
    """The audit log's hash chain is broken at `line` (1-based)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


class TornTailError(AuditChainError):
    """The log ends in an unterminated line: a write was interrupted (`aegis audit repair` moves it aside)."""


class ServiceUnavailable(GatewayError):
    """The gateway cannot serve the call now (its audit log cannot be written). The message is written
    for the client and says whether anything was executed."""


class OpaError(GatewayError):
    """OPA could not give a usable decision (unreachable, timeout, error, malformed answer)."""


class UpstreamError(GatewayError):
    """Gitea could not serve the request. `kind` is a stable, client-safe label."""

    def __init__(self, kind: str, status: int | None = None) -> None:
        super().__init__(f"upstream {kind}" + (f" (HTTP {status})" if status is not None else ""))
        self.kind = kind
        self.status = status


class FileTooLarge(GatewayError):
    """A file over a size limit, refused from its metadata before any of it was read (sizes in bytes)."""

    def __init__(self, size: int, limit: int) -> None:
        super().__init__(f"the file is {size} bytes, over the limit of {limit} bytes")
        self.size = size
        self.limit = limit


class KeyStoreError(GatewayError):
    """The API keys file is missing, unreadable or malformed."""


class InvalidToolCall(GatewayError):
    """The call is invalid and nothing of it ran. The message is written for the client; where its model
    can correct the call (`correctable`: bad arguments), MCP 2025-11-25 on answers it as a tool error."""

    correctable = True


class MalformedToolCall(InvalidToolCall):
    """The call itself is malformed (no tool name, arguments not an object) or names an unknown tool:
    always answered as a protocol error."""

    correctable = False


class InvalidRequestState(InvalidToolCall):
    """A retried call's `requestState` failed verification, expired, names another call or an approval
    that can no longer run it: answered as a protocol error, and nothing runs."""

    correctable = False


class LimitBackendError(GatewayError):
    """The rate-limit backend (Redis) could not answer; the request it guards is refused."""


class TokenRefused(GatewayError):
    """An OAuth access token the gateway does not accept; `reason` says which check it failed."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class JwksUnavailable(GatewayError):
    """The issuer's signing keys could not be fetched or read: no token is accepted until they can."""
