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
    request_id_or_none,
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


@pytest.mark.parametrize(
    "body",
    [
        pytest.param('{"jsonrpc":"2.0","id":1,"method":"ping"}'.encode("utf-16"), id="utf-16"),
        pytest.param('{"jsonrpc":"2.0","id":1,"method":"ping"}'.encode("utf-32"), id="utf-32"),
        pytest.param(b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"n":NaN}}', id="nan"),
        pytest.param(b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"n":-Infinity}}', id="infinity"),
        pytest.param(b'{"jsonrpc":"2.0","id":"\\ud800","method":"ping"}', id="lone-surrogate-id"),
        pytest.param(
            b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"\\udc00":1}}', id="lone-surrogate-key"
        ),
        pytest.param(b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":["\\ud800"]}}', id="in-a-list"),
    ],
)
def test_what_json_is_not_is_a_parse_error(body: bytes) -> None:
    with pytest.raises(JsonRpcError) as raised:
        parse_message(body)
    assert raised.value.code == -32700
    assert request_id_or_none(body) in (None, 1)  # never a string that cannot be encoded back


def test_a_surrogate_pair_is_a_character() -> None:
    message = parse_message(b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"a":"\\ud83d\\ude00"}}')
    assert isinstance(message, Request) and message.params == {"a": "\U0001f600"}
