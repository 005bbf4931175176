"""Branches, git trees, commits and single commits."""

from __future__ import annotations

import httpx
import pytest

from .conftest import API, Seeded, git

SWAGGER = "http://gitea.test/api/swagger"
APP = f"{API}/repos/acme/app"


async def test_branches_newest_first(client: httpx.AsyncClient, seeded: Seeded) -> None:
    response = await client.get(f"{APP}/branches")
    branches = response.json()
    assert [branch["name"] for branch in branches] == ["fix/rotate-secrets", "feature/login", "main"]
    assert response.headers["x-total-count"] == "3"
    main = branches[2]
    assert main["commit"]["id"] == git(seeded, "acme/app", "rev-parse", "main")
    assert main["commit"]["author"] == {"name": "Bob Builder", "email": "bob@builder.example", "username": ""}
    assert main["commit"]["url"] == f"http://gitea.test/acme/app/commit/{main['commit']['id']}"
    assert (main["protected"], main["user_can_push"]) == (False, True)  # aegis-bot may write to acme/app


async def test_branches_paginate(client: httpx.AsyncClient) -> None:
    second = await client.get(f"{APP}/branches", params={"limit": 2, "page": 2})
    assert [branch["name"] for branch in second.json()] == ["main"]
    assert 'rel="first"' in second.headers["link"]


async def test_branch_with_slash(client: httpx.AsyncClient, seeded: Seeded) -> None:
    branch = (await client.get(f"{APP}/branches/feature/login")).json()
    assert branch["name"] == "feature/login"
    assert branch["commit"]["id"] == git(seeded, "acme/app", "rev-parse", "feature/login")
    assert branch["commit"]["author"]["username"] == "alice"


@pytest.mark.parametrize("name", ["nope", "v0.1.0", "feature", "main..x"])
async def test_missing_branch_is_404(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"{APP}/branches/{name}")
    assert response.status_code == 404
    assert response.json() == {
        "errors": [f"branch does not exist [name: {name}]"],
        "message": "not found",
        "url": SWAGGER,
    }


@pytest.mark.parametrize("ref", ["main", "v0.1.0", "feature/login"])
async def test_tree_by_name(client: httpx.AsyncClient, seeded: Seeded, ref: str) -> None:
    body = (await client.get(f"{APP}/git/trees/{ref}")).json()
    assert body["sha"] == git(seeded, "acme/app", "rev-parse", ref)
    expected = git(seeded, "acme/app", "ls-tree", "--name-only", ref).splitlines()
    assert [entry["path"] for entry in body["tree"]] == expected
    assert (body["page"], body["truncated"], body["total_count"]) == (1, False, len(expected))


async def test_tree_by_tree_sha_and_entries(client: httpx.AsyncClient, seeded: Seeded) -> None:
    sha = git(seeded, "acme/app", "rev-parse", "main:src")
    body = (await client.get(f"{APP}/git/trees/{sha}")).json()
    assert body["sha"] == sha
    util = next(entry for entry in body["tree"] if entry["path"] == "util")
    fixture = next(entry for entry in body["tree"] if entry["path"] == "fixture_2k.txt")
    assert util == {
        "path": "util",
        "mode": "040000",
        "type": "tree",
        "size": 0,
        "sha": git(seeded, "acme/app", "rev-parse", "main:src/util"),
        "url": f"{APP}/git/trees/{util['sha']}",
    }
    assert (fixture["mode"], fixture["type"], fixture["size"]) == ("100644", "blob", 2048)
    assert fixture["url"] == f"{APP}/git/blobs/{fixture['sha']}"


async def test_recursive_tree_pages_with_per_page(client: httpx.AsyncClient, seeded: Seeded) -> None:
    everything = git(seeded, "acme/app", "ls-tree", "-r", "-t", "--name-only", "main").splitlines()
    pages = [
        (
            await client.get(
                f"{APP}/git/trees/main", params={"recursive": "true", "per_page": 4, "page": page}
            )
        ).json()
        for page in (1, 2, 3, 4)
    ]
    assert [entry["path"] for page in pages[:3] if page["tree"] for entry in page["tree"]] == everything
    assert [page["truncated"] for page in pages] == [True, True, False, False]
    assert pages[3]["tree"] is None
    assert {page["total_count"] for page in pages} == {len(everything)}
    ignored_limit = (await client.get(f"{APP}/git/trees/main", params={"recursive": 1, "limit": 1})).json()
    assert len(ignored_limit["tree"]) == len(everything)


async def test_submodule_tree_entry(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"{API}/repos/acme/infra/git/trees/main", params={"recursive": "1"})).json()
    entries = {entry["path"]: entry for entry in body["tree"]}
    assert (entries["vendor/charts"]["type"], entries["vendor/charts"]["url"]) == ("commit", "")
    assert entries["deploy/run.sh"]["mode"] == "100755"


@pytest.mark.parametrize("sha", ["nope", "0123456789abcdef0123456789abcdef01234567", "main:README.md"])
async def test_tree_of_unknown_or_non_tree_is_400(client: httpx.AsyncClient, sha: str) -> None:
    response = await client.get(f"{APP}/git/trees/{sha}")
    assert response.status_code == 400
    assert response.json() == {"message": f"sha not found [{sha}]", "url": SWAGGER}


async def test_commits_newest_first_with_headers(client: httpx.AsyncClient, seeded: Seeded) -> None:
    response = await client.get(f"{APP}/commits", params={"limit": 2, "page": 2})
    expected = git(seeded, "acme/app", "rev-list", "--skip=2", "--max-count=2", "main").split()
    assert [commit["sha"] for commit in response.json()] == expected
    headers = response.headers
    assert (headers["x-total-count"], headers["x-total"], headers["x-page"], headers["x-perpage"]) == (
        "6",
        "6",
        "2",
        "2",
    )
    assert (headers["x-pagecount"], headers["x-hasmore"]) == ("3", "true")
    assert headers["link"].count("rel=") == 4


async def test_commit_json(client: httpx.AsyncClient, seeded: Seeded) -> None:
    sha = git(seeded, "acme/app", "rev-parse", "main~1")
    [commit] = (await client.get(f"{APP}/commits", params={"sha": sha, "limit": 1})).json()
    assert commit["sha"] == sha
    assert commit["commit"]["message"] == "Add 2 KiB benchmark fixture\n"
    assert commit["commit"]["author"] == {
        "name": "Alice Example",
        "email": "alice@example.com",
        "date": "2026-02-16T09:45:00+01:00",
    }
    assert commit["author"]["login"] == "alice"
    assert commit["commit"]["tree"]["sha"] == sha  # Gitea puts the commit id there
    assert commit["parents"] == [
        {
            "url": f"{APP}/git/commits/{git(seeded, 'acme/app', 'rev-parse', 'main~2')}",
            "sha": git(seeded, "acme/app", "rev-parse", "main~2"),
            "created": "0001-01-01T00:00:00Z",
        }
    ]
    assert commit["files"] == [
        {"filename": "src/fixture_2k.txt", "status": "added"},
        {"filename": "README.md", "status": "modified"},
    ]
    numstat = git(seeded, "acme/app", "show", "--numstat", "--format=", sha).splitlines()
    additions = sum(int(line.split()[0]) for line in numstat)
    assert commit["stats"] == {"total": additions, "additions": additions, "deletions": 0}
    assert commit["commit"]["verification"]["reason"] == "gpg.error.not_signed_commit"


async def test_commit_without_files_stats_verification(client: httpx.AsyncClient) -> None:
    params = {"limit": "1", "stat": "false", "files": "0", "verification": "false"}
    [commit] = (await client.get(f"{APP}/commits", params=params)).json()
    assert (commit["files"], commit["stats"], commit["commit"]["verification"]) == (None, None, None)
    assert commit["author"] is None  # Bob is not a user of the instance


async def test_removed_file_status(client: httpx.AsyncClient) -> None:
    commit = (await client.get(f"{APP}/git/commits/main")).json()
    assert {"filename": "TODO.md", "status": "removed"} in commit["files"]


@pytest.mark.parametrize(
    ("params", "count"),
    [
        pytest.param({"sha": "feature/login"}, 7, id="branch"),
        pytest.param({"sha": "v0.1.0"}, 4, id="tag"),
        pytest.param({"path": "src/main.py"}, 2, id="path"),
        pytest.param({"path": "src/main.py", "sha": "feature/login"}, 3, id="path-on-branch"),
        pytest.param({"path": "src"}, 4, id="directory"),
        pytest.param({"path": "src/*.py"}, 2, id="path-is-a-git-pathspec"),
        pytest.param({"not": "v0.1.0"}, 2, id="not"),
        pytest.param({"limit": "1000"}, 6, id="limit-capped"),
    ],
)
async def test_commit_filters(client: httpx.AsyncClient, params: dict[str, str], count: int) -> None:
    response = await client.get(f"{APP}/commits", params=params)
    assert response.status_code == 200
    assert len(response.json()) == count
    assert response.headers["x-total"] == str(count)


async def test_path_filter_ignores_limit_like_gitea(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{APP}/commits", params={"path": "src", "limit": 1})
    assert len(response.json()) == 4
    assert (response.headers["x-perpage"], response.headers["x-pagecount"]) == ("1", "4")


@pytest.mark.parametrize(
    ("params", "message"),
    [
        pytest.param({"sha": "no-such-branch"}, "not found", id="unknown-sha"),
        pytest.param({"path": "no/such/file"}, "FileCommitsCount", id="path-never-touched"),
    ],
)
async def test_commits_not_found(client: httpx.AsyncClient, params: dict[str, str], message: str) -> None:
    response = await client.get(f"{APP}/commits", params=params)
    assert response.status_code == 404
    assert response.json()["message"] == message


@pytest.mark.parametrize("ref", ["main", "v0.1.0", "main~2"])
async def test_single_commit_by_name_or_id(client: httpx.AsyncClient, seeded: Seeded, ref: str) -> None:
    expected = git(seeded, "acme/app", "rev-parse", f"{ref}^{{commit}}")
    name = expected if "~" in ref else ref
    response = await client.get(f"{APP}/git/commits/{name}")
    assert response.json()["sha"] == expected


async def test_single_commit_errors(client: httpx.AsyncClient) -> None:
    missing = await client.get(f"{APP}/git/commits/0123456789abcdef0123456789abcdef01234567")
    invalid = await client.get(f"{APP}/git/commits/main~1")
    assert missing.status_code == 404
    assert missing.json() == {
        "errors": None,
        "message": "0123456789abcdef0123456789abcdef01234567",
        "url": SWAGGER,
    }
    assert invalid.status_code == 422
    assert invalid.json() == {"message": "no valid ref or sha: main~1", "url": SWAGGER}
