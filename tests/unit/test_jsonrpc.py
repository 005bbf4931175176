from __future__ import annotations

import pytest

from gateway.mcp._jsonrpc import (
    INVALID_REQUEST,
    PARSE_ERROR,
    ClientReply,
    JsonRpcError,
    Notification,
    Request,
    parse_message,
)


def test_request_notification_and_reply_are_told_apart() -> None:
    assert parse_message(b'{"jsonrpc":"2.0","id":"a","method":"ping"}') == Request(
        id="a", method="ping", params={}
    )
    assert parse_message(b'{"jsonrpc":"2.0","method":"notifications/initialized"}') == Notification(
        method="notifications/initialized"
    )
    assert isinstance(parse_message(b'{"jsonrpc":"2.0","id":3,"result":{}}'), ClientReply)


@pytest.mark.parametrize(
    ("body", "code", "message"),
    [
        (b"", PARSE_ERROR, "Parse error"),
        (b"\xc3\x28", PARSE_ERROR, "Parse error"),
        (b"[]", INVALID_REQUEST, "batches"),
        (b"1", INVALID_REQUEST, "object"),
        (b'{"jsonrpc":"2.0","id":1}', INVALID_REQUEST, '"method" is missing'),
        (b'{"jsonrpc":"2.0","id":1,"method":7}', INVALID_REQUEST, "string"),
        (b'{"jsonrpc":"2.0","id":true,"method":"ping"}', INVALID_REQUEST, '"id"'),
        (b'{"jsonrpc":"2.0","id":1.5,"method":"ping"}', INVALID_REQUEST, '"id"'),
        (b'{"jsonrpc":"2.0","id":1,"method":"ping","params":"x"}', INVALID_REQUEST, '"params"'),
        (b'{"jsonrpc":"2.0","id":1,"method":"a","method":"b"}', INVALID_REQUEST, "duplicate key 'method'"),
        (
            b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":{"b":1,"b":2}}}',
            INVALID_REQUEST,
            "duplicate",
        ),
        (
            b'{"jsonrpc":"2.0","id":1,"method":"p","params":{"a":' + b"[" * 40 + b"]" * 40 + b"}}",
            INVALID_REQUEST,
            "deeper",
        ),
    ],
)
def test_invalid_messages_raise_the_right_code(body: bytes, code: int, message: str) -> None:
    with pytest.raises(JsonRpcError, match=message) as raised:
        parse_message(body)
    assert raised.value.code == code
