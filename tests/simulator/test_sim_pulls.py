"""Reading pull requests: the list and its filters, one pull request, its changed files, diff and patch."""

from __future__ import annotations

import tempfile
from pathlib import Path

import httpx
import pytest

from .conftest import API, Seeded, Writable, git

APP = f"{API}/repos/acme/app"
HTML = "http://gitea.test/acme/app"
SWAGGER = "http://gitea.test/api/swagger"
NOT_FOUND = {"errors": None, "message": "not found", "url": SWAGGER}


async def test_pull_json(client: httpx.AsyncClient, seeded: Seeded) -> None:
    response = await client.get(f"{APP}/pulls/6")
    assert response.status_code == 200
    pull = response.json()
    main, head = (
        git(seeded, "acme/app", "rev-parse", "main"),
        git(seeded, "acme/app", "rev-parse", "fix/rotate-secrets"),
    )
    assert (pull["number"], pull["id"], pull["title"], pull["state"]) == (
        6,
        9,
        "Rotate production secrets (fix)",
        "open",
    )
    assert pull["user"]["login"] == "alice"
    assert [label["name"] for label in pull["labels"]] == ["security"]
    assert (pull["head"]["ref"], pull["head"]["sha"]) == ("fix/rotate-secrets", head)
    assert (pull["base"]["ref"], pull["base"]["sha"], pull["merge_base"]) == ("main", main, main)
    assert pull["base"]["repo"]["permissions"] == {"admin": False, "push": True, "pull": True}
    assert (pull["html_url"], pull["diff_url"]) == (f"{HTML}/pulls/6", f"{HTML}/pulls/6.diff")
    shortstat = git(seeded, "acme/app", "diff", "--shortstat", "main", "fix/rotate-secrets")
    assert shortstat == "2 files changed, 10 insertions(+), 4 deletions(-)"
    assert (pull["changed_files"], pull["additions"], pull["deletions"]) == (2, 10, 4)
    assert (pull["mergeable"], pull["merged"], pull["merged_at"]) == (True, False, None)
    login = (await client.get(f"{APP}/pulls/3")).json()
    assert (login["head"]["ref"], login["changed_files"]) == ("feature/login", 2)


@pytest.mark.parametrize("index", ["1", "4", "99", "0", "abc"])
async def test_issue_that_is_not_a_pull_request_is_404(client: httpx.AsyncClient, index: str) -> None:
    for path in (f"{APP}/pulls/{index}", f"{APP}/pulls/{index}/files", f"{APP}/pulls/{index}.diff"):
        response = await client.get(path)
        assert (response.status_code, response.json()) == (404, NOT_FOUND), path


@pytest.mark.parametrize(
    ("params", "numbers"),
    [
        pytest.param({}, [6, 3], id="newest-first"),
        pytest.param({"sort": "oldest"}, [3, 6], id="oldest"),
        pytest.param({"sort": "recentupdate"}, [6, 3], id="recentupdate"),
        pytest.param({"sort": "leastupdate"}, [3, 6], id="leastupdate"),
        pytest.param({"sort": "bogus"}, [6, 3], id="unknown-sort-is-newest"),
        pytest.param({"state": "closed"}, [], id="closed"),
        pytest.param({"poster": "ALICE"}, [6, 3], id="poster-case-insensitive"),
        pytest.param({"poster": "aegis-bot"}, [], id="other-poster"),
        pytest.param({"labels": "3"}, [6], id="label-id"),
        pytest.param({"labels": ["2", "3"]}, [6, 3], id="any-of-label-ids"),
        pytest.param({"labels": "5"}, [], id="another-repositorys-label"),
        pytest.param({"base_branch": "main"}, [6, 3], id="base-branch"),
        pytest.param({"base_branch": "feature/login"}, [], id="other-base-branch"),
        pytest.param({"milestone": "1"}, [], id="milestone"),
    ],
)
async def test_pull_filters(
    client: httpx.AsyncClient, params: dict[str, str | list[str]], numbers: list[int]
) -> None:
    response = await client.get(f"{APP}/pulls", params=params)
    assert response.status_code == 200
    assert [pull["number"] for pull in response.json()] == numbers
    assert response.headers["x-total-count"] == str(len(numbers))


async def test_state_defaults_to_every_pull_request(writable: Writable, writer: httpx.AsyncClient) -> None:
    # Gitea filters only on state=open or state=closed; its spec's "default: open" is not what it does.
    assert (await writer.patch(f"{APP}/issues/3", json={"state": "closed"})).status_code == 201
    lists = {
        state: [pull["number"] for pull in (await writer.get(f"{APP}/pulls", params={"state": state})).json()]
        for state in ("", "open", "closed", "all", "bogus")
    }
    assert lists == {"": [6, 3], "open": [6], "closed": [3], "all": [6, 3], "bogus": [6, 3]}
    closed = (await writer.get(f"{APP}/pulls/3")).json()
    assert (closed["state"], closed["closed_at"] is not None) == ("closed", True)


async def test_pull_list_pages(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{APP}/pulls", params={"limit": 1})
    assert [pull["number"] for pull in response.json()] == [6]
    assert response.headers["x-total-count"] == "2"
    assert response.headers["link"] == (
        f'<{APP}/pulls?limit=1&page=2>; rel="next",<{APP}/pulls?limit=1&page=2>; rel="last"'
    )


async def test_unknown_poster_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{APP}/pulls", params={"poster": "nobody"})
    assert response.status_code == 400
    assert response.json() == {"message": "user does not exist [uid: 0, name: nobody]", "url": SWAGGER}


async def test_pull_files(client: httpx.AsyncClient, seeded: Seeded) -> None:
    response = await client.get(f"{APP}/pulls/6/files")
    head = git(seeded, "acme/app", "rev-parse", "fix/rotate-secrets")
    numstat = [
        line.split("\t") for line in git(seeded, "acme/app", "diff", "--numstat", "main", head).splitlines()
    ]
    assert [(item["filename"], item["additions"], item["deletions"]) for item in response.json()] == [
        (path, int(added), int(deleted)) for added, deleted, path in numstat
    ]
    main_py = response.json()[0]
    assert main_py == {
        "filename": "src/main.py",
        "previous_filename": "",
        "status": "changed",
        "additions": 4,
        "deletions": 0,
        "changes": 4,
        "html_url": f"{HTML}/src/commit/{head}/src/main.py",
        "contents_url": f"{APP}/contents/src/main.py?ref={head}",
        "raw_url": f"{HTML}/raw/commit/{head}/src/main.py",
    }
    headers = response.headers
    assert (headers["x-total-count"], headers["x-page"], headers["x-perpage"]) == ("2", "1", "30")
    assert (headers["x-pagecount"], headers["x-hasmore"]) == ("1", "false")
    assert "x-total" not in headers  # Gitea sets it for commits, not for files
    assert (
        headers["access-control-expose-headers"] == "X-Total-Count, X-Page, X-PerPage, X-PageCount, X-HasMore"
    )


async def test_pull_files_page(client: httpx.AsyncClient) -> None:
    first = await client.get(f"{APP}/pulls/6/files", params={"limit": 1})
    second = await client.get(f"{APP}/pulls/6/files", params={"limit": 1, "page": 2})
    assert [item["filename"] for item in first.json()] == ["src/main.py"]
    assert [item["filename"] for item in second.json()] == ["src/secrets/prod.env"]
    assert (first.headers["x-hasmore"], second.headers["x-hasmore"]) == ("true", "false")
    assert (second.headers["x-page"], second.headers["x-pagecount"]) == ("2", "2")
    assert 'rel="prev"' in second.headers["link"]


def _rename_on_branch(writable: Writable, branch: str) -> None:
    """A commit on a new ``branch`` from main: docs/guide.md renamed to docs/manual.md, README.md deleted."""
    guide = writable.git("acme/app", "rev-parse", "main:docs/guide.md")
    with tempfile.TemporaryDirectory() as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index"), "GIT_WORK_TREE": scratch}
        writable.git("acme/app", "read-tree", "main", env=env)
        writable.git(
            "acme/app", "update-index", "--remove", "--force-remove", "docs/guide.md", "README.md", env=env
        )
        writable.git(
            "acme/app", "update-index", "--add", "--cacheinfo", f"100644,{guide},docs/manual.md", env=env
        )
        tree = writable.git("acme/app", "write-tree", env=env)
    identity = {
        "GIT_AUTHOR_NAME": "T",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "T",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    commit = writable.git(
        "acme/app", "commit-tree", tree, "-p", "main", "-m", "Rename the guide", env=identity
    )
    writable.git("acme/app", "update-ref", f"refs/heads/{branch}", commit)


async def test_renamed_and_deleted_files(writable: Writable, writer: httpx.AsyncClient) -> None:
    _rename_on_branch(writable, "docs/rename")
    created = await writer.post(
        f"{APP}/pulls", json={"head": "docs/rename", "base": "main", "title": "Rename"}
    )
    number = created.json()["number"]
    files = (await writer.get(f"{APP}/pulls/{number}/files")).json()
    assert [(item["filename"], item["previous_filename"], item["status"]) for item in files] == [
        ("README.md", "", "deleted"),
        ("docs/manual.md", "docs/guide.md", "renamed"),
    ]
    assert files[1]["changes"] == 0
    diff = (await writer.get(f"{APP}/pulls/{number}.diff")).text
    assert "rename from docs/guide.md\nrename to docs/manual.md\n" in diff


async def test_pull_diff_and_patch(client: httpx.AsyncClient, seeded: Seeded) -> None:
    diff = await client.get(f"{APP}/pulls/6.diff")
    patch = await client.get(f"{APP}/pulls/6.patch")
    head = git(seeded, "acme/app", "rev-parse", "fix/rotate-secrets")
    assert diff.headers["content-type"] == patch.headers["content-type"] == "text/plain; charset=utf-8"
    assert diff.text.strip() == git(seeded, "acme/app", "diff", "-p", "main...fix/rotate-secrets")
    assert "+DB_PASSWORD=rotated-demo-Vq3xTz8Lm2Rw\n" in diff.text
    assert (
        '+DB_PASSWORD = os.environ["DB_PASSWORD"]  # rotated secrets are read from the environment\n'
        in diff.text
    )
    assert "-AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE\n" in diff.text
    assert patch.text.startswith(
        f"From {head} Mon Sep 17 00:00:00 2001\nFrom: Alice Example <alice@example.com>\n"
    )
    assert "Subject: [PATCH] Rotate production secrets\n" in patch.text
    binary = await client.get(f"{APP}/pulls/6.diff", params={"binary": "true"})
    assert binary.text == diff.text  # no binary files here; --histogram finds the same hunks


async def test_pull_diff_starts_at_the_merge_base(writable: Writable, writer: httpx.AsyncClient) -> None:
    created = await writer.post(f"{APP}/contents/docs/later.md", json={"content": "bGF0ZXIK"})
    assert created.status_code == 201
    diff = (await writer.get(f"{APP}/pulls/6.diff")).text
    files = (await writer.get(f"{APP}/pulls/6/files")).json()
    pull = (await writer.get(f"{APP}/pulls/6")).json()
    assert "docs/later.md" not in diff
    assert [item["filename"] for item in files] == ["src/main.py", "src/secrets/prod.env"]
    assert pull["base"]["sha"] == writable.git("acme/app", "rev-parse", "main")
    assert pull["merge_base"] == writable.git("acme/app", "rev-parse", "main~1")
    assert pull["mergeable"] is True


async def test_pull_whose_head_branch_is_gone_uses_its_pull_ref(
    writable: Writable, writer: httpx.AsyncClient
) -> None:
    head = writable.git("acme/app", "rev-parse", "fix/rotate-secrets")
    writable.git("acme/app", "update-ref", "refs/pull/6/head", head)
    writable.git("acme/app", "update-ref", "-d", "refs/heads/fix/rotate-secrets")
    pull = (await writer.get(f"{APP}/pulls/6")).json()
    files = (await writer.get(f"{APP}/pulls/6/files")).json()
    assert pull["head"]["sha"] == head
    assert len(files) == 2
