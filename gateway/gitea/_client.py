"""A small Gitea API v1 client: every path segment percent-encoded, every call with a finite timeout,
every failure translated to UpstreamError at this one boundary."""

from __future__ import annotations

import dataclasses
import errno
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from gateway import __version__
from gateway.errors import UpstreamError
from gateway.gitea._breaker import CircuitBreaker
from gateway.gitea._writes import check_write
from gateway.outbound import BodyTooLarge, HttpResponse, HttpSession, RequestFailed

MAX_RESPONSE_BYTES = 16 << 20
# Failures of our own host, not of Gitea: no descriptor, memory, buffer or local port for a socket.
LOCAL_RESOURCE_ERRNOS = frozenset(
    {errno.EMFILE, errno.ENFILE, errno.ENOMEM, errno.ENOBUFS, errno.EADDRNOTAVAIL}
)
_KIND_BY_STATUS = {401: "unauthorized", 403: "forbidden", 404: "not_found", 409: "conflict", 422: "rejected"}


@dataclasses.dataclass(frozen=True)
class Page:
    """One page of a Gitea list and its total (from X-Total-Count, when Gitea sends it)."""

    items: list[Any]
    total: int | None


def api_path(*segments: str) -> str:
    """`/api/v1/` plus each segment percent-encoded on its own: no segment can add a `/`, `?` or `#`."""
    return "/api/v1/" + "/".join(quote(segment, safe="") for segment in segments)


def file_path(path: str) -> str:
    """A repository path with each of its segments encoded (its `/` kept as separators)."""
    return "/".join(quote(segment, safe="") for segment in path.split("/"))


class GiteaClient:
    """Example:
    gitea = GiteaClient(base_url="http://gitea:3000", token="...", timeout_s=10)
    repo = await gitea.get_json(api_path("repos", "acme", "app"))
    """

    def __init__(
        self, *, base_url: str, token: str | None, timeout_s: float, breaker: CircuitBreaker | None = None
    ) -> None:
        self._breaker = breaker or CircuitBreaker()
        headers = {"Accept": "application/json", "User-Agent": f"aegis-gateway/{__version__}"}
        if token:
            headers["Authorization"] = f"token {token}"
        self._http = HttpSession(
            base_url=base_url, timeout_s=timeout_s, headers=headers, max_body_bytes=MAX_RESPONSE_BYTES
        )

    async def get_json(self, path: str, params: Mapping[str, str | int] | None = None) -> Any:
        response = await self._get(path, params)
        return _json(response)

    async def get_page(self, path: str, params: Mapping[str, str | int]) -> Page:
        response = await self._get(path, params)
        body = _json(response)
        items = body.get("data") if isinstance(body, dict) else body
        if not isinstance(items, list):
            raise UpstreamError("malformed")
        total = response.headers.get("x-total-count", "")
        return Page(items=items, total=int(total) if total.isdigit() else None)

    async def get_bytes(self, path: str, params: Mapping[str, str | int] | None = None) -> bytes:
        """An answer that is not JSON (a diff, a raw file), as Gitea sent it."""
        return (await self._get(path, params)).body

    async def send_json(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        """One write (POST, PUT, PATCH or DELETE with a JSON body); only the requests of
        gateway.gitea._writes can be sent. Returns the decoded answer, or None for an empty one."""
        check_write(method, path, body)
        payload = None if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
        with self._breaker.guard():
            response = await self._send(method, path, None, payload)
        return _json(response) if response.body.strip() else None

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(self, path: str, params: Mapping[str, str | int] | None) -> HttpResponse:
        with self._breaker.guard():
            return await self._send("GET", path, params, None)

    async def _send(
        self, method: str, path: str, params: Mapping[str, str | int] | None, body: bytes | None
    ) -> HttpResponse:
        try:
            response = await self._http.request(
                method,
                path,
                params=params,
                body=body,
                content_type="application/json" if body is not None else None,
            )
        except TimeoutError:
            raise UpstreamError("timeout") from None
        except BodyTooLarge:
            raise UpstreamError("too_large") from None
        except RequestFailed as exc:
            local = exc.errno in LOCAL_RESOURCE_ERRNOS
            raise UpstreamError("gateway_overloaded" if local else "unavailable") from None
        if response.status not in ((200,) if method == "GET" else (200, 201, 204)):
            kind = _KIND_BY_STATUS.get(response.status, "unavailable" if response.status >= 500 else "error")
            raise UpstreamError(kind, response.status)
        return response


def _json(response: HttpResponse) -> Any:
    try:
        return json.loads(response.body)
    except ValueError:
        raise UpstreamError("malformed") from None
