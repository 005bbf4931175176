"""Fixtures for the Gitea simulator tests: one seeded state directory per session, fresh apps per test.

Read tests share the session's state (``seeded``); write tests get their own copy of a seeded state
(``writable``), since writes change it.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    return run_git(seeded.state_dir / "repos" / f"{repo}.git", *args)


WRITE_SCOPES = ["write:issue", "write:repository", "read:user"]


@dataclass(frozen=True)
class Writable:
    """A private copy of the seeded state and its app; every token belongs to aegis-bot unless named."""

    state_dir: Path
    app: Starlette
    token: str  # write:issue, write:repository, read:user
    read_token: str  # the demo token: read:issue, read:repository, read:user
    issue_token: str  # write:issue only
    repo_token: str  # write:repository only
    public_only_token: str  # public-only with write:issue and write:repository
    alice_token: str  # alice (writer on acme/app, admin on acme/private-notes) with WRITE_SCOPES

    def client(self, token: str | None) -> httpx.AsyncClient:
        return _client(self.app, token)

    def edit_metadata(self, change: Callable[[dict[str, Any]], None]) -> None:
        """Change meta.json on disk as an administrator would (``change`` edits the parsed JSON)."""
        meta = json.loads((self.state_dir / "meta.json").read_text())
        change(meta)
        (self.state_dir / "meta.json").write_text(json.dumps(meta))

    def archive(self, repo: str) -> None:
        owner, name = repo.split("/")

        def mark(meta: dict[str, Any]) -> None:
            for item in meta["repos"]:
                if (item["owner"], item["name"]) == (owner, name):
                    item["archived"] = True

        self.edit_metadata(mark)

    def git(self, repo: str, *args: str, env: dict[str, str] | None = None) -> str:
        return run_git(self.state_dir / "repos" / f"{repo}.git", *args, env=env)


@dataclass(frozen=True)
class _Template:
    state_dir: Path
    tokens: dict[str, str]


@pytest.fixture(scope="session")
def write_template(tmp_path_factory: pytest.TempPathFactory) -> _Template:
    state_dir = tmp_path_factory.mktemp("gitea-write") / "state"
    seed = seed_demo(state_dir)
    tokens = {
        "token": add_token(state_dir, user="aegis-bot", scopes=WRITE_SCOPES, name="write"),
        "read_token": seed.token,
        "issue_token": add_token(state_dir, user="aegis-bot", scopes=["write:issue"], name="issues"),
        "repo_token": add_token(state_dir, user="aegis-bot", scopes=["write:repository"], name="code"),
        "public_only_token": add_token(
            state_dir,
            user="aegis-bot",
            scopes=["public-only", "write:issue", "write:repository"],
            name="public",
        ),
        "alice_token": add_token(state_dir, user="alice", scopes=WRITE_SCOPES, name="alice"),
    }
    return _Template(state_dir, tokens)


@pytest.fixture
def writable(write_template: _Template, tmp_path: Path) -> Writable:
    """A fresh copy of a seeded state directory, for a test that writes."""
    state_dir = tmp_path / "state"
    shutil.copytree(write_template.state_dir, state_dir, symlinks=True)
    return Writable(state_dir=state_dir, app=create_app(state_dir), **write_template.tokens)


@pytest.fixture
async def writer(writable: Writable) -> AsyncIterator[httpx.AsyncClient]:
    """A client of ``writable`` authenticated as aegis-bot with write:issue and write:repository."""
    async with writable.client(writable.token) as http:
        yield http


def run_git(git_dir: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        ["git", "--git-dir", str(git_dir), *args],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
        env=env,
    )
    return result.stdout.strip()
