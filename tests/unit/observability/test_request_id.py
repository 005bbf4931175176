"""Request ids are the gateway's own; a client's well-formed X-Request-ID is kept beside them, in the scope
and in every JSON log line of the request."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from gateway.observability.logs import JsonFormatter
from gateway.observability.request_id import RequestIdMiddleware, client_request_id_of, request_id_of

log = logging.getLogger("tests.request_id")


async def ids(request: Request) -> JSONResponse:
    record = log.makeRecord(log.name, logging.INFO, __file__, 0, "seen", (), None)
    return JSONResponse(
        {
            "request_id": request_id_of(request.scope),
            "client_request_id": client_request_id_of(request.scope),
            "log": json.loads(JsonFormatter().format(record)),
        }
    )


APP = RequestIdMiddleware(Starlette(routes=[Route("/ids", ids)]))


async def get(headers: dict[str, bytes]) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=APP), base_url="http://gw") as http:
        return await http.get("/ids", headers=headers)


async def test_a_well_formed_client_id_is_kept_beside_a_fresh_one() -> None:
    first, second = [await get({"X-Request-ID": b"trace-1"}) for _ in range(2)]
    for reply in (first, second):
        body = reply.json()
        assert body["request_id"] == reply.headers["x-request-id"] != "trace-1"
        assert body["client_request_id"] == "trace-1"
        assert body["log"]["request_id"] == body["request_id"]
        assert body["log"]["client_request_id"] == "trace-1"
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


@pytest.mark.parametrize("sent", ["x" * 129, "has space", "a/b", "", "é"])
async def test_a_malformed_client_id_is_dropped(sent: str) -> None:
    reply = await get({"X-Request-ID": sent.encode()})
    body = reply.json()
    assert body["client_request_id"] is None and "client_request_id" not in body["log"]
    assert len(body["request_id"]) == 32


async def test_without_a_client_id_logs_name_none() -> None:
    body = (await get({})).json()
    assert body["client_request_id"] is None and "client_request_id" not in body["log"]
