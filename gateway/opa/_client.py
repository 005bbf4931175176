"""The decision client. Every failure to obtain a well-formed decision is a deny that says why."""

from __future__ import annotations

import dataclasses
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from gateway.errors import OpaError
from gateway.observability.metrics import Metrics
from gateway.opa._wire import LocalHttp
from gateway.outbound import BodyTooLarge, HttpSession, RequestFailed

DECISION_PATH = "/v1/data/aegis/authz/decision"
VISIBLE_TOOLS_PATH = "/v1/data/aegis/authz/visible_tools"
ALLOWED_PATHS_PATH = "/v1/data/aegis/authz/allowed_paths"
ALLOWED_REPOS_PATH = "/v1/data/aegis/authz/allowed_repos"
POLICY_VALID_PATH = "/v1/data/aegis/authz/policy_valid"
META_REVISION_PATH = "/v1/data/aegis/meta/revision"
BUNDLES_PATH = "/v1/data/system/bundles"
HEALTH_PATH = "/health"
# OPA's own decision id (a UUID), which it returns while its decision log is on; anything else in its
# place makes the answer malformed, since it goes into the audit log.
OPA_DECISION_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Reason:
    rule: str
    effect: str
    source: str

    def as_dict(self) -> dict[str, str]:
        return {"rule": self.rule, "effect": self.effect, "source": self.source}


@dataclasses.dataclass(frozen=True)
class Decision:
    allow: bool
    reasons: tuple[Reason, ...]
    decision_id: str
    obligations: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    revision: str | None = None  # of the bundle that decided, as OPA reports it
    # The arguments the policy says the audit log records only hashed (`audit.hash_arguments`); None
    # when no bundle said (a failure standing in for a decision): then every argument is hashed.
    hash_arguments: frozenset[str] | None = None

    @classmethod
    def fail_closed(cls, kind: str, revision: str | None = None) -> Decision:
        """A deny standing in for a decision OPA could not give; `kind` names the failure, `revision` the
        bundle involved when one is known (the audit log records it, or null)."""
        return cls(
            allow=False,
            reasons=(Reason(rule=f"opa.{kind}", effect="deny", source="gateway"),),
            decision_id=uuid.uuid4().hex,
            revision=revision,
        )


class DecisionClient:
    """Queries OPA over one keep-alive connection pool, with a finite timeout on every query.

    Example:
        client = DecisionClient(base_url="http://127.0.0.1:8181", timeout_s=2.0, metrics=metrics)
        decision = await client.decide({"version": 1, ...})

    With `unix_socket`, requests go over that socket (the managed OPA); `base_url` then only names it.
    That socket and plain HTTP use the lean client of `_wire.py`; an https URL uses aiohttp.
    """

    def __init__(
        self, *, base_url: str, timeout_s: float, metrics: Metrics, unix_socket: Path | None = None
    ) -> None:
        self._http: LocalHttp | HttpSession = LocalHttp.for_url(
            base_url, timeout_s=timeout_s, unix_socket=unix_socket
        ) or HttpSession(base_url=base_url, timeout_s=timeout_s)
        self._metrics = metrics
        self._verified_revision: str | None = None
        self._unverified_kind = "unavailable"

    @property
    def policy_verified(self) -> bool:
        return self._verified_revision is not None

    @property
    def verified_revision(self) -> str | None:
        """The bundle revision whose policy data last verified (data.aegis.meta.revision)."""
        return self._verified_revision

    async def verify_policy(self) -> bool:
        """Ask OPA whether its policy data is well formed (`policy_valid`, a check that grows with the policy
        and so is not made per query) and which bundle revision that data is. Until a verification succeeds,
        every decision is a deny; a decision under another revision is verified again first."""
        try:
            valid = await self._query(POLICY_VALID_PATH, {}) is True
            revision = await self._query(META_REVISION_PATH, {}) if valid else None
        except _QueryFailed as failure:
            self._verified_revision = None
            self._unverified_kind = failure.kind
        else:
            self._verified_revision = revision if isinstance(revision, str) and revision else None
            self._unverified_kind = "policy_invalid"
        if self._verified_revision is None:
            log.error("OPA's policy data failed verification; every call is denied")
        return self._verified_revision is not None

    async def decide(self, opa_input: Mapping[str, Any]) -> Decision:
        """OPA's decision, under OPA's own decision id when its decision log is on (so that the log's
        line and the audit entry join), else under one of the gateway's."""
        if self._verified_revision is None and not await self.verify_policy():
            self._metrics.opa_errors.labels(kind=self._unverified_kind).inc()
            return Decision.fail_closed(self._unverified_kind)
        started = time.perf_counter()
        try:
            answer = await self._answer(DECISION_PATH, opa_input)
        except _QueryFailed as failure:
            self._metrics.opa_errors.labels(kind=failure.kind).inc()
            log.error("opa decision failed, denying", extra={"opa_failure": failure.kind})
            return Decision.fail_closed(failure.kind)
        finally:
            self._metrics.opa_decision_duration.observe(time.perf_counter() - started)
        decision_id = answer.get("decision_id", uuid.uuid4().hex)
        valid_id = isinstance(decision_id, str) and OPA_DECISION_ID.fullmatch(decision_id)
        decision = _parse_decision(answer["result"], decision_id) if valid_id else None
        if decision is None:
            self._metrics.opa_errors.labels(kind="malformed").inc()
            log.error("opa returned a malformed decision, denying")
            return Decision.fail_closed("malformed")
        if decision.revision != self._verified_revision:
            # OPA changed bundles since the last verification (a sidecar loading a new one): the new data
            # is trusted only once it verifies, and only for decisions made under it.
            await self.verify_policy()
            if decision.revision != self._verified_revision:
                self._metrics.opa_errors.labels(kind="policy_unverified").inc()
                return Decision.fail_closed("policy_unverified", revision=decision.revision)
        return decision

    async def visible_tools(self, opa_input: Mapping[str, Any]) -> frozenset[str]:
        """Names of the tools the caller could be allowed somewhere; empty when OPA cannot say."""
        if self._verified_revision is None and not await self.verify_policy():
            return frozenset()
        try:
            result = await self._query(VISIBLE_TOOLS_PATH, opa_input)
        except _QueryFailed as failure:
            self._metrics.opa_errors.labels(kind=failure.kind).inc()
            return frozenset()
        if not isinstance(result, list) or not all(isinstance(name, str) for name in result):
            self._metrics.opa_errors.labels(kind="malformed").inc()
            return frozenset()
        return frozenset(result)

    async def allowed_paths(self, opa_input: Mapping[str, Any], *, revision: str | None) -> frozenset[str]:
        """Which of `opa_input["paths"]` the allowed call's result may show, decided by the bundle `revision`
        that allowed the call. Raise ResultUndecided when OPA cannot say: the caller must then show none."""
        return await self._allowed_items(ALLOWED_PATHS_PATH, "paths", opa_input, revision)

    async def allowed_repos(self, opa_input: Mapping[str, Any], *, revision: str | None) -> frozenset[str]:
        """Which of `opa_input["repos"]` the allowed call (one without a repository) may show; as above."""
        return await self._allowed_items(ALLOWED_REPOS_PATH, "repos", opa_input, revision)

    async def _allowed_items(
        self, path: str, key: str, opa_input: Mapping[str, Any], revision: str | None
    ) -> frozenset[str]:
        try:
            result = await self._query(path, opa_input)
        except _QueryFailed as failure:
            self._metrics.opa_errors.labels(kind=failure.kind).inc()
            raise ResultUndecided(failure.kind, revision) from None
        items = result.get(key) if isinstance(result, dict) else None
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            self._metrics.opa_errors.labels(kind="malformed").inc()
            raise ResultUndecided("malformed", revision)
        if result.get("revision") != revision:  # another bundle since the call's decision
            self._metrics.opa_errors.labels(kind="policy_unverified").inc()
            raise ResultUndecided("policy_unverified", revision)
        return frozenset(items)

    async def bundle_revisions(self) -> dict[str, str]:
        """Revision of each bundle OPA has activated, by bundle name; empty when unknown."""
        try:
            response = await self._http.request("GET", BUNDLES_PATH)
            document = json.loads(response.body) if response.status == 200 else {}
        except (RequestFailed, TimeoutError, BodyTooLarge, ValueError):
            return {}
        return _revisions_of(document)

    async def is_ready(self) -> bool:
        """OPA answers and every configured bundle is activated."""
        try:
            response = await self._http.request("GET", HEALTH_PATH, params={"bundles": "true"})
        except (RequestFailed, TimeoutError, BodyTooLarge):
            return False
        return response.status == 200

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _query(self, path: str, opa_input: Mapping[str, Any]) -> Any:
        return (await self._answer(path, opa_input))["result"]

    async def _answer(self, path: str, opa_input: Mapping[str, Any]) -> dict[str, Any]:
        """OPA's whole answer to a query: `result`, which it must hold, and `decision_id` when OPA's
        decision log is on."""
        payload = json.dumps({"input": opa_input}, separators=(",", ":")).encode()
        try:
            response = await self._http.request("POST", path, body=payload, content_type="application/json")
        except TimeoutError:
            raise _QueryFailed("timeout") from None
        except (RequestFailed, BodyTooLarge):
            raise _QueryFailed("unavailable") from None
        if response.status != 200:
            raise _QueryFailed("error")
        try:
            body = json.loads(response.body)
        except ValueError:
            raise _QueryFailed("malformed") from None
        if not isinstance(body, dict) or "result" not in body:
            raise _QueryFailed("undefined")
        return body


class ResultUndecided(OpaError):
    """OPA could not say which items (paths, repositories) of a result may be shown; the call is denied,
    `decision` says why."""

    def __init__(self, kind: str, revision: str | None) -> None:
        super().__init__(kind)
        self.decision = Decision.fail_closed(kind, revision=revision)


def _revisions_of(document: Any) -> dict[str, str]:
    """The bundle revisions of OPA's `system.bundles` answer; empty when it has any other shape (a
    sidecar that answers something else is not ready, not an error)."""
    bundles = document.get("result") if isinstance(document, dict) else None
    if not isinstance(bundles, dict):
        return {}
    revisions = {}
    for name, info in bundles.items():
        manifest = info.get("manifest", {}) if isinstance(info, dict) else None
        revision = manifest.get("revision", "") if isinstance(manifest, dict) else None
        if not isinstance(revision, str):
            return {}
        revisions[name] = revision
    return revisions


class _QueryFailed(Exception):
    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


def _parse_decision(result: Any, decision_id: str) -> Decision | None:
    """Accept only the documented shape; `allow` must be the boolean true to allow."""
    if not isinstance(result, dict) or not isinstance(result.get("allow"), bool):
        return None
    raw_reasons = result.get("reasons", [])
    obligations = result.get("obligations", {})
    if not isinstance(raw_reasons, list) or not isinstance(obligations, dict):
        return None
    reasons = _parse_reasons(raw_reasons)
    # A bundle of a compiler without `audit` says nothing: every target argument is then hashed.
    audit = result.get("audit")
    hash_arguments = None if audit is None else _hash_arguments(audit)
    if reasons is None or (audit is not None and hash_arguments is None):
        return None
    revision = result.get("revision")
    return Decision(
        allow=result["allow"],
        reasons=reasons,
        decision_id=decision_id,
        obligations=obligations,
        revision=revision if isinstance(revision, str) else None,
        hash_arguments=hash_arguments,
    )


def _hash_arguments(audit: Any) -> frozenset[str] | None:
    """The decision's `audit.hash_arguments`, or None when it is not a list of names (a malformed
    decision)."""
    names = audit.get("hash_arguments") if isinstance(audit, dict) else None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        return None
    return frozenset(names)


def _parse_reasons(raw: Sequence[Any]) -> tuple[Reason, ...] | None:
    reasons = []
    for item in raw:
        if not isinstance(item, dict):
            return None
        fields = (item.get("rule"), item.get("effect"), item.get("source"))
        if not all(isinstance(value, str) for value in fields):
            return None
        reasons.append(Reason(rule=item["rule"], effect=item["effect"], source=item["source"]))
    return tuple(reasons)
