"""Creating branches: real refs in the bare repository, never replacing one."""

from __future__ import annotations

import httpx
import pytest

from .conftest import API, Writable

SWAGGER = "http://gitea.test/api/swagger"
APP = f"{API}/repos/acme/app"


async def test_create_branch_from_the_default_branch(writable: Writable, writer: httpx.AsyncClient) -> None:
    response = await writer.post(f"{APP}/branches", json={"new_branch_name": "topic/one"})
    assert response.status_code == 201
    branch = response.json()
    main = writable.git("acme/app", "rev-parse", "main")
    assert branch["name"] == "topic/one"
    assert branch["commit"]["id"] == main
    assert (branch["protected"], branch["user_can_push"], branch["user_can_merge"]) == (False, True, True)
    assert writable.git("acme/app", "rev-parse", "refs/heads/topic/one") == main
    assert (await writer.get(f"{APP}/branches/topic/one")).json() == branch
    listed = await writer.get(f"{APP}/branches")
    assert "topic/one" in [item["name"] for item in listed.json()]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param({"old_ref_name": "feature/login"}, "feature/login", id="ref-branch"),
        pytest.param({"old_ref_name": "v0.1.0"}, "v0.1.0^{commit}", id="ref-tag"),
        pytest.param({"old_ref_name": "SHA"}, "main~2", id="ref-commit"),
        pytest.param({"old_branch_name": "feature/login"}, "feature/login", id="old-branch"),
        pytest.param({"old_ref_name": "v0.1.0", "old_branch_name": "nope"}, "v0.1.0^{commit}", id="ref-wins"),
    ],
)
async def test_create_branch_from_a_ref(
    writable: Writable, writer: httpx.AsyncClient, body: dict[str, str], expected: str
) -> None:
    start = writable.git("acme/app", "rev-parse", expected)
    body = {key: start if value == "SHA" else value for key, value in body.items()}
    response = await writer.post(f"{APP}/branches", json={"new_branch_name": "topic", **body})
    assert response.status_code == 201
    assert response.json()["commit"]["id"] == start
    assert writable.git("acme/app", "rev-parse", "topic") == start


@pytest.mark.parametrize(
    ("name", "message"),
    [
        pytest.param("main", "The branch already exists.", id="exists"),
        pytest.param("feature", "The branch with the same name already exists.", id="prefix-of-a-branch"),
        pytest.param("main/sub", "The branch with the same name already exists.", id="below-a-branch"),
        pytest.param("v0.1.0", "The branch with the same tag already exists.", id="a-tag"),
    ],
)
async def test_taken_names_are_409(
    writable: Writable, writer: httpx.AsyncClient, name: str, message: str
) -> None:
    refs = writable.git("acme/app", "for-each-ref")
    response = await writer.post(
        f"{APP}/branches", json={"new_branch_name": name, "old_ref_name": "feature/login"}
    )
    assert response.status_code == 409
    assert response.json() == {"message": message, "url": SWAGGER}
    assert writable.git("acme/app", "for-each-ref") == refs


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param({"old_branch_name": "nope"}, "The old branch does not exist", id="old-branch"),
        pytest.param(
            {"old_branch_name": "v0.1.0"}, "The old branch does not exist", id="old-branch-is-a-tag"
        ),
        pytest.param({"old_ref_name": "nope"}, "object does not exist [id: nope, rel_path: ]", id="old-ref"),
    ],
)
async def test_missing_start_is_404(writer: httpx.AsyncClient, body: dict[str, str], message: str) -> None:
    response = await writer.post(f"{APP}/branches", json={"new_branch_name": "topic", **body})
    assert response.status_code == 404
    assert response.json() == {"message": message, "url": SWAGGER}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        pytest.param({"new_branch_name": "bad..name"}, "[BranchName]: GitRefName", id="bad-name"),
        pytest.param({"new_branch_name": "x" * 101}, "[BranchName]: MaxSize", id="too-long"),
        pytest.param(
            {"new_branch_name": "ok", "old_ref_name": "main~1"}, "[OldRefName]: GitRefName", id="ref"
        ),
        pytest.param(
            {"new_branch_name": "ok", "old_branch_name": "-x "}, "[OldBranchName]: GitRefName", id="old"
        ),
    ],
)
async def test_names_are_validated(writer: httpx.AsyncClient, body: dict[str, str], message: str) -> None:
    response = await writer.post(f"{APP}/branches", json=body)
    assert response.status_code == 422
    assert response.json() == {"message": message, "url": SWAGGER}


async def test_readers_cannot_create_branches(writable: Writable, writer: httpx.AsyncClient) -> None:
    response = await writer.post(f"{API}/repos/acme/infra/branches", json={"new_branch_name": "topic"})
    assert response.status_code == 403
    assert response.json() == {"message": "user should have a permission to write to a repo", "url": SWAGGER}
    assert "topic" not in writable.git("acme/infra", "for-each-ref")


async def test_an_admin_collaborator_may_create_branches(writable: Writable) -> None:
    async with writable.client(writable.alice_token) as alice:
        response = await alice.post(
            f"{API}/repos/acme/private-notes/branches", json={"new_branch_name": "q3"}
        )
    assert response.status_code == 201
    assert response.json()["user_can_push"] is True
