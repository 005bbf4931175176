"""Fixtures for the Gitea simulator tests: one seeded state directory per session, fresh apps per test."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from gitea_simulator import DemoSeed, add_token, create_app, seed_demo
from starlette.applications import Starlette

BASE_URL = "http://gitea.test"
API = f"{BASE_URL}/api/v1"


@dataclass(frozen=True)
class Seeded:
    state_dir: Path
    seed: DemoSeed
    issue_only_token: str
    repo_only_token: str
    public_only_token: str


@pytest.fixture(scope="session")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Seeded:
    state_dir = tmp_path_factory.mktemp("gitea") / "state"
    seed = seed_demo(state_dir)
    return Seeded(
        state_dir=state_dir,
        seed=seed,
        issue_only_token=add_token(state_dir, user="aegis-bot", scopes=["read:issue"], name="issues"),
        repo_only_token=add_token(state_dir, user="aegis-bot", scopes=["read:repository"], name="code"),
        public_only_token=add_token(
            state_dir,
            user="aegis-bot",
            scopes=["public-only", "read:repository", "read:issue"],
            name="public",
        ),
    )


@pytest.fixture
def app(seeded: Seeded) -> Starlette:
    return create_app(seeded.state_dir)


def _client(app: Starlette, token: str | None) -> httpx.AsyncClient:
    headers = {"Authorization": f"token {token}"} if token else {}
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=headers)


@pytest.fixture
async def client(app: Starlette, seeded: Seeded) -> AsyncIterator[httpx.AsyncClient]:
    """A client authenticated as aegis-bot with the demo read token."""
    async with _client(app, seeded.seed.token) as http:
        yield http


@pytest.fixture
async def anonymous(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with _client(app, None) as http:
        yield http


ClientFactory = Callable[[str | None], httpx.AsyncClient]


@pytest.fixture
def client_with(app: Starlette) -> ClientFactory:
    """A factory: ``client_with(token)`` is a client sending that token (close it with ``async with``)."""

    def make(token: str | None) -> httpx.AsyncClient:
        return _client(app, token)

    return make


def git(seeded: Seeded, repo: str, *args: str) -> str:
    """Ground truth: run git on a seeded bare repository (``repo`` is ``owner/name``)."""
    result = subprocess.run(
        ["git", "--git-dir", str(seeded.state_dir / "repos" / f"{repo}.git"), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    return result.stdout.strip()
