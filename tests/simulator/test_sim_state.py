"""Seeding, extra tokens, and that changes on disk show up at once (nothing stale is cached)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import gitea_simulator
import httpx
import pytest
from gitea_simulator import SimulatorError, add_token, create_app, read_demo_token, seed_demo

from .conftest import API, BASE_URL, Seeded, git


def test_public_surface() -> None:
    assert sorted(gitea_simulator.__all__) == [
        "DemoSeed",
        "RecordedRequest",
        "SimulatorError",
        "add_token",
        "create_app",
        "read_demo_token",
        "seed_demo",
    ]


def test_seed_result(seeded: Seeded) -> None:
    seed = seeded.seed
    assert seed.user == "aegis-bot"
    assert seed.repos == ["acme/app", "acme/infra", "acme/private-notes", "other/secret"]
    assert re.fullmatch(r"[0-9a-f]{40}", seed.token)
    assert seed.token not in repr(seed)
    assert read_demo_token(seeded.state_dir) == seed.token
    assert (seeded.state_dir / "demo-token").stat().st_mode & 0o777 == 0o600
    assert seed.token not in (seeded.state_dir / "meta.json").read_text()


def test_seeded_repositories_are_real_and_complete(seeded: Seeded) -> None:
    assert git(seeded, "acme/app", "rev-parse", "--abbrev-ref", "HEAD") == "main"
    assert git(seeded, "acme/app", "for-each-ref", "--format=%(refname)").splitlines() == [
        "refs/heads/feature/login",
        "refs/heads/fix/rotate-secrets",
        "refs/heads/main",
        "refs/tags/v0.1.0",
    ]
    assert git(seeded, "acme/app", "rev-list", "--count", "main") == "6"
    main = git(seeded, "acme/app", "rev-parse", "main")
    assert git(seeded, "acme/app", "rev-parse", "fix/rotate-secrets~1") == main  # it forks from main's head
    assert git(seeded, "acme/app", "diff", "--name-only", "main", "fix/rotate-secrets").splitlines() == [
        "src/main.py",
        "src/secrets/prod.env",
    ]
    assert git(seeded, "acme/app", "cat-file", "-s", "main:src/fixture_2k.txt") == "2048"
    files = git(seeded, "acme/app", "ls-tree", "-r", "--name-only", "main").splitlines()
    for path in ("README.md", "src/main.py", "src/util/strings.py", "src/secrets/prod.env", "docs/guide.md"):
        assert path in files
    assert "deploy/app.yaml" in git(seeded, "acme/infra", "ls-tree", "-r", "--name-only", "main")
    assert git(seeded, "acme/infra", "fsck", "--no-dangling") == ""


def test_seeding_is_deterministic_except_the_token(tmp_path: Path, seeded: Seeded) -> None:
    other = seed_demo(tmp_path / "again")
    for repo in other.repos:
        assert (
            git(seeded, repo, "rev-parse", "main")
            == subprocess.run(
                ["git", "--git-dir", str(tmp_path / "again" / "repos" / f"{repo}.git"), "rev-parse", "main"],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.strip()
        )
    assert other.token != seeded.seed.token


def test_seeding_refuses_a_non_empty_directory(tmp_path: Path) -> None:
    (tmp_path / "something").write_text("x")
    with pytest.raises(SimulatorError, match=r"refusing to seed .*: the directory is not empty"):
        seed_demo(tmp_path)
    assert [child.name for child in tmp_path.iterdir()] == ["something"]


def test_add_token_validates(seeded: Seeded) -> None:
    with pytest.raises(SimulatorError, match="unknown token scopes"):
        add_token(seeded.state_dir, user="aegis-bot", scopes=["read:everything"])
    with pytest.raises(SimulatorError, match="no user 'nobody'"):
        add_token(seeded.state_dir, user="nobody", scopes=["read:issue"])
    with pytest.raises(SimulatorError, match="not a simulator state directory"):
        add_token(seeded.state_dir / "repos", user="aegis-bot", scopes=["read:issue"])


async def test_write_scope_implies_read_and_scopes_are_normalized(seeded: Seeded) -> None:
    token = add_token(seeded.state_dir, user="aegis-bot", scopes=["write:repository", "read:repository"])
    transport = httpx.ASGITransport(app=create_app(seeded.state_dir))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as http:
        ok = await http.get(f"{API}/repos/acme/app", headers={"Authorization": f"token {token}"})
        denied = await http.get(f"{API}/repos/acme/app/issues", headers={"Authorization": f"token {token}"})
    assert ok.status_code == 200
    assert denied.json()["message"].endswith("required=[read:issue], token scope=write:repository")


async def test_changes_on_disk_are_visible_immediately(tmp_path: Path) -> None:
    state = tmp_path / "state"
    seed = seed_demo(state)
    transport = httpx.ASGITransport(app=create_app(state))
    headers = {"Authorization": f"token {seed.token}"}
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as http:
        before = (await http.get(f"{API}/repos/acme/app/contents/README.md")).json()
        _commit_file(state / "repos" / "acme" / "app.git", "README.md", b"# changed\n")
        meta = json.loads((state / "meta.json").read_text())
        meta["repos"][0]["description"] = "Changed on disk"
        (state / "meta.json").write_text(json.dumps(meta))
        after = (await http.get(f"{API}/repos/acme/app/contents/README.md")).json()
        repo = (await http.get(f"{API}/repos/acme/app")).json()
        commits = await http.get(f"{API}/repos/acme/app/commits", params={"limit": 1})
    assert before["sha"] != after["sha"]
    assert after["last_commit_sha"] == commits.json()[0]["sha"]
    assert commits.headers["x-total"] == "7"
    assert repo["description"] == "Changed on disk"


def _commit_file(git_dir: Path, path: str, content: bytes) -> None:
    env = {
        **os.environ,
        "GIT_DIR": str(git_dir),
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }

    def run(*args: str, stdin: bytes | None = None) -> str:
        return subprocess.run(
            ["git", *args], input=stdin, capture_output=True, env=env, check=True
        ).stdout.decode()

    blob = run("hash-object", "-w", "--stdin", stdin=content).strip()
    index = {"GIT_INDEX_FILE": str(git_dir / "tmp-index")}
    env.update(index)
    run("read-tree", "main")
    run("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}")
    tree = run("write-tree").strip()
    commit = run("commit-tree", tree, "-p", "main", "-m", "Change on disk").strip()
    run("update-ref", "refs/heads/main", commit)


def test_missing_metadata_is_an_empty_instance(tmp_path: Path) -> None:
    app = create_app(tmp_path)
    assert app.state.simulator.store.current().repos == ()


async def test_broken_state_is_a_json_500(tmp_path: Path) -> None:
    state = tmp_path / "state"
    seed = seed_demo(state)
    headers = {"Authorization": f"token {seed.token}"}
    transport = httpx.ASGITransport(app=create_app(state))
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as http:
        shutil.rmtree(state / "repos" / "acme" / "app.git")
        missing_repo = await http.get(f"{API}/repos/acme/app/contents/README.md")
        (state / "meta.json").write_text("{not json")
        broken_meta = await http.get(f"{API}/version")
    for response in (missing_repo, broken_meta):
        assert response.status_code == 500
        assert response.json() == {"message": "", "url": "http://gitea.test/api/swagger"}
