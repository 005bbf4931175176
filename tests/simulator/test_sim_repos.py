"""Version, repository search and lookup, the caller's repositories, routing."""

from __future__ import annotations

import httpx
import pytest

from .conftest import API

SWAGGER = "http://gitea.test/api/swagger"


async def test_version(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get(f"{API}/version")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json;charset=utf-8"
    assert response.json() == {"version": "1.26.4"}


async def test_get_repo_has_gitea_fields(client: httpx.AsyncClient) -> None:
    repo = (await client.get(f"{API}/repos/acme/app")).json()
    assert repo["full_name"] == "acme/app"
    assert repo["owner"]["login"] == "acme"
    assert repo["default_branch"] == "main"
    assert repo["private"] is False
    assert repo["html_url"] == "http://gitea.test/acme/app"
    assert repo["url"] == "http://gitea.test/api/v1/repos/acme/app"
    assert repo["clone_url"] == "http://gitea.test/acme/app.git"
    assert repo["permissions"] == {"admin": False, "push": True, "pull": True}  # aegis-bot writes here
    assert repo["open_issues_count"] == 2
    assert repo["open_pr_counter"] == 2
    assert repo["created_at"] == "2026-01-05T09:00:00Z"
    assert "parent" not in repo


@pytest.mark.parametrize("path", ["ACME/APP", "Acme/app", "acme/App"])
async def test_owner_and_repo_names_are_case_insensitive(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(f"{API}/repos/{path}")
    assert response.status_code == 200
    assert response.json()["full_name"] == "acme/app"


async def test_search_lists_what_the_caller_can_see(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    mine = await client.get(f"{API}/repos/search")
    public = await anonymous.get(f"{API}/repos/search")
    assert mine.json()["ok"] is True
    assert [repo["full_name"] for repo in mine.json()["data"]] == [
        "acme/app",
        "acme/infra",
        "acme/private-notes",
    ]
    assert [repo["full_name"] for repo in public.json()["data"]] == ["acme/app", "acme/infra"]
    assert mine.headers["x-total-count"] == "3"
    assert public.headers["x-total-count"] == "2"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        pytest.param({"q": "INFRA"}, ["acme/infra"], id="q-case-insensitive"),
        pytest.param({"q": "planning"}, [], id="q-name-only"),
        pytest.param({"q": "planning", "includeDesc": "true"}, ["acme/private-notes"], id="q-description"),
        pytest.param({"private": "false"}, ["acme/app", "acme/infra"], id="private-excluded"),
        pytest.param({"is_private": "true"}, ["acme/private-notes"], id="only-private"),
        pytest.param(
            {"uid": "1", "exclusive": "true"}, ["acme/app", "acme/infra", "acme/private-notes"], id="uid"
        ),
        pytest.param({"uid": "2"}, [], id="uid-invisible-repos"),
        pytest.param(
            {"sort": "created", "order": "desc"}, ["acme/private-notes", "acme/infra", "acme/app"], id="sort"
        ),
    ],
)
async def test_search_filters(client: httpx.AsyncClient, params: dict[str, str], expected: list[str]) -> None:
    response = await client.get(f"{API}/repos/search", params=params)
    assert [repo["full_name"] for repo in response.json()["data"]] == expected


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"sort": "bogus"}, 'Invalid sort mode: "bogus"'),
        ({"sort": "alpha", "order": "sideways"}, 'Invalid sort order: "sideways"'),
    ],
)
async def test_search_rejects_bad_sort(
    client: httpx.AsyncClient, params: dict[str, str], message: str
) -> None:
    response = await client.get(f"{API}/repos/search", params=params)
    assert response.status_code == 422
    assert response.json() == {"message": message, "url": SWAGGER}


async def test_user_repos_are_the_collaborations(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/user/repos")
    assert response.status_code == 200
    assert [repo["full_name"] for repo in response.json()] == ["acme/app", "acme/infra", "acme/private-notes"]
    assert response.headers["x-total-count"] == "3"


async def test_owner_email_is_hidden_from_anonymous_callers(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient
) -> None:
    signed = (await client.get(f"{API}/repos/acme/app")).json()["owner"]
    anon = (await anonymous.get(f"{API}/repos/acme/app")).json()["owner"]
    assert signed["email"] == "ops@acme.example"
    assert anon["email"] == "acme@noreply.localhost"


@pytest.mark.parametrize(
    "path",
    ["/nope", "/repos/acme", "/repos/acme/app/unknown", "/repos/acme/app/", "/repos/acme/app/releases/1"],
)
async def test_unknown_routes_are_json_404(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(f"{API}{path}")
    assert response.status_code == 404
    assert response.json() == {"errors": None, "message": "not found", "url": SWAGGER}


async def test_write_methods_do_not_exist(client: httpx.AsyncClient) -> None:
    response = await client.delete(f"{API}/repos/acme/app")
    assert response.status_code == 405
    assert response.json()["url"] == SWAGGER
