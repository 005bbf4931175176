"""A member named twice anywhere in a message is refused as an invalid request, before anything runs.

Two parsers that keep different copies of a repeated key (first wins, last wins) would let a policy check
read one value and the executor another; the gateway reads the message once, and refuses repetition.
"""

from __future__ import annotations

import json

import pytest

from gateway.mcp._jsonrpc import INVALID_REQUEST
from tests.fuzz.client import CheckedClient
from tests.processes import SECRETS_DENIED_POLICY, Gateway, Simulator
from tests.security.rpc import assert_plain, no_upstream_request

pytestmark = pytest.mark.e2e

POLICY = SECRETS_DENIED_POLICY
README = '"owner":"acme","repo":"app","filepath":"README.md"'
SECRET = '"owner":"acme","repo":"app","filepath":"src/secrets/prod.env"'


def message(text: str) -> bytes:
    return ('{"jsonrpc":"2.0","id":1,' + text + "}").encode()


def call(params: str) -> bytes:
    """A tools/call with `params` written out (braces included), so that it may repeat keys."""
    return message('"method":"tools/call","params":' + params)


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        pytest.param(message('"jsonrpc":"1.0","method":"ping"'), "jsonrpc", id="jsonrpc"),
        pytest.param(message('"id":2,"method":"ping"'), "id", id="id"),
        pytest.param(message('"method":"ping","method":"tools/call"'), "method", id="method"),
        pytest.param(
            call(
                '{"name":"list_repositories"},"params":{"name":"get_file_contents","arguments":{'
                + README
                + "}}"
            ),
            "params",
            id="params",
        ),
        pytest.param(
            call('{"name":"list_repositories","name":"get_file_contents","arguments":{' + README + "}}"),
            "name",
            id="tool-name",
        ),
        pytest.param(
            call('{"name":"get_file_contents","arguments":{' + README + '},"arguments":{' + SECRET + "}}"),
            "arguments",
            id="arguments",
        ),
        pytest.param(
            call(
                '{"name":"get_file_contents","arguments":{' + README + ',"filepath":"src/secrets/prod.env"}}'
            ),
            "filepath",
            id="filepath-allowed-then-denied",
        ),
        pytest.param(
            call('{"name":"get_file_contents","arguments":{' + SECRET + ',"filepath":"README.md"}}'),
            "filepath",
            id="filepath-denied-then-allowed",
        ),
        pytest.param(
            call(
                '{"name":"get_file_contents","arguments":{'
                + README
                + ',"file\\u0070ath":"src/secrets/prod.env"}}'
            ),
            "filepath",
            id="filepath-escaped-twin",
        ),
        pytest.param(
            call('{"name":"get_repository_info","arguments":{"owner":"acme","owner":"other","repo":"app"}}'),
            "owner",
            id="owner",
        ),
        pytest.param(
            call('{"name":"get_file_tree","arguments":{"owner":"acme","repo":"app","ref":"main","ref":"x"}}'),
            "ref",
            id="ref",
        ),
        pytest.param(
            call('{"name":"list_repositories","_meta":{"progressToken":1,"progressToken":2}}'),
            "progressToken",
            id="nested-meta",
        ),
    ],
)
def test_a_repeated_key_is_an_invalid_request(
    client: CheckedClient, upstream: Simulator, raw: bytes, key: str
) -> None:
    with no_upstream_request(upstream):
        reply = client.post(raw, kind="duplicate keys")
    assert reply.status == 400, reply
    error = reply.json()["error"]
    assert (error["code"], error["message"]) == (INVALID_REQUEST, f"Invalid Request: duplicate key {key!r}")
    assert_plain(error["message"])


@pytest.mark.parametrize(
    ("raw", "tools", "rule"),
    [
        pytest.param(
            call('{"name":"list_repositories","name":"get_file_contents","arguments":{' + README + "}}"),
            ["list_repositories", "get_file_contents"],
            "jsonrpc.invalid_request",
            id="duplicate-name",
        ),
        pytest.param(
            call('{"name":"get_file_contents","arguments":{' + README + ',"filepath":"a"}}'),
            ["get_file_contents"],
            "jsonrpc.invalid_request",
            id="duplicate-argument",
        ),
        pytest.param(
            b"[" + call('{"name":"get_file_contents","arguments":{' + SECRET + "}}") + b","
            + call('{"name":"get_issue","arguments":{"owner":"acme","repo":"app","index":1}}') + b"]",
            ["get_file_contents", "get_issue"],
            "jsonrpc.invalid_request",
            id="batch",
        ),
        pytest.param(
            call('{"name":"get_file_contents","arguments":{' + README)[:-1],
            ["get_file_contents"],
            "jsonrpc.parse_error",
            id="malformed-json",
        ),
    ],
)  # fmt: skip
def test_a_refused_tool_call_is_audited_as_invalid(
    client: CheckedClient, gateway: Gateway, upstream: Simulator, raw: bytes, tools: list[str], rule: str
) -> None:
    seen = len(gateway.audit_log.read_bytes().splitlines())
    with no_upstream_request(upstream):
        reply = client.post(raw, kind="refused tool call")
    assert reply.status == 400, reply
    entries = [json.loads(line) for line in gateway.audit_log.read_bytes().splitlines()[seen:]]
    assert [(entry["event"], entry["tool"], entry["outcome"]) for entry in entries] == [
        ("tool_call", tool, "invalid") for tool in tools
    ]
    assert all(
        entry["reasons"] == [{"rule": rule, "effect": "deny", "source": "transport"}] for entry in entries
    )
    assert all(entry["request_id"] == reply.headers["x-request-id"] for entry in entries)
