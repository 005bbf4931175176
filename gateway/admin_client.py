"""The client side of the admin API, for `aegis approvals` and `aegis rollback` (stdlib only).

The key comes from AEGIS_ADMIN_KEY, never from the command line, where other users could read it.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any

from gateway.config import DEFAULT_BIND, parse_bind
from gateway.errors import GatewayError

ADMIN_KEY_VARIABLE = "AEGIS_ADMIN_KEY"
TIMEOUT_S = 30.0


class AdminApiError(GatewayError):
    """The gateway refused the request or could not be reached; the message says which and why."""


def default_admin_url(env: Mapping[str, str]) -> str:
    """AEGIS_ADMIN_URL, else the gateway's own bind address (https when it serves TLS)."""
    if env.get("AEGIS_ADMIN_URL"):
        return env["AEGIS_ADMIN_URL"].rstrip("/")
    host, port = parse_bind(env.get("AEGIS_BIND", DEFAULT_BIND))
    host = "127.0.0.1" if host in ("0.0.0.0", "") else host  # noqa: S104 - a wildcard bind is reached locally
    scheme = "https" if env.get("AEGIS_TLS_CERT") else "http"
    return f"{scheme}://[{host}]:{port}" if ":" in host else f"{scheme}://{host}:{port}"


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
        key = env.get(ADMIN_KEY_VARIABLE)
        if not key:
            raise AdminApiError(f"set {ADMIN_KEY_VARIABLE} to an API key with the admin scope")
        return cls(base_url=url or default_admin_url(env), key=key, ca_file=env.get("AEGIS_ADMIN_CA_FILE"))

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
