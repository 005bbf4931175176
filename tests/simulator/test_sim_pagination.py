"""Gitea's pagination: page/limit clamping, X-Total-Count and Link headers."""

from __future__ import annotations

import httpx
import pytest
from gitea_simulator._pagination import ListOptions, list_headers

from .conftest import API

APP_URL = "http://gitea.test/"
URL = "http://gitea.test/api/v1/repos/acme/app/issues"


@pytest.mark.parametrize(
    ("query", "page", "size"),
    [
        pytest.param({}, 1, 30, id="defaults"),
        pytest.param({"limit": "0"}, 1, 30, id="limit-0-is-default"),
        pytest.param({"limit": "-5"}, 1, 30, id="negative-limit-is-default"),
        pytest.param({"limit": "1000"}, 1, 50, id="limit-capped-at-50"),
        pytest.param({"limit": "50"}, 1, 50, id="limit-50"),
        pytest.param({"page": "0"}, 1, 30, id="page-0-is-1"),
        pytest.param({"page": "-3"}, 1, 30, id="negative-page-is-1"),
        pytest.param({"page": "x", "limit": "y"}, 1, 30, id="non-numbers-are-0"),
        pytest.param({"page": "4", "limit": "7"}, 4, 7, id="as-given"),
    ],
)
def test_list_options(query: dict[str, str], page: int, size: int) -> None:
    options = ListOptions.from_query(query)
    assert (options.page, options.size) == (page, size)


def _links(url: str, total: int, size: int, raw_page: int) -> dict[str, str]:
    header = list_headers(url, app_url=APP_URL, total=total, page_size=size, raw_page=raw_page).get(
        "Link", ""
    )
    links = {}
    for part in filter(None, header.split(",")):
        target, rel = part.split(";")
        links[rel.strip().removeprefix('rel="').removesuffix('"')] = target.strip("<> ")
    return links


def test_link_header_on_a_middle_page() -> None:
    assert _links(f"{URL}?state=all&limit=2&page=2", total=5, size=2, raw_page=2) == {
        "next": f"{URL}?limit=2&page=3&state=all",
        "last": f"{URL}?limit=2&page=3&state=all",
        "first": f"{URL}?limit=2&page=1&state=all",
        "prev": f"{URL}?limit=2&page=1&state=all",
    }


@pytest.mark.parametrize(
    ("total", "size", "raw_page", "rels"),
    [
        pytest.param(5, 2, 1, {"next", "last"}, id="first-page"),
        pytest.param(5, 2, 0, {"next", "last"}, id="page-0-is-first"),
        pytest.param(5, 2, 3, {"first", "prev"}, id="last-page"),
        pytest.param(5, 2, 9, {"first", "prev"}, id="beyond-the-end-is-the-last"),
        pytest.param(5, 30, 1, set(), id="single-page"),
        pytest.param(0, 30, 1, set(), id="empty"),
        pytest.param(0, 30, 4, set(), id="empty-with-page"),
    ],
)
def test_link_header_names_only_existing_pages(total: int, size: int, raw_page: int, rels: set[str]) -> None:
    assert set(_links(f"{URL}?page={raw_page}", total, size, raw_page)) == rels


def test_no_link_header_when_everything_fits() -> None:
    headers = list_headers(URL, app_url=APP_URL, total=3, page_size=30, raw_page=0)
    assert headers == {"X-Total-Count": "3", "Access-Control-Expose-Headers": "X-Total-Count"}


@pytest.mark.parametrize(
    ("params", "numbers", "rels"),
    [
        pytest.param({"limit": "4"}, [5, 6, 4, 3], {"next", "last"}, id="first"),
        pytest.param({"limit": "2", "page": "2"}, [4, 3], {"next", "last", "first", "prev"}, id="middle"),
        pytest.param({"limit": "4", "page": "2"}, [2, 1], {"first", "prev"}, id="last"),
        pytest.param({"limit": "4", "page": "3"}, [], {"first", "prev"}, id="beyond"),
        pytest.param({"limit": "0"}, [5, 6, 4, 3, 2, 1], set(), id="limit-0"),
        pytest.param({"limit": "1000"}, [5, 6, 4, 3, 2, 1], set(), id="limit-1000"),
        pytest.param({"limit": "4", "page": "0"}, [5, 6, 4, 3], {"next", "last"}, id="page-0"),
    ],
)
async def test_issue_list_pages(
    client: httpx.AsyncClient, params: dict[str, str], numbers: list[int], rels: set[str]
) -> None:
    response = await client.get(f"{API}/repos/acme/app/issues", params={"state": "all", **params})
    assert [issue["number"] for issue in response.json()] == numbers
    assert response.headers["x-total-count"] == "6"
    links = [part.split(";")[1].strip() for part in response.headers.get("link", "").split(",") if part]
    assert {rel.removeprefix('rel="').removesuffix('"') for rel in links} == rels
    for part in filter(None, response.headers.get("link", "").split(",")):
        assert part.startswith("<http://gitea.test/api/v1/repos/acme/app/issues?")


async def test_search_pages_with_limit_1(client: httpx.AsyncClient) -> None:
    pages = [
        await client.get(f"{API}/repos/search", params={"limit": 1, "page": page}) for page in (1, 2, 3, 4)
    ]
    names = [[repo["full_name"] for repo in page.json()["data"]] for page in pages]
    assert names == [["acme/app"], ["acme/infra"], ["acme/private-notes"], []]
    assert pages[0].headers["link"] == (
        '<http://gitea.test/api/v1/repos/search?limit=1&page=2>; rel="next",'
        '<http://gitea.test/api/v1/repos/search?limit=1&page=3>; rel="last"'
    )
