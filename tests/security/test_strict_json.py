"""Bodies only a lenient parser accepts are parse errors: text that is not UTF-8 (UTF-16, UTF-32, lone
surrogates, escaped or as bytes) and the non-JSON literals NaN and Infinity.

Python's json.loads takes all of them; a proxy, a WAF or an audit reader in front of or behind the gateway
may not, and two parsers that disagree on a message are how a policy check gets bypassed.
"""

from __future__ import annotations

import json

import pytest

from gateway.mcp._jsonrpc import PARSE_ERROR
from tests.fuzz.client import CheckedClient
from tests.processes import Gateway, Simulator
from tests.security.rpc import assert_plain, no_upstream_request

pytestmark = pytest.mark.e2e

POLICY = "defaults: {read: allow, write: deny}\n"


def call(arguments: str, name: str = '"list_repositories"') -> str:
    return (
        '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":'
        + name
        + ',"arguments":'
        + arguments
        + "}}"
    )


@pytest.mark.parametrize(
    "raw",
    [
        pytest.param(b'{"jsonrpc":"2.0","id":"\\ud800","method":"ping"}', id="escape-in-id"),
        pytest.param(b'{"jsonrpc":"2.0","id":1,"method":"\\udfff"}', id="escape-in-method"),
        pytest.param(call("{}", name='"get_issue\\ud800"').encode(), id="escape-in-tool-name"),
        pytest.param(call('{"query":"\\ud800"}').encode(), id="escape-in-argument"),
        pytest.param(call('{"\\udbff":1}').encode(), id="escape-in-argument-name"),
        pytest.param(
            b'{"jsonrpc":"2.0","id":1,"method":"ping","params":{"\\ud800":1}}', id="escape-in-params"
        ),
        pytest.param(call('{"query":"@"}').encode().replace(b"@", b"\xed\xa0\x80"), id="bytes-in-argument"),
        pytest.param(b'{"jsonrpc":"2.0","id":"\xed\xbf\xbf","method":"ping"}', id="bytes-in-id"),
    ],
)
def test_a_lone_surrogate_is_a_parse_error(client: CheckedClient, upstream: Simulator, raw: bytes) -> None:
    assert_parse_error(client, upstream, raw)


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-32"])
def test_a_body_in_another_encoding_is_a_parse_error(
    client: CheckedClient, upstream: Simulator, encoding: str
) -> None:
    assert_parse_error(client, upstream, call('{"query":"app"}').encode(encoding))


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_a_non_json_literal_is_a_parse_error(
    client: CheckedClient, upstream: Simulator, literal: str
) -> None:
    assert_parse_error(client, upstream, call('{"query":"app","limit":' + literal + "}").encode())


def assert_parse_error(client: CheckedClient, upstream: Simulator, raw: bytes) -> None:
    with no_upstream_request(upstream):
        reply = client.post(raw, kind="lenient JSON")
    assert reply.status == 400, reply
    error = reply.json()["error"]
    assert error["code"] == PARSE_ERROR, error
    assert_plain(error["message"])


def test_a_refused_call_with_a_lone_surrogate_is_audited_without_it(
    client: CheckedClient, gateway: Gateway
) -> None:
    seen = len(gateway.audit_log.read_bytes().splitlines())
    reply = client.post(call('{"query":"\\ud800"}', name='"get_issue\\ud800"').encode(), kind="surrogates")
    assert reply.status == 400, reply
    entries = [json.loads(line) for line in gateway.audit_log.read_bytes().splitlines()[seen:]]
    assert [(entry["tool"], entry["outcome"]) for entry in entries] == [("get_issue\\ud800", "invalid")]
