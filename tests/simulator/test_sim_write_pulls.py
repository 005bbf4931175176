"""Opening pull requests between branches of a repository."""

from __future__ import annotations

import httpx
import pytest

from .conftest import API, Writable

SWAGGER = "http://gitea.test/api/swagger"
APP = f"{API}/repos/acme/app"


async def _branch(http: httpx.AsyncClient, name: str, start: str = "main", repo: str = APP) -> None:
    response = await http.post(f"{repo}/branches", json={"new_branch_name": name, "old_ref_name": start})
    assert response.status_code == 201


async def test_create_pull(writable: Writable, writer: httpx.AsyncClient) -> None:
    await _branch(writer, "topic")
    await writer.post(f"{APP}/contents/topic.txt", json={"content": "b25lCnR3bwo=", "branch": "topic"})
    response = await writer.post(
        f"{APP}/pulls",
        json={"head": "topic", "base": "main", "title": "Add topic", "body": "Why", "labels": [2]},
    )
    assert response.status_code == 201
    pull = response.json()
    head, main = writable.git("acme/app", "rev-parse", "topic"), writable.git("acme/app", "rev-parse", "main")
    assert (pull["number"], pull["title"], pull["body"], pull["state"]) == (7, "Add topic", "Why", "open")
    assert pull["user"]["login"] == "aegis-bot"
    assert pull["html_url"] == pull["url"] == "http://gitea.test/acme/app/pulls/7"
    assert pull["diff_url"] == "http://gitea.test/acme/app/pulls/7.diff"
    assert (pull["head"]["ref"], pull["head"]["label"], pull["head"]["sha"]) == ("topic", "topic", head)
    assert (pull["base"]["ref"], pull["base"]["sha"], pull["base"]["repo_id"]) == ("main", main, 1)
    assert pull["base"]["repo"]["full_name"] == pull["head"]["repo"]["full_name"] == "acme/app"
    assert pull["merge_base"] == main
    assert (pull["changed_files"], pull["additions"], pull["deletions"]) == (1, 2, 0)
    assert (pull["mergeable"], pull["merged"], pull["merged_at"], pull["merge_commit_sha"]) == (
        True,
        False,
        None,
        None,
    )
    assert [label["name"] for label in pull["labels"]] == ["enhancement"]
    assert writable.git("acme/app", "rev-parse", "refs/pull/7/head") == head
    issue = (await writer.get(f"{APP}/issues/7")).json()
    assert issue["pull_request"] == {
        "merged": False,
        "merged_at": None,
        "draft": False,
        "html_url": "http://gitea.test/acme/app/pulls/7",
    }
    assert issue["title"] == "Add topic"
    pulls = await writer.get(f"{APP}/issues", params={"type": "pulls"})
    assert [item["number"] for item in pulls.json()] == [7, 6, 3]
    assert (await writer.get(APP)).json()["open_pr_counter"] == 3


async def test_head_may_name_the_owner(writer: httpx.AsyncClient) -> None:
    await _branch(writer, "topic")
    response = await writer.post(f"{APP}/pulls", json={"head": "acme:topic", "base": "main", "title": "T"})
    assert response.status_code == 201
    assert response.json()["head"]["ref"] == "topic"


async def test_conflicting_pull_is_not_mergeable(writer: httpx.AsyncClient) -> None:
    readme = (await writer.get(f"{APP}/contents/README.md")).json()["sha"]
    await _branch(writer, "topic")
    await writer.put(f"{APP}/contents/README.md", json={"content": "b25lCg==", "sha": readme})
    await writer.put(
        f"{APP}/contents/README.md", json={"content": "dHdvCg==", "sha": readme, "branch": "topic"}
    )
    pull = (await writer.post(f"{APP}/pulls", json={"head": "topic", "base": "main", "title": "T"})).json()
    assert pull["mergeable"] is False


async def test_same_head_and_base_is_422(writer: httpx.AsyncClient) -> None:
    response = await writer.post(f"{APP}/pulls", json={"head": "main", "base": "main", "title": "T"})
    assert response.status_code == 422
    assert response.json() == {
        "message": "Invalid PullRequest: There are no changes between the head and the base",
        "url": SWAGGER,
    }


@pytest.mark.parametrize(
    ("head", "base"),
    [("nope", "main"), ("feature/login", "nope"), ("other:feature/login", "main"), ("a:b:c", "main")],
    ids=["no-head", "no-base", "another-users-fork", "malformed-head"],
)
async def test_missing_branches_are_404(writer: httpx.AsyncClient, head: str, base: str) -> None:
    response = await writer.post(f"{APP}/pulls", json={"head": head, "base": base, "title": "T"})
    assert response.status_code == 404
    assert response.json() == {"errors": None, "message": "not found", "url": SWAGGER}


@pytest.mark.parametrize(("head", "base"), [("v0.1.0", "main"), ("feature/login", "v0.1.0"), ("SHA", "main")])
async def test_tags_and_commits_are_422(
    writable: Writable, writer: httpx.AsyncClient, head: str, base: str
) -> None:
    head = head.replace("SHA", writable.git("acme/app", "rev-parse", "feature/login"))
    response = await writer.post(f"{APP}/pulls", json={"head": head, "base": base, "title": "T"})
    assert response.status_code == 422
    assert response.json() == {
        "message": "Invalid PullRequest: base and head must be branches",
        "url": SWAGGER,
    }


async def test_an_open_pull_for_the_same_branches_is_409(
    writable: Writable, writer: httpx.AsyncClient
) -> None:
    response = await writer.post(
        f"{APP}/pulls", json={"head": "feature/login", "base": "main", "title": "Again"}
    )
    assert response.status_code == 409
    assert response.json() == {
        "message": "pull request already exists for these targets [id: 3, issue_id: 3, head_repo_id: 1, "
        "base_repo_id: 1, head_branch: feature/login, base_branch: main]",
        "url": SWAGGER,
    }
    await writer.patch(f"{APP}/issues/3", json={"state": "closed"})
    reopened = await writer.post(
        f"{APP}/pulls", json={"head": "feature/login", "base": "main", "title": "Again"}
    )
    assert reopened.status_code == 201  # a closed pull request does not block a new one
    assert reopened.json()["number"] == 7


async def test_readers_may_open_pull_requests(writable: Writable, writer: httpx.AsyncClient) -> None:
    # Gitea asks only for read access to the code and pull requests of the base repository.
    writable.git("acme/infra", "branch", "fix", "main~1")
    response = await writer.post(
        f"{API}/repos/acme/infra/pulls", json={"head": "main", "base": "fix", "title": "Sync", "labels": [5]}
    )
    assert response.status_code == 201
    pull = response.json()
    assert pull["number"] == 2
    assert pull["base"]["repo"]["permissions"] == {"admin": False, "push": False, "pull": True}
    assert [label["name"] for label in pull["labels"]] == ["ops"]
