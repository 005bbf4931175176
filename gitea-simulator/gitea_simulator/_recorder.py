"""An ASGI middleware that records every HTTP request the simulator receives, with the status it answered.

Tests read the record to prove what a client did and did not call, and what it was told. Only whether
credentials were sent is kept, never the credentials themselves: ``token``/``access_token`` query values
are masked as ``***``. A request is recorded once its answer starts (500 if the app failed instead).

Example::

    requests: list[RecordedRequest] = []
    app = RequestRecorder(inner_app, sink=requests)
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Final
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["RecordedRequest", "RequestRecorder"]

_QUERY_TOKEN: Final = re.compile(r"(^|&)((?:access_)?token)=[^&]*")


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    auth_given: bool
    status: int


class RequestRecorder:
    """Appends every request to `sink`, and as a JSON line to `log_file` when one is given (so a test in
    another process can read what the simulator served)."""

    def __init__(self, app: ASGIApp, *, sink: list[RecordedRequest], log_file: Path | None = None) -> None:
        self.app = app
        self.sink = sink
        self.log_file = log_file

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_recorded(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                self._record(scope, message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_recorded)
        except BaseException:
            if not started:  # the error handler outside this middleware answers 500
                self._record(scope, 500)
            raise

    def _record(self, scope: Scope, status: int) -> None:
        query = scope.get("query_string", b"").decode("latin-1")
        params = parse_qs(query)
        headers = {name.lower() for name, _ in scope.get("headers", [])}
        record = RecordedRequest(
            method=scope["method"],
            path=scope["path"],
            query=_QUERY_TOKEN.sub(r"\1\2=***", query),
            auth_given=b"authorization" in headers or bool(params.get("token") or params.get("access_token")),
            status=status,
        )
        self.sink.append(record)
        if self.log_file is not None:
            with self.log_file.open("a", encoding="utf-8") as log:
                log.write(json.dumps(asdict(record)) + "\n")
