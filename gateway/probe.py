"""`aegis health`: ask a running gateway whether it is alive or ready, for a container's health check
(the image has no curl, and no shell to run one)."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping

from gateway.config import admin_connection

TIMEOUT_S = 5.0


def probe(env: Mapping[str, str], *, ready: bool) -> tuple[bool, str]:
    """GET /readyz (or /healthz) of the gateway the environment describes (AEGIS_BIND, TLS when
    AEGIS_TLS_CERT is set, a private CA in AEGIS_ADMIN_CA_FILE); returns whether it answered 200 and
    what it said."""
    connection = admin_connection(env)
    url = connection.url + ("/readyz" if ready else "/healthz")
    context = ssl.create_default_context(cafile=connection.ca_file) if url.startswith("https") else None
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S, context=context) as response:  # noqa: S310 - http(s)
            return response.status == 200, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as refused:
        return False, f"HTTP {refused.code}: {refused.read().decode('utf-8', 'replace')}"
    except (urllib.error.URLError, OSError) as unreachable:
        return False, f"cannot reach the gateway at {url}: {unreachable}"
