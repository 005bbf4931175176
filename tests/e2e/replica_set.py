"""Two gateway replicas sharing one PostgreSQL and one Redis, each writing its own audit chain, and the
helpers the replica tests drive them with."""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.postgres_server import PostgresServer
from tests.processes import UNLIMITED, Gateway, Simulator, create_key, start_gateway, start_simulator
from tests.redis_server import RedisServer

POLICY = """\
defaults: {read: allow, write: deny}
tools:
  allow: [get_file_contents, create_issue, create_issue_comment, create_or_update_file]
write:
  repositories: [acme/app]
  branches: [main]
  require_approval: [create_issue_comment]
"""
GITEA_SCOPES = ("read:repository", "write:repository", "read:issue", "write:issue", "read:user")
ISSUES = "/api/v1/repos/acme/app/issues"
HEADERS = {"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": "2025-06-18"}


@dataclasses.dataclass
class Replicas:
    a: Gateway
    b: Gateway
    keys: dict[str, str]
    upstream: Simulator
    postgres: PostgresServer
    env: dict[str, str]  # what every replica is started with

    def both(self) -> tuple[Gateway, Gateway]:
        return self.a, self.b


@contextlib.contextmanager
def replica_set(
    postgres: PostgresServer, redis_server: RedisServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Replicas]:
    """Replicas gw-a and gw-b on a fresh database of `postgres`, with write mode on, one keys file and the
    keys writer, approver and four-writes; stopped on leaving."""
    upstream = start_simulator(tmp_path_factory.mktemp("gitea-replicas") / "state", token_scopes=GITEA_SCOPES)
    shared = {
        **UNLIMITED,
        "WRITE_MODE": "true",
        "AEGIS_STATE_URL": postgres.new_database(),
        "AEGIS_LIMITS_BACKEND": "redis",
        "AEGIS_REDIS_URL": redis_server.url,
        "AEGIS_REQUEST_STATE_KEY": "a key every replica seals held calls' states with",
    }
    a = start_gateway(
        tmp_path_factory.mktemp("gw-a"),
        policy=POLICY,
        upstream=upstream,
        env={**shared, "AEGIS_REPLICA_ID": "gw-a"},
    )
    b = start_gateway(
        tmp_path_factory.mktemp("gw-b"),
        policy=POLICY,
        upstream=upstream,
        env={
            **shared,
            "AEGIS_REPLICA_ID": "gw-b",
            "AEGIS_KEYS_FILE": str(a.keys_file),
        },  # one key works on both
    )
    keys = {
        "writer": create_key(a.keys_file, "writer", ("tools:read", "tools:write")),
        "approver": create_key(a.keys_file, "approver", ("admin",)),
        "four-writes": create_key(a.keys_file, "four-writes", ("tools:write",), ("--writes-per-day", "4")),
    }
    env = {**shared, "AEGIS_KEYS_FILE": str(a.keys_file)}
    try:
        yield Replicas(a, b, keys, upstream, postgres, env)
    finally:
        for gateway in (a, b):
            gateway.stop()
        upstream.stop()


async def call(gateway: Gateway, key: str, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
    body = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    async with httpx.AsyncClient(timeout=30) as client:
        response = await client.post(
            gateway.url, json=body, headers={**HEADERS, "Authorization": f"Bearer {key}"}
        )
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["result"]
    return result


def app(**arguments: Any) -> dict[str, Any]:
    return {"owner": "acme", "repo": "app", **arguments}


def admin(gateway: Gateway, key: str, path: str, body: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{gateway.base_url}{path}", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )


def admin_get(gateway: Gateway, key: str, path: str) -> Any:
    response = httpx.get(f"{gateway.base_url}{path}", headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def sent(upstream: Simulator, method: str, path: str) -> int:
    return sum(1 for request in upstream.requests() if (request["method"], request["path"]) == (method, path))


def audit(gateway: Gateway) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gateway.audit_log.read_text().splitlines()]


def audit_of(chain: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in chain.read_text().splitlines()] if chain.exists() else []


def issue_titles(upstream: Simulator) -> collections.Counter[str]:
    """The titles of every issue of acme/app, as Gitea holds them, each with how many issues bear it."""
    titles: collections.Counter[str] = collections.Counter()
    page = 1
    while True:
        response = httpx.get(
            f"{upstream.url}{ISSUES}",
            params={"state": "all", "type": "issues", "limit": 50, "page": page},
            headers={"Authorization": f"token {upstream.token}"},
            timeout=30,
        )
        response.raise_for_status()
        if not response.json():
            return titles
        titles.update(issue["title"] for issue in response.json())
        page += 1
