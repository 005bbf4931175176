"""A request that asks to switch protocols is still an HTTP request to /mcp: the gateway answers it (or
refuses it) like any other, through authentication and every other check, and never leaves it hanging.

The gateway serves no WebSocket; a connection parked without an answer costs a socket, a file descriptor
and a slot in the server for as long as the client likes, and no check of the gateway ever sees it.
"""

from __future__ import annotations

import pytest

from tests.fuzz.raw_http import exchange
from tests.processes import Gateway

pytestmark = pytest.mark.e2e

POLICY = "defaults: {read: allow, write: deny}\n"
PING = b'{"jsonrpc":"2.0","id":1,"method":"ping"}'
ANSWER_WITHIN_S = 3.0


@pytest.mark.parametrize(
    ("method", "protocol"),
    [
        pytest.param("POST", "websocket", id="post-websocket"),
        pytest.param("GET", "websocket", id="get-websocket"),
        pytest.param("POST", "h2c", id="post-h2c"),
    ],
)
def test_an_upgrade_request_with_a_body_is_answered(gateway: Gateway, method: str, protocol: str) -> None:
    host, port = gateway.base_url.removeprefix("http://").split(":")
    head = (
        f"{method} /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: {protocol}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(PING)}\r\n\r\n"
    )
    reply = exchange((host, int(port)), head.encode() + PING, timeout_s=ANSWER_WITHIN_S)
    assert reply.status == 401, reply  # no key: refused by authentication, as any request without one
