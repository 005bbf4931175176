"""The contents endpoint (files, directories, symlinks, submodules) and raw files."""

from __future__ import annotations

import base64

import httpx
import pytest

from .conftest import API, Seeded, git

SWAGGER = "http://gitea.test/api/swagger"
APP = f"{API}/repos/acme/app"


async def test_file_has_base64_content_and_git_metadata(client: httpx.AsyncClient, seeded: Seeded) -> None:
    response = await client.get(f"{APP}/contents/src/fixture_2k.txt")
    assert response.status_code == 200
    body = response.json()
    content = base64.b64decode(body["content"])
    assert len(content) == body["size"] == 2048
    assert content.isascii()
    assert content == git(seeded, "acme/app", "cat-file", "blob", "main:src/fixture_2k.txt").encode() + b"\n"
    assert body["sha"] == git(seeded, "acme/app", "rev-parse", "main:src/fixture_2k.txt")
    assert body["last_commit_sha"] == git(
        seeded, "acme/app", "log", "-1", "--format=%H", "main", "--", "src/fixture_2k.txt"
    )
    assert body["last_committer_date"] == "2026-02-16T09:45:00+01:00"
    assert (body["type"], body["encoding"], body["name"], body["path"]) == (
        "file",
        "base64",
        "fixture_2k.txt",
        "src/fixture_2k.txt",
    )
    assert body["url"] == f"{APP}/contents/src/fixture_2k.txt?ref=main"
    assert body["html_url"] == "http://gitea.test/acme/app/src/branch/main/src/fixture_2k.txt"
    assert body["download_url"] == "http://gitea.test/acme/app/raw/branch/main/src/fixture_2k.txt"
    assert body["git_url"] == f"{APP}/git/blobs/{body['sha']}"
    assert body["_links"] == {"self": body["url"], "git": body["git_url"], "html": body["html_url"]}
    assert body["target"] is None
    assert body["submodule_git_url"] is None


async def test_directory_is_an_array_without_content(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{APP}/contents/src")
    body = response.json()
    assert isinstance(body, list)
    assert [(entry["name"], entry["type"]) for entry in body] == [
        ("fixture_2k.txt", "file"),
        ("main.py", "file"),
        ("secrets", "dir"),
        ("util", "dir"),
    ]
    assert all(entry["content"] is None and entry["encoding"] is None for entry in body)
    assert [entry["size"] for entry in body] == [2048, 170, 0, 0]
    assert body[2]["path"] == "src/secrets"
    assert body[2]["download_url"] is None
    assert all(entry["last_commit_sha"] for entry in body)


async def test_root_listing(client: httpx.AsyncClient) -> None:
    root = (await client.get(f"{APP}/contents")).json()
    assert [entry["path"] for entry in root] == [".gitignore", "README.md", "docs", "src"]


async def test_ref_may_be_a_branch_tag_or_commit(client: httpx.AsyncClient, seeded: Seeded) -> None:
    tag = (await client.get(f"{APP}/contents/README.md", params={"ref": "v0.1.0"})).json()
    branch = (await client.get(f"{APP}/contents/src/login.py", params={"ref": "feature/login"})).json()
    sha = git(seeded, "acme/app", "rev-parse", "v0.1.0^{commit}")
    commit = (await client.get(f"{APP}/contents/README.md", params={"ref": sha})).json()
    assert tag["html_url"] == "http://gitea.test/acme/app/src/tag/v0.1.0/README.md"
    assert branch["download_url"] == "http://gitea.test/acme/app/raw/branch/feature/login/src/login.py"
    assert commit["html_url"] == f"http://gitea.test/acme/app/src/commit/{sha}/README.md"
    assert tag["sha"] == commit["sha"] == git(seeded, "acme/app", "rev-parse", "v0.1.0:README.md")
    assert tag["sha"] != (await client.get(f"{APP}/contents/README.md")).json()["sha"]


async def test_symlink_and_submodule(client: httpx.AsyncClient) -> None:
    link = (await client.get(f"{APP}/contents/docs/latest.md")).json()
    assert (link["type"], link["target"], link["content"]) == ("symlink", "guide.md", None)
    charts = (await client.get(f"{API}/repos/acme/infra/contents/vendor/charts")).json()
    assert (charts["type"], charts["size"]) == ("submodule", 0)
    assert charts["submodule_git_url"] == "https://git.acme.example/acme/charts.git"
    assert (charts["html_url"], charts["git_url"], charts["download_url"]) == (None, None, None)
    assert charts["_links"]["git"] is None
    run = (await client.get(f"{API}/repos/acme/infra/contents/deploy/run.sh")).json()
    assert run["type"] == "file"


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        pytest.param("src/%2E%2E/src/main.py", "src/main.py", id="dot-dot-is-cleaned"),
        pytest.param("%2E/README.md", "README.md", id="dot"),
        pytest.param("src//util/strings.py", "src/util/strings.py", id="double-slash"),
        pytest.param("%2E%2E/%2E%2E/README.md", "README.md", id="cannot-climb-out"),
    ],
)
async def test_paths_are_cleaned_like_gitea(client: httpx.AsyncClient, path: str, expected: str) -> None:
    response = await client.get(f"{APP}/contents/{path}")
    assert response.status_code == 200
    assert response.json()["path"] == expected


async def test_git_dir_component_is_a_server_error_like_gitea(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{APP}/contents/.git/config")
    assert response.status_code == 500
    assert response.json() == {"message": "", "url": SWAGGER}


async def test_missing_path_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{APP}/contents/src/nope.py")
    assert response.status_code == 404
    assert response.json() == {
        "errors": ["object does not exist [id: , rel_path: src/nope.py]"],
        "message": "GetContentsOrList",
        "url": SWAGGER,
    }


@pytest.mark.parametrize(
    "ref", ["no-such-branch", "0123456789abcdef0123456789abcdef01234567", "main~1", "6ae96a7"]
)
async def test_unknown_ref_is_404(client: httpx.AsyncClient, ref: str) -> None:
    response = await client.get(f"{APP}/contents/README.md", params={"ref": ref})
    assert response.status_code == 404
    assert response.json() == {
        "errors": [f"object does not exist [id: {ref}, rel_path: ]"],
        "message": "not found",
        "url": SWAGGER,
    }


async def test_raw_returns_the_bytes(client: httpx.AsyncClient, seeded: Seeded) -> None:
    response = await client.get(f"{APP}/raw/src/util/strings.py")
    assert response.status_code == 200
    assert response.text == git(seeded, "acme/app", "cat-file", "blob", "main:src/util/strings.py") + "\n"
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.headers["x-gitea-object-type"] == "file"
    assert response.headers["etag"] == f'"{git(seeded, "acme/app", "rev-parse", "main:src/util/strings.py")}"'
    assert response.headers["last-modified"] == "Mon, 12 Jan 2026 10:30:00 GMT"


@pytest.mark.parametrize(
    ("url", "params", "expected_ref"),
    [
        pytest.param("raw/src/main.py", {"ref": "feature/login"}, "feature/login", id="ref-param"),
        pytest.param("raw/feature/login/src/main.py", {}, "feature/login", id="ref-in-path"),
        pytest.param("raw/v0.1.0/src/main.py", {}, "v0.1.0", id="tag-in-path"),
        pytest.param(
            "raw/src/main.py", {"ref": "no-such-ref"}, "main", id="unknown-ref-falls-back-to-default"
        ),
    ],
)
async def test_raw_ref_resolution(
    client: httpx.AsyncClient, seeded: Seeded, url: str, params: dict[str, str], expected_ref: str
) -> None:
    response = await client.get(f"{APP}/{url}", params=params)
    assert response.status_code == 200
    assert response.text == git(seeded, "acme/app", "cat-file", "blob", f"{expected_ref}:src/main.py") + "\n"


async def test_raw_by_commit_prefix(client: httpx.AsyncClient, seeded: Seeded) -> None:
    sha = git(seeded, "acme/app", "rev-parse", "main~1")
    response = await client.get(f"{APP}/raw/{sha}/TODO.md")
    assert response.text == "- write the guide\n"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        pytest.param("src", "getBlobForEntry", id="directory"),
        pytest.param("src/nope.py", "not found", id="missing"),
        pytest.param("TODO.md", "not found", id="deleted-on-main"),
        pytest.param(
            "0123456789abcdef0123456789abcdef01234567/README.md", "unable to find a git ref", id="bad-sha"
        ),
    ],
)
async def test_raw_not_found(client: httpx.AsyncClient, path: str, message: str) -> None:
    response = await client.get(f"{APP}/raw/{path}")
    assert response.status_code == 404
    assert response.json()["message"] == message


async def test_raw_of_a_symlink_is_its_target(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{APP}/raw/docs/latest.md")
    assert response.text == "guide.md"
    assert response.headers["x-gitea-object-type"] == "symlink"


async def test_blob_by_its_id_is_exactly_that_object(client: httpx.AsyncClient, seeded: Seeded) -> None:
    sha = git(seeded, "acme/app", "rev-parse", "main:src/fixture_2k.txt")
    response = await client.get(f"{APP}/git/blobs/{sha.upper()}")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "content": body["content"],
        "encoding": "base64",
        "url": f"{APP}/git/blobs/{sha}",
        "sha": sha,
        "size": 2048,
    }
    expected = git(seeded, "acme/app", "cat-file", "blob", sha).encode() + b"\n"
    assert base64.b64decode(body["content"]) == expected


async def test_raw_joins_ref_and_path_before_it_looks_for_a_branch(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    """Gitea's legacy lookup: `ref=feature` and `login/src/main.py` read src/main.py of feature/login, a
    path that exists at no ref. Reading a blob by the id a tree listing gave has no such ambiguity."""
    response = await client.get(f"{APP}/raw/login/src/main.py", params={"ref": "feature"})
    assert response.status_code == 200
    assert response.text == git(seeded, "acme/app", "cat-file", "blob", "feature/login:src/main.py") + "\n"


@pytest.mark.parametrize(
    ("sha", "message"),
    [
        pytest.param("main", "length 4 has no matched object format: main", id="a-ref"),
        pytest.param("0123456", "length 7 has no matched object format: 0123456", id="short"),
        pytest.param("g" * 40, "encoding/hex: invalid byte: U+0067 'g'", id="not-hex"),
        pytest.param("\u00e9" * 20, "encoding/hex: invalid byte: U+00C3 '\u00c3'", id="not-ascii"),
        pytest.param(
            "\u00e9" * 19, "length 38 has no matched object format: " + "\u00e9" * 19, id="bytes-counted"
        ),
        pytest.param(
            "0123456789abcdef0123456789abcdef01234567",
            "object does not exist [id: 0123456789abcdef0123456789abcdef01234567, rel_path: ]",
            id="missing",
        ),
    ],
)
async def test_blob_needs_the_full_id_of_an_existing_object(
    client: httpx.AsyncClient, sha: str, message: str
) -> None:
    response = await client.get(f"{APP}/git/blobs/{sha}")
    assert response.status_code == 400
    assert response.json() == {"message": message, "url": SWAGGER}


async def test_blob_of_another_repository_is_not_found_here(
    client: httpx.AsyncClient, seeded: Seeded
) -> None:
    sha = git(seeded, "acme/infra", "rev-parse", "main:deploy/app.yaml")
    response = await client.get(f"{APP}/git/blobs/{sha}")
    assert response.status_code == 400 and "object does not exist" in response.json()["message"]


async def test_contents_ext_gives_a_file_metadata_only(client: httpx.AsyncClient) -> None:
    """`GetContentsExt` without `includes`: the entry's metadata, no content, no last commit."""
    contents = (await client.get(f"{APP}/contents/src/fixture_2k.txt")).json()
    response = await client.get(f"{APP}/contents-ext/src/fixture_2k.txt")
    assert response.status_code == 200
    [file] = response.json().values()
    assert list(response.json()) == ["file_contents"]
    assert (file["content"], file["encoding"]) == (None, None)
    assert not any(key.startswith("last_") for key in file)
    unchanged = {key: value for key, value in contents.items() if not key.startswith("last_")}
    assert {**file, "content": contents["content"], "encoding": "base64"} == unchanged


async def test_contents_ext_includes_what_it_is_asked_for(client: httpx.AsyncClient) -> None:
    contents = (await client.get(f"{APP}/contents/README.md")).json()
    response = await client.get(
        f"{APP}/contents-ext/README.md", params={"includes": "file_content,commit_metadata,commit_message"}
    )
    file = response.json()["file_contents"]
    assert {key: value for key, value in file.items() if key != "last_commit_message"} == contents
    assert file["last_commit_message"].startswith("Add ")
    assert list(file)[:8] == [
        "name",
        "path",
        "sha",
        "last_commit_sha",
        "last_committer_date",
        "last_author_date",
        "last_commit_message",
        "type",
    ]


@pytest.mark.parametrize("path", ["src", "/"])  # `/` (or `.`, which httpx would drop) is the root
async def test_contents_ext_lists_a_directory_without_content(client: httpx.AsyncClient, path: str) -> None:
    listed = (await client.get(f"{APP}/contents/{path.strip('/')}")).json()
    response = await client.get(f"{APP}/contents-ext/{path}")
    assert list(response.json()) == ["dir_contents"]
    entries = response.json()["dir_contents"]
    assert [entry["path"] for entry in entries] == [entry["path"] for entry in listed]
    assert entries == [
        {key: v for key, v in entry.items() if not key.startswith("last_")} for entry in listed
    ]


async def test_contents_ext_of_a_symlink_and_a_submodule(client: httpx.AsyncClient) -> None:
    link = (await client.get(f"{APP}/contents-ext/docs/latest.md")).json()["file_contents"]
    assert (link["type"], link["target"], link["content"]) == ("symlink", "guide.md", None)
    charts = (await client.get(f"{API}/repos/acme/infra/contents-ext/vendor/charts")).json()["file_contents"]
    assert (charts["type"], charts["submodule_git_url"]) == (
        "submodule",
        "https://git.acme.example/acme/charts.git",
    )


async def test_contents_ext_of_a_missing_path_or_ref_is_404_as_contents(client: httpx.AsyncClient) -> None:
    for path, params in (("src/nope.py", {}), ("README.md", {"ref": "no-such-branch"})):
        ext = await client.get(f"{APP}/contents-ext/{path}", params=params)
        plain = await client.get(f"{APP}/contents/{path}", params=params)
        assert (ext.status_code, ext.json()) == (404, plain.json())


async def test_contents_ext_refuses_an_unknown_include_before_the_ref(client: httpx.AsyncClient) -> None:
    response = await client.get(
        f"{APP}/contents-ext/README.md", params={"includes": "file_content,x", "ref": "nope"}
    )
    assert response.status_code == 400
    assert response.json() == {"message": 'unknown include option "x"', "url": SWAGGER}
