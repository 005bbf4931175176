"""A real ORY Hydra for tests (built by scripts/setup --with-hydra into .tools/bin), in memory, on free
loopback ports, with the login and consent app every Hydra needs: this one accepts every login as
SUBJECT and grants what the client asked for, through Hydra's admin API.

Hydra has no RFC 8707 `resource` parameter; its access tokens carry the audience the consent grants.
The consent app grants the `resource` values of the authorization request (and any `audience` the
client asked for) as the access token's audience, so that Hydra's JWT `aud` names the MCP server the
client means, as the MCP authorization specification requires.
"""

from __future__ import annotations

import dataclasses
import http.server
import json
import os
import secrets
import subprocess
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from bench._processes import stop
from tests.ports import free_port

REPO_ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 30.0
SUBJECT = "alice"
ROLES = ["maintainer"]
ACCESS_TOKEN_KEY_SET = "hydra.jwt.access-token"
MINTING_KEY_SET = "aegis.test"  # a key set of the test's own, published in Hydra's JWKS


def hydra_binary() -> str:
    """AEGIS_HYDRA_BIN, else the Hydra ./scripts/setup --with-hydra built."""
    return os.environ.get("AEGIS_HYDRA_BIN") or str(REPO_ROOT / ".tools" / "bin" / "hydra")


@dataclasses.dataclass
class Hydra:
    issuer: str
    public_url: str
    admin_url: str
    process: subprocess.Popen[bytes]
    login: LoginConsentApp
    log_file: Path

    @property
    def jwks_uri(self) -> str:
        return f"{self.public_url}/.well-known/jwks.json"

    def publish_key(self, jwk: dict[str, Any]) -> None:
        """Put a private JWK of the test's into a key set that Hydra publishes in its JWKS."""
        response = httpx.put(
            f"{self.admin_url}/admin/keys/{MINTING_KEY_SET}/{jwk['kid']}", json=jwk, timeout=10
        )
        response.raise_for_status()

    def rotate_signing_key(self) -> None:
        """A new key for Hydra's JWT access tokens, which Hydra signs with from now on."""
        response = httpx.post(
            f"{self.admin_url}/admin/keys/{ACCESS_TOKEN_KEY_SET}",
            json={"alg": "RS256", "use": "sig"},
            timeout=60,
        )
        response.raise_for_status()

    def stop(self) -> None:
        stop(self.process)
        self.login.stop()


class LoginConsentApp:
    """Hydra's login and consent UI without a user: /login accepts SUBJECT, /consent grants the
    requested scopes and, as the access token's audience, the requested resources."""

    def __init__(self) -> None:
        self.admin_url = ""  # set once Hydra's admin port is known
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def accept(self, path: str, query: dict[str, list[str]]) -> str:
        """Accept the login or consent challenge in `query`; returns where Hydra sends the browser next."""
        kind = "login" if path == "/login" else "consent"
        challenge = query[f"{kind}_challenge"][0]
        requests = f"{self.admin_url}/admin/oauth2/auth/requests/{kind}"
        params = {f"{kind}_challenge": challenge}
        if kind == "login":
            body: dict[str, Any] = {"subject": SUBJECT, "remember": False}
        else:
            asked = httpx.get(requests, params=params, timeout=10).raise_for_status().json()
            resources = parse_qs(urlsplit(asked["request_url"]).query).get("resource", [])
            body = {
                "grant_scope": asked["requested_scope"],
                "grant_access_token_audience": [*asked["requested_access_token_audience"], *resources],
                "session": {"access_token": {"roles": ROLES}},
                "remember": False,
            }
        accepted = httpx.put(f"{requests}/accept", params=params, json=body, timeout=10).raise_for_status()
        return str(accepted.json()["redirect_to"])

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        app = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                try:
                    location = app.accept(parts.path, parse_qs(parts.query))
                except (KeyError, httpx.HTTPError) as exc:
                    self.send_error(400, str(exc))
                    return
                self.send_response(302)
                self.send_header("Location", location)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def start_hydra(workdir: Path) -> Hydra:
    """`hydra serve all` with DSN=memory, JWT access tokens and dynamic client registration, on free
    loopback ports; its log in workdir/hydra.log."""
    workdir.mkdir(parents=True, exist_ok=True)
    public_port, admin_port = free_port(), free_port()
    public_url, admin_url = f"http://127.0.0.1:{public_port}", f"http://127.0.0.1:{admin_port}"
    login = LoginConsentApp()
    login.admin_url = admin_url
    config = workdir / "hydra.json"  # YAML is a superset of JSON: Hydra reads it as its config file
    config.write_text(json.dumps(_config(public_port, admin_port, login.url)), encoding="utf-8")
    log_file = workdir / "hydra.log"
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [hydra_binary(), "serve", "all", "--dev", "--config", str(config)],
            env={**os.environ, "DSN": "memory"},
            cwd=workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    hydra = Hydra(f"{public_url}/", public_url, admin_url, process, login, log_file)
    try:
        _wait_ready(hydra)
    except RuntimeError:
        hydra.stop()
        raise
    return hydra


def _config(public_port: int, admin_port: int, login_url: str) -> dict[str, Any]:
    return {
        "serve": {
            "public": {"host": "127.0.0.1", "port": public_port},
            "admin": {"host": "127.0.0.1", "port": admin_port},
        },
        "urls": {
            "self": {"issuer": f"http://127.0.0.1:{public_port}/"},
            "login": f"{login_url}/login",
            "consent": f"{login_url}/consent",
        },
        "secrets": {"system": [secrets.token_urlsafe(32)]},
        "strategies": {"access_token": "jwt"},
        "oidc": {"dynamic_client_registration": {"enabled": True}},
        "oauth2": {"pkce": {"enforced": True}},
        "webfinger": {
            "jwks": {"broadcast_keys": [ACCESS_TOKEN_KEY_SET, MINTING_KEY_SET]},
            # Hydra serves registration when enabled above, but names it in its metadata only when told.
            "oidc_discovery": {"client_registration_url": f"http://127.0.0.1:{public_port}/oauth2/register"},
        },
        "log": {"level": "warn"},
    }


def _wait_ready(hydra: Hydra) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if hydra.process.poll() is not None:
            raise RuntimeError(f"hydra exited with {hydra.process.returncode}:\n{hydra.log_file.read_text()}")
        try:
            ready = httpx.get(f"{hydra.admin_url}/health/ready", timeout=1.0).status_code == 200
            # The first JWKS request generates Hydra's keys (seconds of RSA 4096): wait for it.
            if ready and httpx.get(hydra.jwks_uri, timeout=START_TIMEOUT_S).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"hydra not ready after {START_TIMEOUT_S}s:\n{hydra.log_file.read_text()}")
