"""Issue listing and single issues; pull requests are listed as issues unless ``type=issues``."""

from __future__ import annotations

import httpx
import pytest

from .conftest import API

APP = f"{API}/repos/acme/app"


@pytest.mark.parametrize(
    ("params", "numbers"),
    [
        pytest.param({}, [6, 4, 3, 1], id="open-by-default-with-prs"),
        pytest.param({"state": "closed"}, [5, 2], id="closed"),
        pytest.param({"state": "all"}, [5, 6, 4, 3, 2, 1], id="all"),
        pytest.param({"state": "bogus"}, [6, 4, 3, 1], id="unknown-state-is-open"),
        pytest.param({"type": "issues"}, [4, 1], id="issues-only"),
        pytest.param({"type": "pulls"}, [6, 3], id="pulls-only"),
        pytest.param({"labels": "bug"}, [4, 1], id="label"),
        pytest.param({"labels": "security,enhancement"}, [6, 4, 3], id="any-of-labels"),
        pytest.param({"labels": "no-such-label"}, [6, 4, 3, 1], id="unknown-labels-are-dropped"),
        pytest.param({"labels": "bug,no-such-label"}, [4, 1], id="known-labels-kept"),
        pytest.param({"q": "SECRETS"}, [6, 4], id="q-in-title"),
        pytest.param({"q": "exception"}, [1], id="q-in-body"),
        pytest.param({"q": "login", "state": "all", "type": "issues"}, [], id="q-with-type"),
    ],
)
async def test_issue_filters(client: httpx.AsyncClient, params: dict[str, str], numbers: list[int]) -> None:
    response = await client.get(f"{APP}/issues", params=params)
    assert response.status_code == 200
    assert [issue["number"] for issue in response.json()] == numbers
    assert response.headers["x-total-count"] == str(len(numbers))


async def test_pull_request_as_issue(client: httpx.AsyncClient) -> None:
    pull = (await client.get(f"{APP}/issues/3")).json()
    assert pull["pull_request"] == {
        "merged": False,
        "merged_at": None,
        "draft": False,
        "html_url": "http://gitea.test/acme/app/pulls/3",
    }
    assert pull["html_url"] == "http://gitea.test/acme/app/pulls/3"
    assert pull["url"] == f"{APP}/issues/3"


async def test_issue_json(client: httpx.AsyncClient) -> None:
    issue = (await client.get(f"{APP}/issues/2")).json()
    assert (issue["number"], issue["title"], issue["state"]) == (2, "Write a user guide", "closed")
    assert issue["closed_at"] == "2026-02-02T13:00:00Z"
    assert issue["pull_request"] is None
    assert issue["user"]["login"] == "alice"
    assert issue["labels"] == [
        {
            "id": 4,
            "name": "documentation",
            "exclusive": False,
            "is_archived": False,
            "color": "0075ca",
            "description": "Docs only",
            "url": f"{APP}/labels/4",
        }
    ]
    assert issue["comments"] == 1
    assert issue["repository"] == {"id": 1, "name": "app", "owner": "acme", "full_name": "acme/app"}


@pytest.mark.parametrize("index", ["99", "0", "abc", "-1"])
async def test_missing_issue_is_404(client: httpx.AsyncClient, index: str) -> None:
    response = await client.get(f"{APP}/issues/{index}")
    assert response.status_code == 404
    assert response.json() == {"errors": None, "message": "not found", "url": "http://gitea.test/api/swagger"}


async def test_issues_of_private_repo_for_collaborator(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/repos/acme/private-notes/issues")
    assert [issue["title"] for issue in response.json()] == ["Plan Q2"]
