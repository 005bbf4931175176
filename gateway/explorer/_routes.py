"""The explorer's routes: read-only pages over this gateway's audit chain (through the index beside it)
and its policy archive, for sessions of keys with the `admin` scope.

    GET  /admin/explorer                 filters (the fields of `aegis audit query`), charts, entries
    GET  /admin/explorer/entry?seq=N     one entry: who, what, outcome, reasons with their YAML lines
    GET  /admin/explorer/policy?revision=R   the archived YAML, each line anchored (#L12)
    GET  /admin/explorer/login, POST /admin/explorer/login, POST /admin/explorer/logout
    GET  /admin/explorer/explorer.css
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib.resources
import re
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from gateway.admin_api import ADMIN_SCOPE
from gateway.audit import ChainIndex, Filters, read_entry, time_bound
from gateway.edge._client_ip import budget_subject_of
from gateway.edge.events import SecurityEvents
from gateway.edge.keys import KeyMatch, KeyStore
from gateway.edge.throttle import AuthFailureThrottle
from gateway.errors import AuditChainError, ConfigError, LimitBackendError
from gateway.explorer._charts import per_day_chart, top_rules_chart
from gateway.explorer._pages import (
    ENTRY_PATH,
    FILTER_FIELDS,
    LOGIN_PATH,
    LOGOUT_PATH,
    POLICY_PATH,
    ROOT,
    STYLE_PATH,
    entry_page,
    list_page,
    login_page,
    message_page,
    policy_page,
)
from gateway.explorer._session import SESSION_COOKIE, Sessions, cleared_cookie
from gateway.state import PolicyArchive

EXPLORER_PATHS = (ROOT, ENTRY_PATH, POLICY_PATH, LOGIN_PATH, LOGOUT_PATH, STYLE_PATH)
PER_PAGE = 100
TOP_RULES = 10
MAX_LOGIN_BODY_BYTES = 4096
# No script at all, nothing from elsewhere, never framed.
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none';"
    " form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # no-referrer would make a browser post its forms with Origin: null
    "Cache-Control": "no-store",
}
T = TypeVar("T")
_NUMBER = re.compile(r"[0-9]{1,18}")


class Explorer:
    """Example:
    explorer = Explorer(audit_log=Path("var/audit.jsonl"), archive=PolicyArchive(db), keys=keys,
                        throttle=throttle, events=events, body_timeout_s=10)
    app = Starlette(routes=explorer.routes())
    """

    def __init__(
        self,
        *,
        audit_log: Path,
        archive: PolicyArchive,
        keys: KeyStore,
        throttle: AuthFailureThrottle,
        events: SecurityEvents,
        body_timeout_s: float,
    ) -> None:
        self._audit_log = audit_log
        self._archive = archive
        self._keys = keys
        self._throttle = throttle
        self._events = events
        self._body_timeout_s = body_timeout_s
        self._sessions = Sessions(keys)
        self._index_lock = threading.Lock()  # one refresh of the index at a time

    def routes(self) -> list[Route]:
        return [
            Route(ROOT, self.decisions, methods=["GET"]),
            Route(ENTRY_PATH, self.entry, methods=["GET"]),
            Route(POLICY_PATH, self.policy, methods=["GET"]),
            Route(LOGIN_PATH, self.login_form, methods=["GET"]),
            Route(LOGIN_PATH, self.login, methods=["POST"]),
            Route(LOGOUT_PATH, self.logout, methods=["POST"]),
            Route(STYLE_PATH, _stylesheet, methods=["GET"]),
        ]

    async def decisions(self, request: Request) -> Response:
        reviewer = self._reviewer(request)
        if reviewer is None:
            return _html(login_page(), 401)
        asked = {name: value for name, _ in FILTER_FIELDS if (value := request.query_params.get(name, ""))}
        try:
            filters = _filters_of(asked)
        except ConfigError as exc:
            return _html(message_page("Decisions", str(exc), signed_in=reviewer), 400)
        start = _number(request.query_params.get("offset", "")) or 0
        listed, problem = await self._read(lambda index: _listing(index, filters, start))
        return _html(
            list_page(
                asked=asked,
                rows=listed.rows,
                total=listed.total,
                offset=start,
                per_page=PER_PAGE,
                per_day_svg=per_day_chart(listed.days),
                top_rules_svg=top_rules_chart(listed.rules),
                signed_in=reviewer,
                problem=problem,
            )
        )

    async def entry(self, request: Request) -> Response:
        reviewer = self._reviewer(request)
        if reviewer is None:
            return _html(login_page(), 401)
        seq = _number(request.query_params.get("seq", ""))
        if seq is None:
            return _html(message_page("Entry", "seq must be an entry's number", signed_in=reviewer), 400)

        def find(index: ChainIndex) -> tuple[tuple[Path, int] | None, tuple[int, str] | None]:
            return index.located(seq), index.next_checkpoint(seq)

        (located, checkpoint), _ = await self._read(find)
        if located is None:
            return _html(message_page("Entry", f"no entry {seq} in this chain", signed_in=reviewer), 404)
        try:
            shown = await asyncio.to_thread(read_entry, *located, seq=seq)
        except AuditChainError as exc:
            return _html(message_page("Entry", str(exc), signed_in=reviewer), 409)
        revision = shown.entry.get("bundle_revision")
        policy = await self._archive.get(revision) if isinstance(revision, str) else None
        return _html(entry_page(shown, policy=policy, checkpoint=checkpoint, signed_in=reviewer))

    async def policy(self, request: Request) -> Response:
        reviewer = self._reviewer(request)
        if reviewer is None:
            return _html(login_page(), 401)
        revision = request.query_params.get("revision", "")
        found = await self._archive.get(revision)
        if found is None:
            message = f"no archived policy {revision!r} (8 or more hex digits of a revision served)"
            return _html(message_page("Policy", message, signed_in=reviewer), 404)
        loaded = f"first served {_iso(found.first_loaded)}, last loaded {_iso(found.last_loaded)}"
        return _html(policy_page(found, loaded=loaded, signed_in=reviewer))

    async def login_form(self, request: Request) -> Response:
        return _html(login_page())

    async def login(self, request: Request) -> Response:
        """A key in a form: checked once, like a bearer key (the same failure throttle and security
        events), and traded for a session cookie. Only from a page of this origin."""
        if not _same_origin(request):
            return _html(message_page("Sign in", "sign in from the explorer's own page"), 403)
        subject = budget_subject_of(request.scope)
        try:
            if await self._throttle.blocked_for(subject) is not None:
                return _html(login_page("Too many failed attempts; try again later."), 429)
            match = self._keys.authenticate(await self._presented_key(request))
            if match is None:
                await self._throttle.record_failure(subject)
        except LimitBackendError:
            return _html(message_page("Sign in", "unavailable; try again later"), 503)
        if match is None:
            await self._events.record("auth_failure", scope=request.scope, reason="auth.invalid")
            return _html(login_page("That key is not valid."), 401)
        if ADMIN_SCOPE not in match.principal.scopes:
            return _html(login_page(f"That key lacks the {ADMIN_SCOPE!r} scope."), 403)
        secure = request.url.scheme == "https"
        response = Response(status_code=303, headers={**HEADERS, "Location": ROOT})
        response.headers["Set-Cookie"] = self._sessions.cookie(self._sessions.mint(match), secure=secure)
        return response

    async def logout(self, request: Request) -> Response:
        if not _same_origin(request):
            return _html(message_page("Sign out", "sign out from the explorer's own page"), 403)
        response = Response(status_code=303, headers={**HEADERS, "Location": LOGIN_PATH})
        response.headers["Set-Cookie"] = cleared_cookie(secure=request.url.scheme == "https")
        return response

    def _reviewer(self, request: Request) -> str | None:
        """The principal of the request's session, while its key is live and has the admin scope."""
        match: KeyMatch | None = self._sessions.verify(request.cookies.get(SESSION_COOKIE))
        if match is None or ADMIN_SCOPE not in match.principal.scopes:
            return None
        return match.principal.id

    async def _presented_key(self, request: Request) -> str:
        if (
            request.headers.get("content-type", "").split(";")[0].strip()
            != "application/x-www-form-urlencoded"
        ):
            return ""
        raw = b""
        async with asyncio.timeout(self._body_timeout_s):
            async for chunk in request.stream():
                raw += chunk
                if len(raw) > MAX_LOGIN_BODY_BYTES:
                    return ""
        values = parse_qs(raw.decode("utf-8", "replace")).get("key", [])
        return values[0].strip() if len(values) == 1 else ""

    async def _read(self, query: Callable[[ChainIndex], T]) -> tuple[T, str | None]:
        """`query` on the index, refreshed first, in a worker thread (a first refresh reads the whole log),
        with where the chain breaks, if it does: what precedes the break is indexed and shown."""

        def run() -> tuple[T, str | None]:
            with self._index_lock, ChainIndex.open(self._audit_log) as index:
                try:
                    index.refresh()
                except AuditChainError as exc:
                    return query(index), f"the chain breaks: {exc}; entries after the break are not shown"
                return query(index), None

        return await asyncio.to_thread(run)


@dataclasses.dataclass(frozen=True)
class _Listing:
    rows: list[dict[str, Any]]
    total: int
    days: list[tuple[str, str, int]]
    rules: list[tuple[str, int]]


def _listing(index: ChainIndex, filters: Filters, offset: int) -> _Listing:
    return _Listing(
        rows=index.query(filters, limit=PER_PAGE, offset=offset),
        total=index.count(filters),
        days=index.per_day(filters),
        rules=index.top_rules(filters, outcome="denied", limit=TOP_RULES),
    )


def _filters_of(asked: Mapping[str, str]) -> Filters:
    """The query's filters as `aegis audit query` reads its options; ConfigError for a time it cannot read."""
    repo = asked.get("repo")
    return Filters(
        principal=asked.get("principal"),
        credential_id=asked.get("credential_id"),
        tool=asked.get("tool"),
        repo=repo.lower() if repo else None,
        path=asked.get("path"),
        outcome=asked.get("outcome"),
        rule=asked.get("rule"),
        revision=asked.get("revision"),
        event=asked.get("event"),
        since=time_bound(asked.get("since")),
        until=time_bound(asked.get("until")),
    )


def _number(text: str) -> int | None:
    """A query's entry number or offset: ASCII digits that SQLite can hold, else None."""
    return int(text) if _NUMBER.fullmatch(text) else None


def _same_origin(request: Request) -> bool:
    """Whether the form was posted by a page of this host: Origin present and naming the Host asked."""
    origin = request.headers.get("origin", "")
    parts = urlsplit(origin)
    return (
        parts.scheme in ("http", "https")
        and bool(parts.netloc)
        and parts.netloc == request.headers.get("host")
    )


async def _stylesheet(request: Request) -> Response:
    css = importlib.resources.files("gateway.explorer").joinpath("explorer.css").read_bytes()
    return Response(css, media_type="text/css", headers={**HEADERS, "Cache-Control": "max-age=300"})


def _html(body: str, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type="text/html; charset=utf-8", headers=HEADERS)


def _iso(moment: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(moment))
