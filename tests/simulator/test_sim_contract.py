"""The simulator's answers checked against Gitea's own Swagger 2.0 description (v1.26.4), with schemathesis.

The spec is vendored unchanged in tests/contracts/ (its SHA-256 is pinned below). Where the real server
differs from its spec (shared/gitea/README.md), the simulator follows the server and this test checks the
server's shape instead:

- Go marshals nil pointers and nil slices as ``null`` but go-swagger does not mark such fields
  ``x-nullable``; GO_NULLABLE lists exactly the fields Gitea sends as null, and only those are relaxed
  (in memory, never in the vendored file).
- A directory's contents are an array: checked against the ContentsListResponse of ``GET /contents``.
- Error bodies are JSON ``{"message", "url"}`` (404: plus ``errors``): checked against ERROR_BODY; a few
  refusals are the status alone, with no body, as Gitea's ``ctx.Status(403)``.

The writes are checked the same way, each on a fresh copy of the demo state (WRITE_CASES): their
successes against the spec's schemas, their errors against ERROR_BODY, every status among the documented.
"""

from __future__ import annotations

import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import schemathesis
from gitea_simulator import add_token
from gitea_simulator._demo import FIXTURE_2K
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.schemas import OpenApiSchema

from .conftest import API, ClientFactory, Seeded, Writable

CONTRACT = Path(__file__).resolve().parents[1] / "contracts" / "gitea-swagger.v1.json"
PINNED_SHA256 = "0b69d8398ae3557ff8480c55ee3abebd21131ddac39c23621264a69f13cd893d"

GO_NULLABLE: dict[str, tuple[str, ...]] = {
    "ContentsResponse": (
        "encoding",
        "content",
        "target",
        "html_url",
        "git_url",
        "download_url",
        "submodule_git_url",
    ),
    "FileLinksResponse": ("git", "html"),
    "Commit": ("author", "committer", "files", "stats"),
    "RepoCommit": ("verification",),
    "PayloadCommitVerification": ("signer",),
    "PayloadCommit": ("added", "removed", "modified"),
    "Issue": ("milestone", "assignee", "assignees", "closed_at", "due_date", "pull_request"),
    "PullRequestMeta": ("merged_at",),
    "GitTreeResponse": ("tree",),
    "PullRequest": (
        "milestone",
        "assignee",
        "merged_at",
        "merge_commit_sha",
        "merged_by",
        "due_date",
        "closed_at",
    ),
}

# The git blob id of src/fixture_2k.txt: git hashes "blob <size>", a NUL and the content.
FIXTURE_2K_BLOB = hashlib.sha1(b"blob %d\0" % len(FIXTURE_2K) + FIXTURE_2K, usedforsecurity=False).hexdigest()

ERROR_BODY = {
    "type": "object",
    "properties": {
        "message": {"type": "string"},
        "url": {"type": "string", "pattern": "^http://gitea\\.test/api/swagger$"},
        "errors": {"type": ["array", "null"], "items": {"type": "string"}},
    },
    "required": ["message", "url"],
    "additionalProperties": False,
}

# (spec path, request path and query, status): every answer is validated against the spec's schema.
_EXT = "/repos/{owner}/{repo}/contents-ext/{filepath}"
CASES = [
    ("/version", "/version", 200),
    ("/repos/search", "/repos/search?limit=2", 200),
    ("/repos/search", "/repos/search?q=app", 200),
    ("/user/repos", "/user/repos", 200),
    ("/repos/{owner}/{repo}", "/repos/acme/app", 200),
    ("/repos/{owner}/{repo}", "/repos/acme/private-notes", 200),
    ("/repos/{owner}/{repo}/branches", "/repos/acme/app/branches", 200),
    ("/repos/{owner}/{repo}/branches/{branch}", "/repos/acme/app/branches/main", 200),
    ("/repos/{owner}/{repo}/git/trees/{sha}", "/repos/acme/app/git/trees/main", 200),
    ("/repos/{owner}/{repo}/git/trees/{sha}", "/repos/acme/infra/git/trees/main?recursive=1", 200),
    ("/repos/{owner}/{repo}/git/trees/{sha}", "/repos/acme/app/git/trees/main?page=99", 200),
    ("/repos/{owner}/{repo}/contents/{filepath}", "/repos/acme/app/contents/src/fixture_2k.txt", 200),
    ("/repos/{owner}/{repo}/contents/{filepath}", "/repos/acme/app/contents/docs/latest.md", 200),
    ("/repos/{owner}/{repo}/contents/{filepath}", "/repos/acme/infra/contents/vendor/charts", 200),
    ("/repos/{owner}/{repo}/contents", "/repos/acme/app/contents?ref=v0.1.0", 200),
    ("/repos/{owner}/{repo}/contents", "/repos/acme/infra/contents", 200),
    (_EXT, "/repos/acme/app/contents-ext/src/fixture_2k.txt", 200),
    (
        _EXT,
        "/repos/acme/app/contents-ext/README.md?includes=file_content,commit_metadata,commit_message",
        200,
    ),
    (_EXT, "/repos/acme/app/contents-ext/docs/latest.md", 200),
    (_EXT, "/repos/acme/infra/contents-ext/vendor/charts", 200),
    (_EXT, "/repos/acme/app/contents-ext/src?ref=v0.1.0", 200),
    (_EXT, "/repos/acme/app/contents-ext/src?includes=commit_metadata", 200),
    ("/repos/{owner}/{repo}/raw/{filepath}", "/repos/acme/app/raw/README.md", 200),
    ("/repos/{owner}/{repo}/git/blobs/{sha}", f"/repos/acme/app/git/blobs/{FIXTURE_2K_BLOB}", 200),
    ("/repos/{owner}/{repo}/commits", "/repos/acme/app/commits", 200),
    (
        "/repos/{owner}/{repo}/commits",
        "/repos/acme/app/commits?stat=false&files=false&verification=false",
        200,
    ),
    ("/repos/{owner}/{repo}/commits", "/repos/acme/app/commits?path=src&sha=feature/login", 200),
    ("/repos/{owner}/{repo}/git/commits/{sha}", "/repos/acme/app/git/commits/main", 200),
    ("/repos/{owner}/{repo}/issues", "/repos/acme/app/issues?state=all", 200),
    ("/repos/{owner}/{repo}/issues", "/repos/acme/app/issues?type=pulls", 200),
    ("/repos/{owner}/{repo}/issues/{index}", "/repos/acme/app/issues/2", 200),
    ("/repos/{owner}/{repo}/issues/{index}", "/repos/acme/app/issues/3", 200),
    ("/repos/{owner}/{repo}/tags", "/repos/acme/app/tags", 200),
    ("/repos/{owner}/{repo}/tags", "/repos/acme/app/tags?page=2&limit=1", 200),
    ("/repos/{owner}/{repo}/releases", "/repos/acme/app/releases", 200),
    ("/repos/{owner}/{repo}/releases", "/repos/acme/app/releases?draft=true&limit=1", 200),
    ("/repos/{owner}/{repo}/compare/{basehead}", "/repos/acme/app/compare/main...feature/login", 200),
    ("/repos/{owner}/{repo}/compare/{basehead}", "/repos/acme/app/compare/v0.1.0..main?files=false", 200),
    ("/repos/{owner}/{repo}/pulls", "/repos/acme/app/pulls?state=all", 200),
    ("/repos/{owner}/{repo}/pulls", "/repos/acme/app/pulls?state=closed", 200),
    ("/repos/{owner}/{repo}/pulls/{index}", "/repos/acme/app/pulls/6", 200),
    ("/repos/{owner}/{repo}/pulls/{index}/files", "/repos/acme/app/pulls/6/files", 200),
    ("/repos/{owner}/{repo}/pulls/{index}/files", "/repos/acme/app/pulls/3/files?limit=1&page=2", 200),
    ("/repos/{owner}/{repo}", "/repos/other/secret", 404),
    ("/repos/{owner}/{repo}/contents/{filepath}", "/repos/acme/app/contents/nope", 404),
    (_EXT, "/repos/acme/app/contents-ext/nope", 404),
    (_EXT, "/repos/acme/app/contents-ext/README.md?ref=nope", 404),
    ("/repos/{owner}/{repo}/issues/{index}", "/repos/acme/app/issues/99", 404),
    ("/repos/{owner}/{repo}/tags", "/repos/other/secret/tags", 404),
    ("/repos/{owner}/{repo}/releases", "/repos/other/secret/releases", 404),
    ("/repos/{owner}/{repo}/compare/{basehead}", "/repos/acme/app/compare/main...nope", 404),
    ("/repos/{owner}/{repo}/compare/{basehead}", "/repos/acme/app/compare/main^...feature/login", 404),
    ("/repos/{owner}/{repo}/pulls", "/repos/other/secret/pulls", 404),
    ("/repos/{owner}/{repo}/pulls/{index}", "/repos/acme/app/pulls/1", 404),
    ("/repos/{owner}/{repo}/pulls/{index}/files", "/repos/acme/app/pulls/99/files", 404),
    ("/repos/{owner}/{repo}/git/trees/{sha}", "/repos/acme/app/git/trees/nope", 400),
    ("/repos/{owner}/{repo}/git/blobs/{sha}", "/repos/acme/app/git/blobs/main", 400),
    ("/repos/{owner}/{repo}/git/commits/{sha}", "/repos/acme/app/git/commits/main~1", 422),
    ("/repos/search", "/repos/search?sort=bogus", 422),
]


def test_vendored_spec_is_gitea_1_26_4_unchanged() -> None:
    assert hashlib.sha256(CONTRACT.read_bytes()).hexdigest() == PINNED_SHA256
    spec = json.loads(CONTRACT.read_text(encoding="utf-8"))
    assert (spec["swagger"], spec["info"]["version"], spec["basePath"]) == ("2.0", "1.26.4", "/api/v1")


def _spec(*, go_nulls: bool) -> dict[str, Any]:
    spec: dict[str, Any] = json.loads(CONTRACT.read_text(encoding="utf-8"))
    if go_nulls:
        for definition, names in GO_NULLABLE.items():
            for name in names:
                spec["definitions"][definition]["properties"][name]["x-nullable"] = True
    return spec


@pytest.fixture(scope="module")
def raw_spec() -> dict[str, Any]:
    return _spec(go_nulls=False)


@pytest.fixture(scope="module")
def schema() -> OpenApiSchema:
    return schemathesis.openapi.from_dict(_spec(go_nulls=True))


def test_relaxed_fields_exist_and_are_not_nullable_in_the_spec(raw_spec: dict[str, Any]) -> None:
    for definition, names in GO_NULLABLE.items():
        properties = raw_spec["definitions"][definition]["properties"]
        for name in names:
            assert name in properties, f"{definition}.{name}"
            assert "x-nullable" not in properties[name]


def _is_directory(response: httpx.Response) -> bool:
    if not response.headers["content-type"].startswith("application/json"):
        return False
    body = response.json()
    return isinstance(body, list) and all(isinstance(item, dict) and "_links" in item for item in body)


def _violations(operation: APIOperation[Any], response: httpx.Response) -> list[str]:
    """What schemathesis finds wrong with ``response`` (one message per failure)."""
    try:
        operation.validate_response(response)
    except FailureGroup as group:
        return [str(failure) for failure in group.exceptions]
    except Failure as failure:
        return [str(failure)]
    return []


@pytest.mark.parametrize(("spec_path", "path", "status"), CASES, ids=[case[1] for case in CASES])
async def test_answers_conform_to_the_spec(
    schema: OpenApiSchema, client: httpx.AsyncClient, spec_path: str, path: str, status: int
) -> None:
    response = await client.get(f"{API}{path}")
    assert response.status_code == status, response.text
    operation = schema[spec_path]["GET"]
    if status >= 400:
        jsonschema.validate(response.json(), ERROR_BODY)
        assert ("errors" in response.json()) == (status == 404)
    elif spec_path.endswith("/contents/{filepath}") and _is_directory(response):
        operation = schema["/repos/{owner}/{repo}/contents"][
            "GET"
        ]  # the server answers a directory as a list
    assert _violations(operation, response) == []


async def test_directory_contents_conform_as_a_list(schema: OpenApiSchema, client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/repos/acme/app/contents/src")
    assert _is_directory(response)
    assert _violations(schema["/repos/{owner}/{repo}/contents"]["GET"], response) == []
    [violation] = _violations(schema["/repos/{owner}/{repo}/contents/{filepath}"]["GET"], response)
    assert 'is not of type "object"' in violation


async def test_without_go_nulls_the_spec_rejects_gitea_answers(client: httpx.AsyncClient) -> None:
    strict = schemathesis.openapi.from_dict(_spec(go_nulls=False))
    response = await client.get(f"{API}/repos/acme/app/contents/README.md")
    violations = _violations(strict["/repos/{owner}/{repo}/contents/{filepath}"]["GET"], response)
    assert violations
    assert all('null is not of type "string"' in violation for violation in violations)


async def test_a_wrong_answer_is_caught(schema: OpenApiSchema, client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/repos/acme/app")
    broken = copy.deepcopy(response.json())
    broken["owner"]["id"] = "one"
    forged = httpx.Response(200, json=broken, request=response.request)
    forged.elapsed = response.elapsed
    [violation] = _violations(schema["/repos/{owner}/{repo}"]["GET"], forged)
    assert "'one' is not of type 'integer'" in violation or '"one" is not of type "integer"' in violation


_HEADER_TYPES = {"integer": str.isdigit, "boolean": lambda value: value in ("true", "false")}
_PAGE_HEADERS = {"X-HasMore", "X-Page", "X-PageCount", "X-PerPage", "X-Total"}


@pytest.mark.parametrize(
    ("response_name", "path", "sent"),
    [
        ("CommitList", "/repos/acme/app/commits", _PAGE_HEADERS),
        ("ChangedFileList", "/repos/acme/app/pulls/6/files", _PAGE_HEADERS - {"X-Total"}),  # as Gitea
    ],
)
async def test_history_headers_follow_the_spec(
    raw_spec: dict[str, Any], client: httpx.AsyncClient, response_name: str, path: str, sent: set[str]
) -> None:
    response = await client.get(f"{API}{path}", params={"limit": 1})
    declared = raw_spec["responses"][response_name]["headers"]
    assert set(declared) == _PAGE_HEADERS
    for name in sent:
        assert _HEADER_TYPES[declared[name]["type"]](response.headers[name]), (name, response.headers[name])
    assert not (set(declared) - sent) & set(response.headers)


_COMMIT_DIFF = "/repos/{owner}/{repo}/git/commits/{sha}.{diffType}"
_PULL_DIFF = "/repos/{owner}/{repo}/pulls/{index}.{diffType}"

# (spec path, request path, status): the text answers (#/responses/string) and their JSON errors.
TEXT_CASES = [
    (_COMMIT_DIFF, "/repos/acme/app/git/commits/main.diff", 200),
    (_COMMIT_DIFF, "/repos/acme/app/git/commits/v0.1.0.patch", 200),
    (_PULL_DIFF, "/repos/acme/app/pulls/6.diff", 200),
    (_PULL_DIFF, "/repos/acme/app/pulls/3.patch?binary=true", 200),
    (_COMMIT_DIFF, "/repos/acme/app/git/commits/0123456789abcdef0123456789abcdef01234567.diff", 404),
    (_PULL_DIFF, "/repos/acme/app/pulls/1.diff", 404),
    (_PULL_DIFF, "/repos/other/secret/pulls/1.patch", 404),
]


@pytest.mark.parametrize(("spec_path", "path", "status"), TEXT_CASES, ids=[case[1] for case in TEXT_CASES])
async def test_text_answers_conform_to_the_spec(
    schema: OpenApiSchema,
    raw_spec: dict[str, Any],
    client: httpx.AsyncClient,
    spec_path: str,
    path: str,
    status: int,
) -> None:
    response = await client.get(f"{API}{path}")
    assert response.status_code == status, response.text
    declared = raw_spec["paths"][spec_path]["get"]
    assert declared["produces"] == ["text/plain"]
    assert str(status) in declared["responses"]
    if status >= 400:
        jsonschema.validate(response.json(), ERROR_BODY)
        return
    assert declared["responses"]["200"] == {"$ref": "#/responses/string"}
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text.startswith(("diff --git ", "From "))
    assert _violations(schema[spec_path]["GET"], response) == []


async def test_anonymous_and_scoped_answers_conform(
    schema: OpenApiSchema, client_with: ClientFactory, seeded: Seeded
) -> None:
    async with client_with(None) as anonymous:
        repo = await anonymous.get(f"{API}/repos/acme/app")
        issues = await anonymous.get(f"{API}/repos/acme/app/issues")
    assert _violations(schema["/repos/{owner}/{repo}"]["GET"], repo) == []
    assert _violations(schema["/repos/{owner}/{repo}/issues"]["GET"], issues) == []
    async with client_with(seeded.issue_only_token) as scoped:
        denied = await scoped.get(f"{API}/repos/acme/app")
    assert denied.status_code == 403
    jsonschema.validate(denied.json(), ERROR_BODY)


_ISSUES = "/repos/{owner}/{repo}/issues"
_ISSUE = f"{_ISSUES}/{{index}}"
_FILE = "/repos/{owner}/{repo}/contents/{filepath}"
_README_SHA = "README_SHA"  # replaced by README.md's current blob id

# (spec path, method, request path, JSON body, status): answers of the writes, each on a fresh state.
WRITE_CASES: list[tuple[str, str, str, dict[str, Any] | None, int]] = [
    (_ISSUES, "POST", "/repos/acme/app/issues", {"title": "New", "labels": [1], "closed": True}, 201),
    (_ISSUES, "POST", "/repos/acme/app/issues", {}, 422),
    (_ISSUES, "POST", "/repos/other/secret/issues", {"title": "x"}, 404),
    (_ISSUE, "PATCH", "/repos/acme/app/issues/1", {"title": "T", "state": "closed"}, 201),
    (_ISSUE, "PATCH", "/repos/acme/app/issues/3", {"body": "pull request"}, 201),
    (_ISSUE, "PATCH", "/repos/acme/app/issues/1", {"state": "bogus"}, 412),
    (_ISSUE, "PATCH", "/repos/acme/app/issues/99", {"title": "T"}, 404),
    (f"{_ISSUE}/comments", "POST", "/repos/acme/app/issues/1/comments", {"body": "Hi"}, 201),
    (f"{_ISSUE}/comments", "POST", "/repos/acme/app/issues/3/comments", {"body": "On a pull"}, 201),
    (f"{_ISSUE}/comments", "POST", "/repos/acme/app/issues/99/comments", {"body": "Hi"}, 404),
    ("/repos/{owner}/{repo}/labels", "GET", "/repos/acme/app/labels?limit=2", None, 200),
    (f"{_ISSUE}/labels", "POST", "/repos/acme/app/issues/1/labels", {"labels": ["security"]}, 200),
    (f"{_ISSUE}/labels", "POST", "/repos/acme/infra/issues/1/labels", {"labels": [5]}, 403),
    (f"{_ISSUE}/labels", "DELETE", "/repos/acme/app/issues/4/labels", None, 204),
    (f"{_ISSUE}/labels/{{id}}", "DELETE", "/repos/acme/app/issues/4/labels/3", None, 204),
    (f"{_ISSUE}/labels/{{id}}", "DELETE", "/repos/acme/app/issues/4/labels/99", None, 422),
    ("/repos/{owner}/{repo}/branches", "POST", "/repos/acme/app/branches", {"new_branch_name": "topic"}, 201),
    ("/repos/{owner}/{repo}/branches", "POST", "/repos/acme/app/branches", {"new_branch_name": "main"}, 409),
    (
        "/repos/{owner}/{repo}/branches",
        "POST",
        "/repos/acme/app/branches",
        {"new_branch_name": "topic", "old_branch_name": "nope"},
        404,
    ),
    ("/repos/{owner}/{repo}/branches", "POST", "/repos/acme/infra/branches", {"new_branch_name": "x"}, 403),
    (_FILE, "POST", "/repos/acme/app/contents/docs/new.md", {"content": "aGkK"}, 201),
    (_FILE, "POST", "/repos/acme/app/contents/README.md", {"content": "aGkK"}, 422),
    (_FILE, "POST", "/repos/acme/infra/contents/new.md", {"content": "aGkK"}, 403),
    (_FILE, "PUT", "/repos/acme/app/contents/README.md", {"content": "aGkK", "sha": _README_SHA}, 200),
    (_FILE, "PUT", "/repos/acme/app/contents/docs/new.md", {"content": "aGkK"}, 201),
    (_FILE, "PUT", "/repos/acme/app/contents/README.md", {"content": "aGkK", "sha": "0" * 40}, 422),
    (_FILE, "DELETE", "/repos/acme/app/contents/README.md", {"sha": _README_SHA}, 200),
    (_FILE, "DELETE", "/repos/acme/app/contents/nope.md", {"sha": "0" * 40}, 404),
    (
        "/repos/{owner}/{repo}/pulls",
        "POST",
        "/repos/acme/app/pulls",
        {"head": "main", "base": "feature/login", "title": "Back"},
        201,
    ),
    (
        "/repos/{owner}/{repo}/pulls",
        "POST",
        "/repos/acme/app/pulls",
        {"head": "feature/login", "base": "main", "title": "Dup"},
        409,
    ),
    (
        "/repos/{owner}/{repo}/pulls",
        "POST",
        "/repos/acme/app/pulls",
        {"head": "main", "base": "main", "title": "T"},
        422,
    ),
    (
        "/repos/{owner}/{repo}/pulls",
        "POST",
        "/repos/acme/app/pulls",
        {"head": "nope", "base": "main", "title": "T"},
        404,
    ),
]


@pytest.mark.parametrize(
    ("spec_path", "method", "path", "body", "status"),
    WRITE_CASES,
    ids=[f"{case[1]} {case[2]} {case[4]}" for case in WRITE_CASES],
)
async def test_write_answers_conform_to_the_spec(
    schema: OpenApiSchema,
    writable: Writable,
    spec_path: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    status: int,
) -> None:
    async with writable.client(writable.token) as http:
        if body is not None and body.get("sha") == _README_SHA:
            body = {**body, "sha": (await http.get(f"{API}/repos/acme/app/contents/README.md")).json()["sha"]}
        response = await http.request(method, f"{API}{path}", json=body)
    assert response.status_code == status, response.text
    operation = schema[spec_path][method]
    if status >= 400:
        jsonschema.validate(response.json(), ERROR_BODY)
    elif status == 204:
        assert response.content == b""
    assert str(status) in operation.definition.raw["responses"]
    assert _violations(operation, response) == []


async def test_write_answers_without_a_body(schema: OpenApiSchema, writable: Writable) -> None:
    """Gitea answers some refusals with the status alone (``ctx.Status(403)``)."""
    async with writable.client(writable.token) as http:
        edit = await http.patch(f"{API}/repos/acme/infra/issues/1", json={"title": "x"})
        unlabel = await http.delete(f"{API}/repos/acme/infra/issues/1/labels/5")
    for response, spec_path, method in [
        (edit, _ISSUE, "PATCH"),
        (unlabel, f"{_ISSUE}/labels/{{id}}", "DELETE"),
    ]:
        assert (response.status_code, response.content) == (403, b"")
        assert _violations(schema[spec_path][method], response) == []


_HOOKS = "/repos/{owner}/{repo}/hooks"
_HOOK_BODY = {
    "type": "gitea",
    "config": {"url": "http://127.0.0.1:9/hooks", "content_type": "json", "secret": "x"},
    "events": ["issues", "pull_request", "push"],
    "branch_filter": "main",
    "active": True,
}


@pytest.mark.parametrize(
    ("hooks", "repo_path", "owner"),
    [(_HOOKS, "/repos/acme/private-notes/hooks", "repository"), ("/admin/hooks", "/admin/hooks", "site")],
    ids=["repository", "system"],
)
async def test_hook_answers_conform_to_the_spec(
    schema: OpenApiSchema, writable: Writable, hooks: str, repo_path: str, owner: str
) -> None:
    """Create, list, read and delete a hook (alice: admin of acme/private-notes, made a site admin)."""

    def site_admin(meta: dict[str, Any]) -> None:
        for user in meta["users"]:
            user["is_admin"] = user["is_admin"] or (owner == "site" and user["login"] == "alice")

    writable.edit_metadata(site_admin)
    token = add_token(
        writable.state_dir, user="alice", scopes=["write:admin", "write:repository"], name="hooks"
    )
    async with writable.client(token) as http:
        created = await http.post(f"{API}{repo_path}", json=_HOOK_BODY)
        hook_id = created.json()["id"]
        listed = await http.get(f"{API}{repo_path}")
        read = await http.get(f"{API}{repo_path}/{hook_id}")
        deleted = await http.delete(f"{API}{repo_path}/{hook_id}")
        gone = await http.get(f"{API}{repo_path}/{hook_id}")
    item = f"{hooks}/{{id}}"
    for response, spec_path, method, status in [
        (created, hooks, "POST", 201),
        (listed, hooks, "GET", 200),
        (read, item, "GET", 200),
        (deleted, item, "DELETE", 204),
    ]:
        assert response.status_code == status, response.text
        assert _violations(schema[spec_path][method], response) == []
    assert listed.json() == [read.json()] == [created.json()]
    assert gone.status_code == 404
    jsonschema.validate(gone.json(), ERROR_BODY)
