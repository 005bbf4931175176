"""Creating, updating and deleting files: real commits in the bare repository, visible to every reader."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import httpx
import pytest
from gitea_simulator import _git_write, _routes_file_writes

from .conftest import API, Writable

SWAGGER = "http://gitea.test/api/swagger"
APP = f"{API}/repos/acme/app"
YOU_ARE = "you\u2019re"


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _error(status: int, message: str) -> tuple[int, dict[str, str]]:
    return status, {"message": message, "url": SWAGGER}


async def _sha(http: httpx.AsyncClient, path: str, ref: str = "main") -> str:
    sha: str = (await http.get(f"{APP}/contents/{path}", params={"ref": ref})).json()["sha"]
    return sha


async def test_create_file(writable: Writable, writer: httpx.AsyncClient) -> None:
    parent = writable.git("acme/app", "rev-parse", "main")
    response = await writer.post(f"{APP}/contents/docs/faq.md", json={"content": b64(b"# FAQ\n")})
    assert response.status_code == 201
    body = response.json()
    commit = body["commit"]
    assert commit["sha"] == writable.git("acme/app", "rev-parse", "main")
    assert commit["message"] == "Add docs/faq.md\n"  # Gitea's default message
    assert [parent_ref["sha"] for parent_ref in commit["parents"]] == [parent]
    assert commit["author"]["name"] == commit["committer"]["name"] == "Aegis Gateway Bot"
    assert commit["author"]["email"] == "aegis-bot@example.com"
    assert commit["tree"]["sha"] == writable.git("acme/app", "rev-parse", "main^{tree}")
    assert commit["html_url"] == f"http://gitea.test/acme/app/commit/{commit['sha']}"
    assert body["verification"]["reason"] == "gpg.error.not_signed_commit"
    content = body["content"]
    assert (content["path"], content["type"], content["size"]) == ("docs/faq.md", "file", 6)
    assert base64.b64decode(content["content"]) == b"# FAQ\n"
    assert content["sha"] == writable.git("acme/app", "rev-parse", "main:docs/faq.md")
    assert content["last_commit_sha"] == commit["sha"]
    assert content["url"] == f"{APP}/contents/docs/faq.md?ref=main"
    # Every reader sees the new state at once.
    assert (await writer.get(f"{APP}/contents/docs/faq.md")).json() == content
    assert (await writer.get(f"{APP}/raw/docs/faq.md")).content == b"# FAQ\n"
    [latest] = (await writer.get(f"{APP}/commits", params={"limit": 1})).json()
    assert latest["sha"] == commit["sha"]
    assert latest["author"]["login"] == "aegis-bot"
    assert latest["files"] == [{"filename": "docs/faq.md", "status": "added"}]
    assert writable.git("acme/app", "fsck", "--no-dangling") == ""


async def test_create_file_with_message_on_another_branch(
    writable: Writable, writer: httpx.AsyncClient
) -> None:
    login = writable.git("acme/app", "rev-parse", "feature/login")
    response = await writer.post(
        f"{APP}/contents/src/forms.py",
        json={"content": b64(b"x = 1\n"), "message": "  Add forms  \n", "branch": "feature/login"},
    )
    assert response.status_code == 201
    assert response.json()["commit"]["message"] == "Add forms\n"
    assert (
        response.json()["content"]["html_url"]
        == "http://gitea.test/acme/app/src/branch/feature/login/src/forms.py"
    )
    assert writable.git("acme/app", "rev-parse", "feature/login~1") == login
    assert (await writer.get(f"{APP}/contents/src/forms.py")).status_code == 404  # not on main


async def test_create_file_on_a_new_branch(writable: Writable, writer: httpx.AsyncClient) -> None:
    main = writable.git("acme/app", "rev-parse", "main")
    response = await writer.post(
        f"{APP}/contents/notes.txt", json={"content": b64(b"n\n"), "new_branch": "aegis/notes"}
    )
    assert response.status_code == 201
    assert response.json()["content"]["url"] == f"{APP}/contents/notes.txt?ref=aegis%2Fnotes"
    assert writable.git("acme/app", "rev-parse", "aegis/notes~1") == main
    assert writable.git("acme/app", "rev-parse", "main") == main
    branches = [branch["name"] for branch in (await writer.get(f"{APP}/branches")).json()]
    assert "aegis/notes" in branches


async def test_empty_content_is_an_empty_file(writer: httpx.AsyncClient) -> None:
    response = await writer.post(f"{APP}/contents/.keep", json={})
    assert response.status_code == 201
    assert response.json()["content"]["size"] == 0


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("a/%2E%2E/new.txt", "new.txt", id="dot-dot-is-cleaned"),
        pytest.param("%2Fdeep//new.txt", "deep/new.txt", id="slashes-are-cleaned"),
        pytest.param("%2E%2E/%2E%2E/new.txt", "new.txt", id="cannot-climb-out"),
    ],
)
async def test_paths_are_cleaned_like_gitea(
    writable: Writable, writer: httpx.AsyncClient, path: str, expected: str
) -> None:
    response = await writer.post(f"{APP}/contents/{path}", json={"content": b64(b"x")})
    assert response.status_code == 201
    assert response.json()["content"]["path"] == expected
    assert writable.git("acme/app", "cat-file", "blob", f"main:{expected}") == "x"


@pytest.mark.parametrize(
    ("path", "shown"),
    [
        pytest.param(".git/config", ".git/config", id="dot-git"),
        pytest.param("src/.GIT/hooks/x", "src/.GIT/hooks/x", id="dot-git-any-case"),
        pytest.param("%2E%2E", "..", id="nothing-left"),
        pytest.param("", "", id="empty"),
    ],
)
async def test_malformed_paths_are_422(
    writable: Writable, writer: httpx.AsyncClient, path: str, shown: str
) -> None:
    main = writable.git("acme/app", "rev-parse", "main")
    response = await writer.post(f"{APP}/contents/{path}", json={"content": b64(b"x")})
    assert (response.status_code, response.json()) == _error(
        422, f"path contains a malformed path component [path: {shown}]"
    )
    assert writable.git("acme/app", "rev-parse", "main") == main


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param("README.md", "repository file already exists [path: README.md]", id="exists"),
        pytest.param(
            "src/../README.md", "repository file already exists [path: README.md]", id="exists-cleaned"
        ),
        pytest.param(
            "README.md/x",
            f"a file exists where {YOU_ARE} trying to create a subdirectory [path: README.md]",
            id="file",
        ),
        pytest.param(
            "src", f"a directory exists where {YOU_ARE} trying to create a file [path: src]", id="dir"
        ),
        pytest.param(
            "docs/latest.md",
            f"a symbolic link exists where {YOU_ARE} trying to create a subdirectory [path: docs/latest.md]",
            id="symlink",
        ),
    ],
)
async def test_create_where_something_is_is_422(
    writable: Writable, writer: httpx.AsyncClient, path: str, message: str
) -> None:
    main = writable.git("acme/app", "rev-parse", "main")
    response = await writer.post(f"{APP}/contents/{path}", json={"content": b64(b"x")})
    assert (response.status_code, response.json()) == _error(422, message)
    assert writable.git("acme/app", "rev-parse", "main") == main


@pytest.mark.parametrize(
    ("content", "offset"),
    [("a$==", 1), ("aGk", 0), ("aGk=x", 4), ("=", 0), ("ab=c", 2)],
)
async def test_content_must_be_padded_base64(writer: httpx.AsyncClient, content: str, offset: int) -> None:
    response = await writer.post(f"{APP}/contents/x.txt", json={"content": content})
    assert (response.status_code, response.json()) == _error(
        422, f"illegal base64 data at input byte {offset}"
    )


async def test_base64_may_contain_newlines(writable: Writable, writer: httpx.AsyncClient) -> None:
    response = await writer.post(f"{APP}/contents/x.txt", json={"content": "aGVs\nbG8=\r\n"})
    assert response.status_code == 201
    assert writable.git("acme/app", "cat-file", "blob", "main:x.txt") == "hello"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        pytest.param(
            {"branch": "nope"}, 404, "branch does not exist [repo_id: 1 name: nope]", id="no-branch"
        ),
        pytest.param(
            {"new_branch": "feature/login"}, 422, "branch already exists [name: feature/login]", id="taken"
        ),
        pytest.param({"branch": "bad..ref"}, 422, "[BranchName]: GitRefName", id="bad-branch"),
        pytest.param({"new_branch": "x" * 101}, 422, "[NewBranchName]: MaxSize", id="long-branch"),
        pytest.param(
            {"new_branch": "feature/login", "force_push": True},
            422,
            "force push is not supported by this simulator",
            id="force-push",
        ),
        pytest.param(
            {"force_push": True}, 422, "force push is not supported by this simulator", id="force-main"
        ),
    ],
)
async def test_branch_options(
    writable: Writable, writer: httpx.AsyncClient, body: dict[str, Any], status: int, message: str
) -> None:
    refs = writable.git("acme/app", "for-each-ref")
    response = await writer.post(f"{APP}/contents/x.txt", json={"content": b64(b"x"), **body})
    assert (response.status_code, response.json()) == _error(status, message)
    assert writable.git("acme/app", "for-each-ref") == refs


async def test_force_push_is_refused_and_recorded_on_every_file_write(writable: Writable) -> None:
    async with writable.client(writable.token) as http:
        sha = await _sha(http, "README.md")
        statuses = [
            (await http.request(method, f"{APP}/contents/README.md", json=body)).status_code
            for method, body in [
                ("POST", {"content": "", "force_push": True}),
                ("PUT", {"content": "", "sha": sha, "force_push": True}),
                ("DELETE", {"sha": sha, "force_push": True}),
            ]
        ]
    assert statuses == [422, 422, 422]
    assert [(r.method, r.status) for r in writable.app.state.requests[1:]] == [
        ("POST", 422),
        ("PUT", 422),
        ("DELETE", 422),
    ]
    assert writable.git("acme/app", "rev-parse", "main:README.md") == sha


async def test_readers_cannot_change_files(writable: Writable, writer: httpx.AsyncClient) -> None:
    infra = f"{API}/repos/acme/infra/contents"
    responses = [
        await writer.post(f"{infra}/x.txt", json={"content": ""}),
        await writer.put(f"{infra}/README.md", json={"content": "", "sha": "0" * 40}),
        await writer.request("DELETE", f"{infra}/README.md", json={"sha": "0" * 40}),
    ]
    for response in responses:
        assert (response.status_code, response.json()) == _error(
            403, "user should have a permission to write to the target branch"
        )


async def test_update_file(writable: Writable, writer: httpx.AsyncClient) -> None:
    old = await _sha(writer, "README.md")
    response = await writer.put(f"{APP}/contents/README.md", json={"content": b64(b"# New\n"), "sha": old})
    assert response.status_code == 200
    body = response.json()
    assert body["commit"]["message"] == "Update README.md\n"
    assert body["content"]["sha"] != old
    assert base64.b64decode(body["content"]["content"]) == b"# New\n"
    assert (await writer.get(f"{APP}/raw/README.md")).content == b"# New\n"
    [latest] = (await writer.get(f"{APP}/commits", params={"limit": 1})).json()
    assert latest["files"] == [{"filename": "README.md", "status": "modified"}]
    stale = await writer.put(f"{APP}/contents/README.md", json={"content": b64(b"again"), "sha": old})
    assert (stale.status_code, stale.json()) == _error(
        422, f"sha does not match [given: {old}, expected: {body['content']['sha']}]"
    )


async def test_update_keeps_the_executable_bit(writable: Writable) -> None:
    writable.edit_metadata(lambda meta: meta["repos"][1]["collaborators"].update({"aegis-bot": "write"}))
    async with writable.client(writable.token) as http:
        url = f"{API}/repos/acme/infra/contents/deploy/run.sh"
        sha = (await http.get(url)).json()["sha"]
        response = await http.put(url, json={"content": b64(b"#!/bin/sh\necho\n"), "sha": sha})
    assert response.status_code == 200
    assert writable.git("acme/infra", "ls-tree", "main", "deploy/run.sh").startswith("100755 blob")


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        pytest.param(
            "nope.txt",
            {"sha": "0" * 40},
            404,
            "object does not exist [id: , rel_path: nope.txt]",
            id="missing-file",
        ),
        pytest.param(
            "README.md", {}, 422, "repository file already exists [path: README.md]", id="no-sha-exists"
        ),
        pytest.param(
            "README.md",
            {"sha": "0" * 40, "from_path": "TODO.md"},
            422,
            "from_path (moving a file) is not supported by this simulator",
            id="rename",
        ),
    ],
)
async def test_update_refusals(
    writer: httpx.AsyncClient, path: str, body: dict[str, str], status: int, message: str
) -> None:
    response = await writer.put(f"{APP}/contents/{path}", json={"content": b64(b"x"), **body})
    assert (response.status_code, response.json()) == _error(status, message)


async def test_update_without_sha_creates_a_new_file_like_gitea_1_26(
    writable: Writable, writer: httpx.AsyncClient
) -> None:
    response = await writer.put(f"{APP}/contents/docs/new.md", json={"content": b64(b"new\n")})
    assert response.status_code == 201
    assert response.json()["commit"]["message"] == "Add docs/new.md\n"
    assert writable.git("acme/app", "cat-file", "blob", "main:docs/new.md") == "new"


async def test_delete_file(writable: Writable, writer: httpx.AsyncClient) -> None:
    sha = await _sha(writer, "src/secrets/prod.env")
    response = await writer.request(
        "DELETE", f"{APP}/contents/src/secrets/prod.env", json={"sha": sha, "message": "Remove secrets"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["content"] is None
    assert body["commit"]["message"] == "Remove secrets\n"
    assert (await writer.get(f"{APP}/contents/src/secrets/prod.env")).status_code == 404
    assert (await writer.get(f"{APP}/contents/src/secrets")).status_code == 404  # an empty tree is gone
    [latest] = (await writer.get(f"{APP}/commits", params={"limit": 1})).json()
    assert latest["files"] == [{"filename": "src/secrets/prod.env", "status": "removed"}]
    assert writable.git("acme/app", "rev-parse", "main~1:src/secrets/prod.env") == sha  # history keeps it


async def test_delete_default_message_and_new_branch(writable: Writable, writer: httpx.AsyncClient) -> None:
    sha = await _sha(writer, "README.md")
    response = await writer.request(
        "DELETE", f"{APP}/contents/README.md", json={"sha": sha, "new_branch": "no-readme"}
    )
    assert response.json()["commit"]["message"] == "Delete README.md\n"
    assert (await writer.get(f"{APP}/contents/README.md")).status_code == 200
    assert (await writer.get(f"{APP}/contents/README.md", params={"ref": "no-readme"})).status_code == 404


@pytest.mark.parametrize(
    ("path", "sha", "status", "message"),
    [
        pytest.param(
            "nope.txt", "0" * 40, 404, "object does not exist [id: , rel_path: nope.txt]", id="missing"
        ),
        pytest.param(
            "README.md", "0" * 40, 422, "sha does not match [given: {zero}, expected: {sha}]", id="sha"
        ),
    ],
)
async def test_delete_refusals(
    writer: httpx.AsyncClient, path: str, sha: str, status: int, message: str
) -> None:
    current = await _sha(writer, "README.md")
    response = await writer.request("DELETE", f"{APP}/contents/{path}", json={"sha": sha})
    assert (response.status_code, response.json()) == _error(
        status, message.format(zero="0" * 40, sha=current)
    )


async def test_concurrent_writes_to_one_branch_lose_no_commit(
    writable: Writable, writer: httpx.AsyncClient
) -> None:
    main = writable.git("acme/app", "rev-parse", "main")
    responses = await asyncio.gather(
        *(
            writer.post(f"{APP}/contents/many/{n}.txt", json={"content": b64(str(n).encode())})
            for n in range(6)
        )
    )
    assert [response.status_code for response in responses] == [201] * 6
    assert writable.git("acme/app", "rev-list", "--count", f"{main}..main") == "6"
    assert writable.git("acme/app", "ls-tree", "--name-only", "main:many").split() == [
        f"{n}.txt" for n in range(6)
    ]


async def test_a_branch_moved_by_another_writer_is_rebuilt_on(
    writable: Writable, writer: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_update_ref = _git_write.update_ref
    moved: list[str] = []

    async def racing_update_ref(git_dir: Any, ref: str, new: str, old: str) -> bool:
        if not moved:  # another process commits to main just before our ref update
            env = {"GIT_AUTHOR_NAME": "Other", "GIT_AUTHOR_EMAIL": "o@example.com"}
            env |= {
                "GIT_COMMITTER_NAME": "Other",
                "GIT_COMMITTER_EMAIL": "o@example.com",
                "PATH": "/usr/bin:/bin",
            }
            tree = writable.git("acme/app", "rev-parse", "main^{tree}")
            other = writable.git("acme/app", "commit-tree", tree, "-p", "main", "-m", "Concurrent", env=env)
            writable.git("acme/app", "update-ref", "refs/heads/main", other)
            moved.append(other)
        return await real_update_ref(git_dir, ref, new, old)

    monkeypatch.setattr(_routes_file_writes, "update_ref", racing_update_ref)
    response = await writer.post(f"{APP}/contents/raced.txt", json={"content": b64(b"r")})
    assert response.status_code == 201
    assert response.json()["commit"]["parents"][0]["sha"] == moved[0]  # built again on the new head
    assert writable.git("acme/app", "log", "-2", "--format=%s", "main").splitlines() == [
        "Add raced.txt",
        "Concurrent",
    ]


async def test_a_branch_that_keeps_moving_is_409(
    writer: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def always_late(*args: Any) -> bool:
        return False

    monkeypatch.setattr(_routes_file_writes, "update_ref", always_late)
    response = await writer.post(f"{APP}/contents/raced.txt", json={"content": b64(b"r")})
    assert (response.status_code, response.json()) == _error(
        409, "branch main kept moving during the change; try again"
    )


async def test_ref_updates_never_replace_what_they_did_not_expect(writable: Writable) -> None:
    git_dir = writable.state_dir / "repos" / "acme" / "app.git"
    main, login = (writable.git("acme/app", "rev-parse", ref) for ref in ("main", "feature/login"))
    assert not await _git_write.update_ref(git_dir, "refs/heads/main", login, login)  # main is not there
    assert not await _git_write.update_ref(git_dir, "refs/heads/main", login, _git_write.ZERO_SHA)  # exists
    assert writable.git("acme/app", "rev-parse", "main") == main
    assert await _git_write.update_ref(git_dir, "refs/heads/main", login, main)
    assert writable.git("acme/app", "rev-parse", "main") == login
