"""The client side of the admin API, for `aegis approvals` and `aegis rollback` (stdlib only).

The key comes from AEGIS_ADMIN_KEY (or the file AEGIS_ADMIN_KEY_FILE names), never from the command line,
where other users could read it.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from gateway.config import ADMIN_KEY_VARIABLE, admin_connection
from gateway.errors import GatewayError

TIMEOUT_S = 30.0


class AdminApiError(GatewayError):
    """The gateway refused the request or could not be reached; the message says which and why."""


class AdminClient:
    """Example:
    client = AdminClient.from_env(os.environ)
    client.call("GET", "/admin/approvals")
    """

    def __init__(self, *, base_url: str, key: str, ca_file: str | None = None) -> None:
        self._base = base_url
        self._key = key
        self._context = ssl.create_default_context(cafile=ca_file) if base_url.startswith("https") else None

    @classmethod
    def from_env(cls, env: Mapping[str, str], *, url: str | None = None) -> AdminClient:
        connection = admin_connection(env)
        if not connection.key:
            raise AdminApiError(
                f"set {ADMIN_KEY_VARIABLE} (or {ADMIN_KEY_VARIABLE}_FILE) to an API key with the admin scope"
            )
        return cls(base_url=url or connection.url, key=connection.key, ca_file=connection.ca_file)

    def call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The decoded JSON answer; AdminApiError with the gateway's own message for any refusal."""
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self._base + path, data=data, method=method)  # noqa: S310 - http(s) only
        request.add_header("Authorization", f"Bearer {self._key}")
        request.add_header("Accept", "application/json")
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_S, context=self._context) as response:  # noqa: S310
                return _decoded(response.read())
        except urllib.error.HTTPError as refused:
            answer = _decoded(refused.read(), strict=False)
            message = answer.get("error") or answer.get("message") or refused.reason
            raise AdminApiError(f"HTTP {refused.code}: {message}") from None
        except (urllib.error.URLError, OSError) as unreachable:
            raise AdminApiError(f"cannot reach the gateway at {self._base}: {unreachable}") from None


def _decoded(raw: bytes, *, strict: bool = True) -> dict[str, Any]:
    try:
        value = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        value = None
    if isinstance(value, dict):
        return value
    if strict:
        raise AdminApiError("the gateway answered something other than a JSON object")
    return {}
