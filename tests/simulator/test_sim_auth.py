"""Authentication, token scopes, visibility of private repositories and the request log."""

from __future__ import annotations

import httpx
import pytest
from gitea_simulator import RecordedRequest
from starlette.applications import Starlette

from .conftest import API, ClientFactory, Seeded

SWAGGER = "http://gitea.test/api/swagger"
NOT_FOUND = {"errors": None, "message": "not found", "url": SWAGGER}


@pytest.mark.parametrize(
    "header_or_query",
    [
        pytest.param({"headers": {"Authorization": "token {t}"}}, id="token-scheme"),
        pytest.param({"headers": {"Authorization": "Bearer {t}"}}, id="bearer-scheme"),
        pytest.param({"headers": {"Authorization": "TOKEN {t}"}}, id="scheme-case-insensitive"),
        pytest.param({"params": {"token": "{t}"}}, id="token-query"),
        pytest.param({"params": {"access_token": "{t}"}}, id="access-token-query"),
    ],
)
async def test_every_credential_form_authenticates(
    anonymous: httpx.AsyncClient, seeded: Seeded, header_or_query: dict[str, dict[str, str]]
) -> None:
    kwargs = {
        key: {k: v.format(t=seeded.seed.token) for k, v in value.items()}
        for key, value in header_or_query.items()
    }
    response = await anonymous.get(f"{API}/repos/acme/private-notes", **kwargs)  # type: ignore[arg-type]
    assert response.status_code == 200
    assert response.json()["full_name"] == "acme/private-notes"


@pytest.mark.parametrize("token", ["0" * 40, "not-a-token", "x"])
async def test_unknown_token_is_401_with_gitea_text(client_with: ClientFactory, token: str) -> None:
    async with client_with(token) as http:
        response = await http.get(f"{API}/version")
    assert response.status_code == 401
    assert response.json() == {"message": "user does not exist [uid: 0, name: ]", "url": SWAGGER}


async def test_unknown_authorization_scheme_is_anonymous(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get(
        f"{API}/repos/acme/private-notes", headers={"Authorization": "Basic Zm9vOmJhcg=="}
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("token_attr", "path", "required"),
    [
        pytest.param(
            "issue_only_token", "/repos/acme/app", "read:repository", id="repo-needs-read-repository"
        ),
        pytest.param(
            "issue_only_token", "/repos/acme/app/contents/README.md", "read:repository", id="contents"
        ),
        pytest.param("issue_only_token", "/repos/search", "read:repository", id="search"),
        pytest.param(
            "issue_only_token", "/repos/nobody/nothing", "read:repository", id="scope-before-lookup"
        ),
        pytest.param("issue_only_token", "/repos/acme/app/tags", "read:repository", id="tags"),
        pytest.param("issue_only_token", "/repos/acme/app/releases", "read:repository", id="releases"),
        pytest.param(
            "issue_only_token", "/repos/acme/app/compare/main...main", "read:repository", id="compare"
        ),
        pytest.param(
            "issue_only_token", "/repos/acme/app/git/commits/main.diff", "read:repository", id="diff"
        ),
        pytest.param("issue_only_token", "/repos/acme/app/pulls", "read:repository", id="pulls"),
        pytest.param("issue_only_token", "/repos/acme/app/pulls/6", "read:repository", id="pull"),
        pytest.param("issue_only_token", "/repos/acme/app/pulls/6/files", "read:repository", id="pull-files"),
        pytest.param("issue_only_token", "/repos/acme/app/pulls/6.patch", "read:repository", id="pull-patch"),
        pytest.param("repo_only_token", "/repos/acme/app/issues", "read:issue", id="issues-need-read-issue"),
        pytest.param("repo_only_token", "/repos/acme/app/issues/1", "read:issue", id="issue"),
        pytest.param("repo_only_token", "/user/repos", "read:user", id="user-repos-need-read-user"),
    ],
)
async def test_missing_scope_is_403_naming_it(
    client_with: ClientFactory, seeded: Seeded, token_attr: str, path: str, required: str
) -> None:
    token = getattr(seeded, token_attr)
    granted = "read:issue" if token_attr == "issue_only_token" else "read:repository"
    async with client_with(token) as http:
        response = await http.get(f"{API}{path}")
    assert response.status_code == 403
    assert response.json() == {
        "message": f"token does not have at least one of required scope(s), required=[{required}], "
        f"token scope={granted}",
        "url": SWAGGER,
    }


async def test_issue_token_reads_issues_without_repository_scope(
    client_with: ClientFactory, seeded: Seeded
) -> None:
    async with client_with(seeded.issue_only_token) as http:
        response = await http.get(f"{API}/repos/acme/app/issues/1")
    assert response.status_code == 200


async def test_version_needs_no_scope(client_with: ClientFactory, seeded: Seeded) -> None:
    async with client_with(seeded.issue_only_token) as http:
        response = await http.get(f"{API}/version")
    assert response.json() == {"version": "1.26.4"}


async def test_user_repos_needs_a_token(anonymous: httpx.AsyncClient) -> None:
    response = await anonymous.get(f"{API}/user/repos")
    assert response.status_code == 401
    assert response.json() == {"message": "token is required", "url": SWAGGER}


@pytest.mark.parametrize(
    "path",
    [
        "/repos/other/secret",
        "/repos/other/secret/contents/secret.txt",
        "/repos/other/secret/raw/secret.txt",
        "/repos/other/secret/issues",
        "/repos/other/secret/commits",
        "/repos/other/secret/branches/main",
        "/repos/other/secret/git/trees/main",
        "/repos/other/secret/git/commits/main.diff",
        "/repos/other/secret/tags",
        "/repos/other/secret/releases",
        "/repos/other/secret/compare/main...main",
        "/repos/other/secret/pulls",
        "/repos/other/secret/pulls/1",
        "/repos/other/secret/pulls/1/files",
        "/repos/other/secret/pulls/1.diff",
    ],
)
async def test_private_repo_of_others_is_indistinguishable_from_missing(
    client: httpx.AsyncClient, path: str
) -> None:
    hidden = await client.get(f"{API}{path}")
    missing = await client.get(f"{API}{path.replace('other/secret', 'other/no-such-repo')}")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json() == NOT_FOUND


async def test_anonymous_sees_public_repos_only(anonymous: httpx.AsyncClient) -> None:
    assert (await anonymous.get(f"{API}/repos/acme/app")).status_code == 200
    assert (await anonymous.get(f"{API}/repos/acme/private-notes")).json() == NOT_FOUND


async def test_collaborator_sees_private_repo_read_only(client: httpx.AsyncClient) -> None:
    repo = (await client.get(f"{API}/repos/acme/private-notes")).json()
    assert repo["private"] is True
    assert repo["permissions"] == {"admin": False, "push": False, "pull": True}


async def test_public_only_token_is_refused_on_private_repos(
    client_with: ClientFactory, seeded: Seeded
) -> None:
    async with client_with(seeded.public_only_token) as http:
        code = await http.get(f"{API}/repos/acme/private-notes")
        issues = await http.get(f"{API}/repos/acme/private-notes/issues")
        search = await http.get(f"{API}/repos/search")
    assert code.status_code == issues.status_code == 403
    assert code.json()["message"] == "token scope is limited to public repos"
    assert issues.json()["message"] == "token scope is limited to public issues"
    assert [repo["full_name"] for repo in search.json()["data"]] == ["acme/app", "acme/infra"]


@pytest.mark.parametrize(
    "path", ["/pulls", "/pulls/1", "/tags", "/releases", "/compare/main", "/git/commits/main.patch"]
)
async def test_repository_reads_need_only_the_repository_scope(
    client_with: ClientFactory, seeded: Seeded, path: str
) -> None:
    async with client_with(seeded.repo_only_token) as http:
        notes = await http.get(f"{API}/repos/acme/private-notes{path.replace('/1', '/99')}")
    async with client_with(seeded.public_only_token) as http:
        refused = await http.get(f"{API}/repos/acme/private-notes{path}")
    assert notes.status_code == (404 if "/pulls/" in path else 200)  # private-notes has no pull requests
    assert refused.status_code == 403
    assert refused.json()["message"] == "token scope is limited to public repos"


async def test_every_request_is_recorded_without_credentials(
    app: Starlette, client: httpx.AsyncClient, anonymous: httpx.AsyncClient, seeded: Seeded
) -> None:
    await client.get(f"{API}/repos/acme/app/contents/README.md", params={"ref": "main"})
    await anonymous.get(f"{API}/version")
    await anonymous.get(f"{API}/repos/acme/app", params={"token": seeded.seed.token})
    await anonymous.post(f"{API}/repos/acme/app/issues", json={"title": "x"})
    await anonymous.get(f"{API}/repos/acme/app/raw/README.md?ref=main&access_token={seeded.seed.token}&x=1")
    assert app.state.requests == [
        RecordedRequest("GET", "/api/v1/repos/acme/app/contents/README.md", "ref=main", True, status=200),
        RecordedRequest("GET", "/api/v1/version", "", auth_given=False, status=200),
        RecordedRequest("GET", "/api/v1/repos/acme/app", "token=***", auth_given=True, status=200),
        RecordedRequest("POST", "/api/v1/repos/acme/app/issues", "", auth_given=False, status=401),
        RecordedRequest(
            "GET", "/api/v1/repos/acme/app/raw/README.md", "ref=main&access_token=***&x=1", True, status=200
        ),
    ]
    assert all(seeded.seed.token not in repr(request) for request in app.state.requests)
