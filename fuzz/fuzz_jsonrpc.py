"""Coverage-guided fuzzing of the JSON-RPC framing (gateway.mcp._jsonrpc) as the /mcp endpoint uses it.

Run it from the repository root (fuzz/README.md has the rest):

    mkdir -p var/fuzz/jsonrpc
    .venv/bin/python fuzz/fuzz_jsonrpc.py var/fuzz/jsonrpc fuzz/seeds -dict=fuzz/jsonrpc.dict

A finding is any exception but JsonRpcError from parsing a body, or any exception from writing the answer
the endpoint would send for it: the error, with the request id it can recover, or a result.
"""

from __future__ import annotations

import sys

import atheris  # type: ignore[import-untyped]  # no type information published

with atheris.instrument_imports(include=["gateway"]):
    from gateway.mcp import _jsonrpc


def test_one(body: bytes) -> None:
    try:
        message = _jsonrpc.parse_message(body)
    except _jsonrpc.JsonRpcError as error:
        _jsonrpc.error_body(_jsonrpc.request_id_or_none(body), error)
        return
    if isinstance(message, _jsonrpc.Request):
        _jsonrpc.result_body(message.id, {})
        unknown = f"Method not found: {message.method[:64]}"  # the endpoint echoes the method name
        _jsonrpc.error_body(message.id, _jsonrpc.JsonRpcError(_jsonrpc.METHOD_NOT_FOUND, unknown))


def main() -> None:
    atheris.Setup(sys.argv, test_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
