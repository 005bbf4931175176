"""A client for one gateway's /mcp: one keep-alive connection, every answer checked and counted.

Example:
    client = CheckedClient(gateway)
    client.post(b"{not json", kind="bytes")  # fails the test on a 5xx, a leak or invalid JSON
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from tests.fuzz.invariants import Reply, assert_no_internal_failure, request_id_gap
from tests.fuzz.raw_http import KeepAlive, NoResponseError, exchange
from tests.fuzz.strategies import API_KEY, GOOD_HEADERS, HeaderList
from tests.processes import UNLIMITED, Gateway

TIMEOUT_S = 30.0
# What a gateway needs for this client to hammer it: no rate limit, no auth-failure throttling.
UNTHROTTLED = {**UNLIMITED, "AEGIS_AUTH_FAILURE_LIMIT": "1000000"}


class CheckedClient:
    """Sends requests to /mcp and asserts `assert_no_internal_failure` on each answer.

    `tally` counts requests by kind; `request_id_gaps` collects the errors that do not name their request
    id, which a test asserts on separately from the hard invariants."""

    def __init__(self, gateway: Gateway, *, tally: Counter[str] | None = None) -> None:
        self.gateway = gateway
        self.tally = Counter[str]() if tally is None else tally
        self.request_id_gaps: list[str] = []
        host, port = gateway.base_url.removeprefix("http://").split(":")
        self._address = (host, int(port))
        self._key = gateway.key.encode()
        self._target = gateway.url.removeprefix(gateway.base_url).encode()
        self._connection = KeepAlive(self._address, timeout_s=TIMEOUT_S)

    def post(self, body: bytes, *, kind: str, headers: HeaderList = GOOD_HEADERS) -> Reply:
        """POST `body` to /mcp with `headers`, API_KEY in them replaced by the gateway's key. Raises
        NoResponseError when the gateway closes the connection, or stays silent, instead of answering."""
        keyed = [(name, value.replace(API_KEY, self._key)) for name, value in headers]
        self.tally[kind] += 1
        sent = body + b"".join(name + value for name, value in keyed)
        return self._answer(lambda: self._connection.post(self._target, keyed, body), sent=sent)

    def raw(self, request: bytes, *, kind: str) -> Reply:
        """Send a whole HTTP request on a new connection, API_KEY in it replaced by the gateway's key."""
        keyed = request.replace(API_KEY, self._key)
        self.tally[kind] += 1
        return self._answer(lambda: exchange(self._address, keyed), sent=keyed)

    def close(self) -> None:
        self._connection.close()

    def _answer(self, send: Callable[[], Reply], *, sent: bytes) -> Reply:
        """The reply `send` gets, checked; a missing answer or a failed check names what was sent."""
        try:
            reply = send()
            assert_no_internal_failure(reply, sent=sent)
        except NoResponseError as silence:
            raise NoResponseError(f"{silence}\nin answer to {sent[:600]!r}") from None
        except AssertionError as failure:
            raise AssertionError(f"{failure}\nin answer to {sent[:600]!r}") from None
        gap = request_id_gap(reply)
        if gap is not None:
            self.request_id_gaps.append(gap)
        return reply
