"""Tags (from git) and releases (from the metadata): content, order, paging, drafts and filters."""

from __future__ import annotations

import httpx
import pytest
from gitea_simulator import add_token

from .conftest import API, Seeded, Writable, git

APP = f"{API}/repos/acme/app"
HTML = "http://gitea.test/acme/app"


async def test_tag_json(client: httpx.AsyncClient, seeded: Seeded) -> None:
    response = await client.get(f"{APP}/tags")
    assert response.status_code == 200
    tag_object = git(seeded, "acme/app", "rev-parse", "v0.1.0")
    assert response.json() == [
        {
            "name": "v0.1.0",
            "message": "First release",
            "id": tag_object,
            "commit": {
                "url": f"{APP}/git/commits/{tag_object}",  # Gitea links the tag object here
                "sha": git(seeded, "acme/app", "rev-parse", "v0.1.0^{commit}"),
                "created": "2026-02-02T15:00:00+01:00",
            },
            "zipball_url": f"{HTML}/archive/v0.1.0.zip",
            "tarball_url": f"{HTML}/archive/v0.1.0.tar.gz",
        }
    ]
    assert response.headers["x-total-count"] == "1"
    assert "link" not in response.headers


async def test_tags_newest_first_and_paged_only_with_a_page(writable: Writable) -> None:
    writable.git("acme/app", "tag", "light", "main~1")  # a lightweight tag: the commit stands in for it
    async with writable.client(writable.read_token) as http:
        everything = (await http.get(f"{APP}/tags", params={"limit": 1})).json()
        first = await http.get(f"{APP}/tags", params={"limit": 1, "page": 1})
        second = (await http.get(f"{APP}/tags", params={"limit": 1, "page": 2})).json()
    commit = writable.git("acme/app", "rev-parse", "main~1")
    assert [tag["name"] for tag in everything] == ["light", "v0.1.0"]  # Gitea pages only with a page
    light = everything[0]
    assert (light["id"], light["commit"]["sha"]) == (commit, commit)
    assert light["message"] == "Add 2 KiB benchmark fixture"
    assert light["commit"]["created"] == "2026-02-16T09:45:00+01:00"
    assert [tag["name"] for tag in first.json()] == ["light"]
    assert [tag["name"] for tag in second] == ["v0.1.0"]
    assert first.headers["x-total-count"] == "2"
    assert "link" not in first.headers


async def test_tags_of_a_repository_without_tags(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{API}/repos/acme/infra/tags")
    assert (response.json(), response.headers["x-total-count"]) == ([], "0")


async def test_release_json(client: httpx.AsyncClient) -> None:
    releases = (await client.get(f"{APP}/releases")).json()
    published = releases[1]
    assert published == {
        "id": 1,
        "tag_name": "v0.1.0",
        "target_commitish": "main",
        "name": "v0.1.0: first release",
        "body": "The first release of the demo application.\n\n- user guide\n- `shout` helper",
        "url": f"{APP}/releases/1",
        "html_url": f"{HTML}/releases/tag/v0.1.0",
        "tarball_url": f"{HTML}/archive/v0.1.0.tar.gz",
        "zipball_url": f"{HTML}/archive/v0.1.0.zip",
        "upload_url": f"{APP}/releases/1/assets",
        "draft": False,
        "prerelease": False,
        "created_at": "2026-02-02T14:30:00Z",
        "published_at": "2026-02-02T14:30:00Z",
        "author": published["author"],
        "assets": [],
    }
    assert published["author"]["login"] == "alice"
    assert published["author"]["email"] == "alice@noreply.localhost"  # Gitea renders it for nobody


async def test_drafts_only_for_writers(
    client: httpx.AsyncClient, anonymous: httpx.AsyncClient, writable: Writable
) -> None:
    writer_view = (await client.get(f"{APP}/releases")).json()  # aegis-bot writes to acme/app
    anonymous_view = await anonymous.get(f"{APP}/releases")
    reader = add_token(writable.state_dir, user="other", scopes=["read:repository"])
    async with writable.client(reader) as http:
        reader_view = await http.get(f"{APP}/releases", params={"draft": "true"})
    assert [(release["id"], release["draft"]) for release in writer_view] == [(2, True), (1, False)]
    assert [release["id"] for release in anonymous_view.json()] == [1]
    assert anonymous_view.headers["x-total-count"] == "1"
    assert reader_view.json() == []


@pytest.mark.parametrize(
    ("params", "ids"),
    [
        pytest.param({"draft": "true"}, [2], id="drafts"),
        pytest.param({"draft": "false"}, [1], id="published"),
        pytest.param({"draft": "bogus"}, [1], id="unparsable-is-false"),
        pytest.param({"draft": ""}, [2, 1], id="empty-is-no-filter"),
        pytest.param({"pre-release": "true"}, [], id="pre-releases"),
        pytest.param({"pre-release": "0"}, [2, 1], id="not-pre-releases"),
    ],
)
async def test_release_filters(client: httpx.AsyncClient, params: dict[str, str], ids: list[int]) -> None:
    response = await client.get(f"{APP}/releases", params=params)
    assert [release["id"] for release in response.json()] == ids
    assert response.headers["x-total-count"] == str(len(ids))


async def test_releases_page(client: httpx.AsyncClient) -> None:
    response = await client.get(f"{APP}/releases", params={"limit": 1, "page": 2})
    assert [release["id"] for release in response.json()] == [1]
    assert response.headers["x-total-count"] == "2"
    assert response.headers["link"] == f'<{APP}/releases?limit=1&page=1>; rel="first",' + (
        f'<{APP}/releases?limit=1&page=1>; rel="prev"'
    )
