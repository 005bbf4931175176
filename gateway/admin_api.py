"""The admin HTTP API: approvals and rollback, for keys with the `admin` scope.

    GET  /admin/approvals[?all=true]     held calls (pending; with all, recent ones of every state)
    POST /admin/approvals/approve        {"id": ..., "reason": ...}
    POST /admin/approvals/deny           {"id": ..., "reason": ...}
    POST /admin/rollback                 {"seq": N} or {"snapshot": "snap_..."}

The edge authenticates, throttles and rate-limits these paths like /mcp; this module checks the scope
and the body. Answers are JSON; errors are {"error", "request_id"} with a status that says why.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.core.approvals import Approvers
from gateway.core.rollback import SNAPSHOT_ID, Rollbacks
from gateway.errors import Kind, Refused
from gateway.observability.request_id import request_id_of
from gateway.vocabulary import PRINCIPAL_STATE_KEY, Principal

ADMIN_SCOPE = "admin"
APPROVALS_PATH = "/admin/approvals"
APPROVE_PATH = "/admin/approvals/approve"
DENY_PATH = "/admin/approvals/deny"
ROLLBACK_PATH = "/admin/rollback"
ADMIN_PATHS = (APPROVALS_PATH, APPROVE_PATH, DENY_PATH, ROLLBACK_PATH)
MAX_ADMIN_BODY_BYTES = 4096
MAX_REASON_CHARS = 500
_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_")
# The one place where why an operation was refused becomes an HTTP status.
STATUS_OF_KIND = {
    Kind.INVALID: 422,
    Kind.FORBIDDEN: 403,
    Kind.NOT_FOUND: 404,
    Kind.CONFLICT: 409,
    Kind.UPSTREAM: 502,
    Kind.UNAVAILABLE: 503,
    Kind.INTERNAL: 500,
}


class _BadRequest(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def admin_routes(approvers: Approvers, rollbacks: Rollbacks) -> list[Route]:
    async def list_approvals(request: Request) -> Response:
        return await _answer(request, lambda _: _list(approvers, request), read_body=False)

    async def approve(request: Request) -> Response:
        return await _answer(request, lambda body: _decide(approvers, request, body, approve=True))

    async def deny(request: Request) -> Response:
        return await _answer(request, lambda body: _decide(approvers, request, body, approve=False))

    async def rollback(request: Request) -> Response:
        return await _answer(request, lambda body: _rollback(rollbacks, request, body))

    return [
        Route(APPROVALS_PATH, list_approvals, methods=["GET"]),
        Route(APPROVE_PATH, approve, methods=["POST"]),
        Route(DENY_PATH, deny, methods=["POST"]),
        Route(ROLLBACK_PATH, rollback, methods=["POST"]),
    ]


async def _answer(request: Request, action: Any, *, read_body: bool = True) -> Response:
    request_id = request_id_of(request.scope)
    try:
        _admin(request)
        body = await _json_body(request) if read_body else {}
        result = await action(body)
    except _BadRequest as bad:
        return _error(str(bad), bad.status, request_id)
    except Refused as refused:
        return _error(str(refused), STATUS_OF_KIND[refused.kind], request_id)
    return JSONResponse({**result, "request_id": request_id})


def _admin(request: Request) -> Principal:
    principal = request.scope.get("state", {}).get(PRINCIPAL_STATE_KEY)
    if not isinstance(principal, Principal):
        raise _BadRequest("not authenticated", 401)
    if ADMIN_SCOPE not in principal.scopes:
        raise _BadRequest(f"this key lacks the {ADMIN_SCOPE!r} scope", 403)
    return principal


async def _json_body(request: Request) -> dict[str, Any]:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise _BadRequest("Content-Type must be application/json", 415)
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_ADMIN_BODY_BYTES:
            raise _BadRequest(f"body larger than {MAX_ADMIN_BODY_BYTES} bytes", 413)
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise _BadRequest("body is not JSON") from None
    if not isinstance(body, dict):
        raise _BadRequest("body must be a JSON object")
    return body


async def _list(approvers: Approvers, request: Request) -> dict[str, Any]:
    include_closed = request.query_params.get("all", "false") == "true"
    return {"approvals": await approvers.list(include_closed=include_closed)}


async def _decide(
    approvers: Approvers, request: Request, body: dict[str, Any], *, approve: bool
) -> dict[str, Any]:
    _only(body, {"id", "reason"})
    approval_id = body.get("id")
    if not isinstance(approval_id, str) or not approval_id or not set(approval_id) <= _ID_CHARS:
        raise _BadRequest("'id' must be an approval id such as apr_0123abcd")
    reason = body.get("reason")
    if reason is not None and (not isinstance(reason, str) or len(reason) > MAX_REASON_CHARS):
        raise _BadRequest(f"'reason' must be a string of at most {MAX_REASON_CHARS} characters")
    approval = await approvers.decide(
        approval_id,
        approve=approve,
        approver=_admin(request),
        reason=reason,
        request_id=request_id_of(request.scope),
    )
    return {"approval": approval}


async def _rollback(rollbacks: Rollbacks, request: Request, body: dict[str, Any]) -> dict[str, Any]:
    _only(body, {"seq", "snapshot"})
    result = await rollbacks.rollback(
        _rollback_target(body), principal=_admin(request), request_id=request_id_of(request.scope)
    )
    return {"rollback": result}


def _rollback_target(body: dict[str, Any]) -> int | str:
    """An audit entry of this replica's chain ('seq'), or a write's snapshot id, which any replica has."""
    seq, snapshot = body.get("seq"), body.get("snapshot")
    if seq is not None and snapshot is None:
        if type(seq) is not int or seq < 1:
            raise _BadRequest("'seq' must be a positive integer (an audit entry's seq)")
        return seq
    if snapshot is not None and seq is None:
        if not isinstance(snapshot, str) or not SNAPSHOT_ID.fullmatch(snapshot):
            raise _BadRequest("'snapshot' must be a snapshot id (snap_ and 16 hex digits)")
        return snapshot
    raise _BadRequest("give 'seq' (an audit entry of this replica) or 'snapshot' (a write's snapshot id)")


def _only(body: dict[str, Any], fields: set[str]) -> None:
    unknown = sorted(set(body) - fields)
    if unknown:
        raise _BadRequest(f"unknown fields: {', '.join(unknown)}")


def _error(message: str, status: int, request_id: str) -> Response:
    return JSONResponse({"error": message, "request_id": request_id}, status_code=status)
