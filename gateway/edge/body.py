"""The whole request body, read within a deadline before the request counts as in flight.

A body that is not complete within `timeout_s` gets 408, one over `max_bytes` gets 413; both close the
connection, since the rest of the body is never read. Mounted after authentication: only a known key can
make the gateway wait for a body at all, and a slow one is audited under that key. The app behind
receives the body in one message, so no later layer waits on the client.
"""

from __future__ import annotations

import asyncio

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.asgi_body import ClientGone, read_body
from gateway.edge.events import SecurityEvents
from gateway.edge.responses import CLOSE_CONNECTION, send_json_error
from gateway.vocabulary import PRINCIPAL_STATE_KEY


class BodyDeadlineMiddleware:
    def __init__(
        self,
        app: ASGIApp,
        *,
        timeout_s: float,
        max_bytes: int,
        events: SecurityEvents,
        protected: tuple[str, ...],
    ) -> None:
        self.app = app
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.events = events
        self.protected = protected

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.protected:
            await self.app(scope, receive, send)
            return
        try:
            async with asyncio.timeout(self.timeout_s):
                body = await read_body(receive, self.max_bytes)
        except TimeoutError:
            principal = str(scope["state"][PRINCIPAL_STATE_KEY].id)  # KeyError: mounted before auth, a bug
            await self.events.record(
                "body_timeout", scope=scope, reason="body.timeout", principal=principal, repeating=True
            )
            await send_json_error(
                scope, send, status=408, message="Request Timeout", headers=CLOSE_CONNECTION
            )
            return
        except ClientGone:
            return  # nothing to answer
        if body is None:
            await send_json_error(
                scope, send, status=413, message="Payload Too Large", headers=CLOSE_CONNECTION
            )
            return
        await self.app(scope, _replaying(body, receive), send)


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A receive that gives `body` whole first, then whatever the connection says next (a disconnect)."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replay() -> Message:
        return pending.pop() if pending else await receive()

    return replay
