"""The one type every audit entry is built as, before the writer chains it."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from gateway.audit._chain import (
    CLIENT_REQUEST_ID,
    CREDENTIAL_ID,
    ENTRY_FIELDS,
    EVENT_FIELDS,
    INTENT_EVENT,
    TRACEPARENT,
)

CHAINED_FIELDS = ("seq", "ts", "prev_hash", "entry_hash")  # added by the writer
_COMMON = tuple(name for name in ENTRY_FIELDS if name not in CHAINED_FIELDS)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Entry:
    """One audit entry as its writer receives it: the fields every entry has, and in `detail` those of
    its kind of event (`EVENT_FIELDS`). The writer refuses an entry `verify` would refuse, so a field
    added here without the verifier knowing it fails its first append, never the next start-up."""

    event: str
    outcome: str
    request_id: str | None = None
    client_request_id: str | None = None  # written only when the client sent its own request id
    traceparent: str | None = None  # written only when the client sent its trace context
    decision_id: str | None = None
    bundle_revision: str | None = None  # the bundle that decided
    principal: str | None = None
    credential_id: str | None = None  # written only when the principal's credential has an id
    tool: str | None = None
    repo: str | None = None
    path: str | None = None
    args_sha256: str | None = None
    reasons: tuple[Mapping[str, Any], ...] = ()
    duration_ms: float = 0.0
    detail: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def fields(self) -> dict[str, Any]:
        """The entry as a JSON object, without the fields the writer adds."""
        common = {name: getattr(self, name) for name in _COMMON}
        common["reasons"] = [dict(reason) for reason in self.reasons]
        if self.client_request_id is not None:
            common[CLIENT_REQUEST_ID] = self.client_request_id
        if self.traceparent is not None:
            common[TRACEPARENT] = self.traceparent
        if self.credential_id is not None:
            common[CREDENTIAL_ID] = self.credential_id
        return {**common, **self.detail}

    def adding(self, **detail: Any) -> Entry:
        """This entry with more fields of its kind of event."""
        return dataclasses.replace(self, detail={**self.detail, **detail})

    def intent(self) -> Entry:
        """The `write_intent` entry of a write about to be sent to Gitea, from the entry its outcome will
        have: who, what and why it was allowed, without what only the outcome knows."""
        _, kept = EVENT_FIELDS[INTENT_EVENT]
        detail = {name: value for name, value in self.detail.items() if name in kept}
        return dataclasses.replace(self, event=INTENT_EVENT, outcome="intent", duration_ms=0.0, detail=detail)
