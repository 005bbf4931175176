"""Comparing two revisions, and a single commit's raw diff and patch, against the real git history."""

from __future__ import annotations

import httpx
import pytest

from .conftest import API, Seeded, git

APP = f"{API}/repos/acme/app"
SWAGGER = "http://gitea.test/api/swagger"


def _sha(seeded: Seeded, revision: str) -> str:
    return git(seeded, "acme/app", "rev-parse", f"{revision}^{{commit}}")


async def test_compare_lists_the_heads_commits_with_their_files(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    response = await client.get(f"{APP}/compare/main...feature/login")
    assert response.status_code == 200
    body = response.json()
    assert body["total_commits"] == 1
    [commit] = body["commits"]
    assert commit["sha"] == _sha(seeded, "feature/login")
    assert commit["commit"]["message"] == "Add login form\n"
    assert commit["files"] == [
        {"filename": "src/login.py", "status": "added"},
        {"filename": "src/main.py", "status": "modified"},
    ]
    numstat = git(seeded, "acme/app", "show", "--numstat", "--format=", "feature/login").splitlines()
    additions = sum(int(line.split()[0]) for line in numstat)
    deletions = sum(int(line.split()[1]) for line in numstat)
    assert commit["stats"] == {"total": additions + deletions, "additions": additions, "deletions": deletions}


async def test_compare_starts_at_the_merge_base_newest_first(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    body = (await client.get(f"{APP}/compare/v0.1.0...fix/rotate-secrets")).json()
    expected = git(seeded, "acme/app", "rev-list", "v0.1.0..fix/rotate-secrets").split()
    assert [commit["sha"] for commit in body["commits"]] == expected
    assert body["total_commits"] == len(expected) == 3
    behind = (await client.get(f"{APP}/compare/fix/rotate-secrets...main")).json()
    assert behind == {"total_commits": 0, "commits": []}  # main has nothing the fix branch lacks
    siblings = (await client.get(f"{APP}/compare/feature/login...fix/rotate-secrets")).json()
    assert [commit["sha"] for commit in siblings["commits"]] == [_sha(seeded, "fix/rotate-secrets")]


@pytest.mark.parametrize(
    "basehead",
    [
        "main..feature/login",
        "feature/login",
        "main...acme:feature/login",
        "main...acme/app:feature/login",
        "MAIN_SHA...feature/login",
        "main~1...feature/login~0",
    ],
)
async def test_compare_spellings(client: httpx.AsyncClient, seeded: Seeded, basehead: str) -> None:
    basehead = basehead.replace("MAIN_SHA", _sha(seeded, "main"))
    expected = (await client.get(f"{APP}/compare/main...feature/login")).json()
    response = await client.get(f"{APP}/compare/{basehead}")
    commits = [commit["sha"] for commit in response.json()["commits"]]
    if basehead.startswith("main~1"):  # from an older base: main's head counts too
        assert commits == [_sha(seeded, "feature/login"), _sha(seeded, "main")]
    else:
        assert response.json() == expected


async def test_compare_options(client: httpx.AsyncClient) -> None:
    params = {"files": "false", "verification": "false", "stat": "false"}
    [commit] = (await client.get(f"{APP}/compare/main...feature/login", params=params)).json()["commits"]
    assert (commit["files"], commit["commit"]["verification"]) == (None, None)
    assert commit["stats"]["additions"] > 0  # compare always counts the lines


@pytest.mark.parametrize(
    ("basehead", "message"),
    [
        ("main...nope", "ParseComparePathParams"),
        ("nope...main", "ParseComparePathParams"),
        ("main...", "ParseComparePathParams"),
        ("a...b...c", "ParseComparePathParams"),
        ("a..b..c", "ParseComparePathParams"),
        ("main^...feature/login", "Unsupported compare"),
        ("main...nobody:feature/login", "GetUserByName"),
        ("main...other:main", "GetRepositoryByOwnerAndName"),  # forks are not simulated
    ],
)
async def test_compare_not_found(client: httpx.AsyncClient, basehead: str, message: str) -> None:
    response = await client.get(f"{APP}/compare/{basehead}")
    assert response.status_code == 404
    assert response.json() == {"errors": None, "message": message, "url": SWAGGER}


def _added(seeded: Seeded, path: str) -> str:
    return git(seeded, "acme/app", "log", "--format=%H", "--diff-filter=A", "main", "--", path)


async def test_commit_diff_is_gits_diff_against_the_parent(client: httpx.AsyncClient, seeded: Seeded) -> None:
    sha = _added(seeded, "src/secrets/prod.env")
    response = await client.get(f"{APP}/git/commits/{sha}.diff")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text.strip() == git(seeded, "acme/app", "diff", "-M", f"{sha}~1", sha)
    assert response.text.startswith("diff --git a/src/secrets/prod.env b/src/secrets/prod.env\nnew file mode")
    assert "+AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n" in response.text


async def test_commit_patch_is_format_patch(client: httpx.AsyncClient, seeded: Seeded) -> None:
    sha = _added(seeded, "src/secrets/prod.env")
    response = await client.get(f"{APP}/git/commits/{sha}.patch")
    assert response.text.strip() == git(
        seeded, "acme/app", "format-patch", "--no-signature", "--stdout", f"{sha}~1..{sha}"
    )
    assert response.text.startswith(
        f"From {sha} Mon Sep 17 00:00:00 2001\nFrom: Bob Builder <bob@builder.example>\n"
    )
    assert "Subject: [PATCH] Add production configuration\n" in response.text


async def test_root_commit_diff_is_git_show(client: httpx.AsyncClient, seeded: Seeded) -> None:
    root = git(seeded, "acme/app", "rev-list", "--max-parents=0", "main")
    diff = await client.get(f"{APP}/git/commits/{root}.diff")
    patch = await client.get(f"{APP}/git/commits/{root}.patch")
    assert diff.text.strip() == git(seeded, "acme/app", "show", root)
    assert diff.text.startswith(f"commit {root}\n")
    assert "+- write the guide\n" in diff.text
    assert patch.text.startswith(f"From {root} ")
    assert "new file mode 100644" in patch.text


async def test_commit_by_name_still_answers_json(client: httpx.AsyncClient, seeded: Seeded) -> None:
    as_json = await client.get(f"{APP}/git/commits/main")
    by_name = await client.get(f"{APP}/git/commits/main.diff")
    by_tag = await client.get(f"{APP}/git/commits/v0.1.0.patch")
    assert as_json.headers["content-type"] == "application/json;charset=utf-8"
    assert by_name.text.strip() == git(seeded, "acme/app", "diff", "-M", "main~1", "main")
    assert by_tag.text.startswith(f"From {_sha(seeded, 'v0.1.0')} ")


@pytest.mark.parametrize("name", ["0123456789abcdef0123456789abcdef01234567", "nope", "main..v0.1.0"])
async def test_commit_diff_of_an_unknown_revision_is_404(client: httpx.AsyncClient, name: str) -> None:
    response = await client.get(f"{APP}/git/commits/{name}.diff")
    assert response.status_code == 404
    assert response.json() == {"errors": None, "message": name, "url": SWAGGER}


async def test_other_suffixes_are_commit_names(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{APP}/git/commits/main.txt")
    assert response.status_code == 404
    assert response.json()["message"] == "main.txt"
