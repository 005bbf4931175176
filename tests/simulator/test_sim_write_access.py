"""What every write endpoint answers before it writes: token scopes, visibility, sign-in, archived
repositories, request bodies; and the request log recording the status answered."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from gitea_simulator import RecordedRequest, create_app

from .conftest import API, BASE_URL, Writable

SWAGGER = "http://gitea.test/api/swagger"
NOT_FOUND = {"errors": None, "message": "not found", "url": SWAGGER}
SOME_SHA = "0" * 40


@dataclass(frozen=True)
class Write:
    method: str
    path: str  # below /repos/{owner}/{repo}
    body: dict[str, Any] | None
    category: str  # the token scope category Gitea asks for

    def url(self, repo: str) -> str:
        return f"{API}/repos/{repo}{self.path}"

    async def send(self, http: httpx.AsyncClient, repo: str = "acme/app", **kwargs: Any) -> httpx.Response:
        if self.body is not None and not {"content", "json"} & kwargs.keys():
            kwargs["json"] = self.body
        return await http.request(self.method, self.url(repo), **kwargs)


WRITES = {
    "create-issue": Write("POST", "/issues", {"title": "T"}, "issue"),
    "edit-issue": Write("PATCH", "/issues/1", {"title": "T"}, "issue"),
    "comment": Write("POST", "/issues/1/comments", {"body": "B"}, "issue"),
    "add-labels": Write("POST", "/issues/1/labels", {"labels": [1]}, "issue"),
    "remove-label": Write("DELETE", "/issues/1/labels/1", None, "issue"),
    "create-branch": Write("POST", "/branches", {"new_branch_name": "topic"}, "repository"),
    "create-file": Write("POST", "/contents/new.txt", {"content": "aGkK"}, "repository"),
    "update-file": Write("PUT", "/contents/README.md", {"content": "aGkK", "sha": SOME_SHA}, "repository"),
    "delete-file": Write("DELETE", "/contents/README.md", {"sha": SOME_SHA}, "repository"),
    "create-pull": Write(
        "POST", "/pulls", {"head": "feature/login", "base": "main", "title": "T"}, "repository"
    ),
}
WITH_BODY = {name: write for name, write in WRITES.items() if write.body is not None}


def _scope_error(required: str, granted: str) -> dict[str, str]:
    return {
        "message": f"token does not have at least one of required scope(s), required=[{required}], "
        f"token scope={granted}",
        "url": SWAGGER,
    }


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
async def test_read_scopes_are_not_enough(writable: Writable, write: Write) -> None:
    async with writable.client(writable.read_token) as http:
        response = await write.send(http)
    assert response.status_code == 403
    assert response.json() == _scope_error(f"write:{write.category}", "read:issue,read:repository,read:user")


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
async def test_write_scope_of_the_other_category_is_not_enough(writable: Writable, write: Write) -> None:
    token, granted = (
        (writable.repo_token, "write:repository")
        if write.category == "issue"
        else (writable.issue_token, "write:issue")
    )
    async with writable.client(token) as http:
        response = await write.send(http)
        unknown_repo = await write.send(http, "nobody/nothing")
    assert response.status_code == unknown_repo.status_code == 403  # scope is checked before the lookup
    assert response.json() == unknown_repo.json() == _scope_error(f"write:{write.category}", granted)


@pytest.mark.parametrize("repo", ["other/secret", "nobody/nothing", "acme/nothing"])
@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
async def test_unknown_or_unreadable_repo_is_404(writer: httpx.AsyncClient, write: Write, repo: str) -> None:
    response = await write.send(writer, repo)
    assert response.status_code == 404
    assert response.json() == NOT_FOUND


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
async def test_anonymous_writes_need_a_token(writable: Writable, write: Write) -> None:
    async with writable.client(None) as http:
        public = await write.send(http, "acme/app")
        private = await write.send(http, "acme/private-notes")
    assert public.status_code == 401
    assert public.json() == {"message": "token is required", "url": SWAGGER}
    assert private.status_code == 404  # an anonymous caller cannot see it at all


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
async def test_public_only_token_cannot_write_private_repos(writable: Writable, write: Write) -> None:
    async with writable.client(writable.public_only_token) as http:
        response = await write.send(http, "acme/private-notes")
    noun = "issues" if write.category == "issue" else "repos"
    assert response.status_code == 403
    assert response.json() == {"message": f"token scope is limited to public {noun}", "url": SWAGGER}


@pytest.mark.parametrize("write", WRITES.values(), ids=WRITES.keys())
async def test_archived_repo_refuses_writes_with_423(writable: Writable, write: Write) -> None:
    writable.archive("acme/app")
    before = writable.git("acme/app", "for-each-ref")
    async with writable.client(writable.token) as http:
        response = await write.send(http)
        repo = (await http.get(f"{API}/repos/acme/app")).json()
    assert response.status_code == 423
    assert response.json() == {"message": "<Repository 1:acme/app> is archived", "url": SWAGGER}
    assert repo["archived"] is True
    assert writable.git("acme/app", "for-each-ref") == before


@pytest.mark.parametrize(
    ("content", "headers", "message"),
    [
        pytest.param(
            b"{bad", {}, "[]: invalid character 'b' looking for beginning of object key string", id="syntax"
        ),
        pytest.param(b'{"title": "x"', {}, "[]: unexpected EOF", id="truncated"),
        pytest.param(
            b"[1, 2]", {}, "[]: json: cannot unmarshal array into Go value of type structs.{type}", id="array"
        ),
        pytest.param(
            b'"text"',
            {},
            "[]: json: cannot unmarshal string into Go value of type structs.{type}",
            id="string",
        ),
        pytest.param(b"{}", {"content-type": ""}, "[]: Empty Content-Type", id="no-content-type"),
        pytest.param(b"{}", {"content-type": "text/plain"}, "[]: Unsupported Content-Type", id="not-json"),
    ],
)
@pytest.mark.parametrize("write", WITH_BODY.values(), ids=WITH_BODY.keys())
async def test_malformed_bodies_are_422(
    writer: httpx.AsyncClient, write: Write, content: bytes, headers: dict[str, str], message: str
) -> None:
    go_types = {
        "/issues": "CreateIssueOption",
        "/issues/1": "EditIssueOption",
        "/issues/1/comments": "CreateIssueCommentOption",
        "/issues/1/labels": "IssueLabelsOption",
        "/branches": "CreateBranchRepoOption",
        "/pulls": "CreatePullRequestOption",
    }
    go_type = go_types.get(write.path) or {"POST": "CreateFileOptions", "PUT": "UpdateFileOptions"}.get(
        write.method, "DeleteFileOptions"
    )
    response = await write.send(
        writer, content=content, headers={"content-type": "application/json", **headers}
    )
    assert response.status_code == 422
    assert response.json() == {"message": message.format(type=go_type), "url": SWAGGER}


@pytest.mark.parametrize(
    ("write", "body", "message"),
    [
        (
            WRITES["create-issue"],
            {"title": 1},
            "number into Go struct field CreateIssueOption.title of type string",
        ),
        (
            WRITES["create-issue"],
            {"title": "x", "labels": ["bug"]},
            "string into Go struct field CreateIssueOption.labels of type int64",
        ),
        (
            WRITES["create-issue"],
            {"title": "x", "closed": "yes"},
            "string into Go struct field CreateIssueOption.closed of type bool",
        ),
        (
            WRITES["edit-issue"],
            {"state": 1},
            "number into Go struct field EditIssueOption.state of type string",
        ),
        (
            WRITES["comment"],
            {"body": ["x"]},
            "array into Go struct field CreateIssueCommentOption.body of type string",
        ),
        (
            WRITES["add-labels"],
            {"labels": "bug"},
            "string into Go struct field IssueLabelsOption.labels of type []interface {}",
        ),
        (
            WRITES["create-branch"],
            {"new_branch_name": True},
            "bool into Go struct field CreateBranchRepoOption.new_branch_name of type string",
        ),
        (
            WRITES["create-file"],
            {"content": 5},
            "number into Go struct field CreateFileOptions.content of type string",
        ),
        (
            WRITES["update-file"],
            {"content": "", "sha": 1},
            "number into Go struct field UpdateFileOptions.sha of type string",
        ),
        (
            WRITES["delete-file"],
            {"sha": "x", "branch": {}},
            "object into Go struct field DeleteFileOptions.branch of type string",
        ),
        (
            WRITES["create-pull"],
            {"head": "a", "base": "b", "title": "t", "milestone": "1"},
            "string into Go struct field CreatePullRequestOption.milestone of type int64",
        ),
    ],
)
async def test_wrong_types_are_422_like_go(
    writer: httpx.AsyncClient, write: Write, body: dict[str, Any], message: str
) -> None:
    response = await write.send(writer, json=body)
    assert response.status_code == 422
    assert response.json() == {"message": f"[]: json: cannot unmarshal {message}", "url": SWAGGER}


async def test_numbers_that_are_not_int64_name_the_literal(writer: httpx.AsyncClient) -> None:
    for literal in ("1.5", "1e2", "99999999999999999999"):
        response = await writer.post(
            f"{API}/repos/acme/app/issues",
            content=f'{{"title": "x", "labels": [{literal}]}}'.encode(),
            headers={"content-type": "application/json"},
        )
        assert response.json()["message"] == (
            f"[]: json: cannot unmarshal number {literal} into Go struct field "
            "CreateIssueOption.labels of type int64"
        )


async def test_unknown_fields_are_ignored_and_keys_match_case_insensitively(
    writer: httpx.AsyncClient,
) -> None:
    response = await writer.post(
        f"{API}/repos/acme/app/issues",
        content=b'{"TITLE": "Upper", "whatever": {"x": [1]}, "body": null} trailing data is ignored too',
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201
    assert (response.json()["title"], response.json()["body"]) == ("Upper", "")


@pytest.mark.parametrize(
    ("write", "body", "field"),
    [
        (WRITES["create-issue"], {}, "Title"),
        (WRITES["create-issue"], {"title": ""}, "Title"),
        (WRITES["comment"], {"body": ""}, "Body"),
        (WRITES["create-branch"], {"old_ref_name": "main"}, "BranchName"),
        (WRITES["delete-file"], {}, "SHA"),
        (WRITES["create-pull"], {"title": "t"}, "Head"),
        (WRITES["create-pull"], {"head": "a", "title": "t"}, "Base"),
        (WRITES["create-pull"], {"head": "a", "base": "b"}, "Title"),
    ],
)
async def test_required_fields(
    writer: httpx.AsyncClient, write: Write, body: dict[str, Any], field: str
) -> None:
    response = await write.send(writer, json=body)
    assert response.status_code == 422
    assert response.json() == {"message": f"[{field}]: Required", "url": SWAGGER}


async def test_empty_body_binds_as_no_fields(writer: httpx.AsyncClient) -> None:
    response = await writer.post(
        f"{API}/repos/acme/app/issues", content=b" \n", headers={"content-type": "application/json"}
    )
    assert response.json() == {"message": "[Title]: Required", "url": SWAGGER}


async def test_statuses_are_recorded_in_memory_and_in_the_request_log(
    writable: Writable, tmp_path: Path
) -> None:
    log = tmp_path / "requests.jsonl"
    app = create_app(writable.state_dir, request_log=log)
    transport = httpx.ASGITransport(app=app)
    headers = {"Authorization": f"token {writable.token}"}
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as http:
        await http.post(f"{API}/repos/acme/app/issues", json={"title": "x"})
        await http.post(f"{API}/repos/acme/app/contents/x.txt", json={"content": "", "force_push": True})
        await http.delete(f"{API}/repos/acme/app/issues/1/labels/1")
        await http.get(f"{API}/repos/acme/app/nothing")
    expected = [
        RecordedRequest("POST", "/api/v1/repos/acme/app/issues", "", auth_given=True, status=201),
        RecordedRequest("POST", "/api/v1/repos/acme/app/contents/x.txt", "", auth_given=True, status=422),
        RecordedRequest(
            "DELETE", "/api/v1/repos/acme/app/issues/1/labels/1", "", auth_given=True, status=204
        ),
        RecordedRequest("GET", "/api/v1/repos/acme/app/nothing", "", auth_given=True, status=404),
    ]
    assert app.state.requests == expected
    lines = [json.loads(line) for line in log.read_text().splitlines()]
    assert lines == [
        {"method": r.method, "path": r.path, "query": r.query, "auth_given": r.auth_given, "status": r.status}
        for r in expected
    ]


async def test_a_failing_handler_is_recorded_as_500(
    writable: Writable, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("gitea_simulator._routes_issue_writes.open_issue", broken)
    app = create_app(writable.state_dir)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    headers = {"Authorization": f"token {writable.token}"}
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as http:
        response = await http.post(f"{API}/repos/acme/app/issues", json={"title": "x"})
    assert response.status_code == 500
    assert response.json() == {"message": "", "url": SWAGGER}
    assert [request.status for request in app.state.requests] == [500]
