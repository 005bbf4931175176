"""How the read tools ask Gitea, against a scripted Gitea: a tree is listed only at the commit a ref names
and only an answer for that commit's tree is accepted; repository listings read every page Gitea has
(whatever its page size), filter them, and page what may be shown."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import pytest

from gateway.errors import UpstreamError
from gateway.gitea import Page
from gateway.tools import ToolCall
from gateway.tools._upstream import commit_at, tree_page
from gateway.tools.read import MAX_REPOSITORY_PAGES, list_repositories
from gateway.vocabulary import Resource

COMMIT = "c" * 40
APP = Resource(owner="acme", name="app", ref="v1")


class ScriptedGitea:
    """Answers GETs from `answers` (by path), and /repos/search from `repositories`, `page_size` at a
    time, with X-Total-Count unless `total` is False."""

    def __init__(
        self,
        answers: Mapping[str, Any] | None = None,
        repositories: int = 0,
        page_size: int = 50,
        total: bool = True,
    ) -> None:
        self.answers = dict(answers or {})
        self.names = [f"acme/repo-{number:04d}" for number in range(repositories)]
        self.page_size = page_size
        self.total = total
        self.asked: list[tuple[str, Mapping[str, Any] | None]] = []

    async def get_json(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        self.asked.append((path, params))
        return self.answers[path]

    async def get_page(self, path: str, params: Mapping[str, Any]) -> Page:
        self.asked.append((path, params))
        size = min(int(params["limit"]), self.page_size)
        start = (int(params["page"]) - 1) * size
        items = [{"full_name": name} for name in self.names[start : start + size]]
        return Page(items=items, total=len(self.names) if self.total else None)


class HideOdd:
    """Shows only repositories with an even number."""

    async def allowed(self, names: Collection[str]) -> frozenset[str]:
        return frozenset(name for name in names if int(name[-4:]) % 2 == 0)


def call_with(gitea: ScriptedGitea, arguments: Mapping[str, Any]) -> ToolCall:
    return ToolCall(gitea, Resource(), arguments, paths=HideOdd(), repos=HideOdd(), secrets="mask")  # type: ignore[arg-type]


async def test_a_tree_is_read_at_the_commit_its_ref_names() -> None:
    gitea = ScriptedGitea(
        {
            "/api/v1/repos/acme/app/git/commits/v1": {"sha": COMMIT},
            f"/api/v1/repos/acme/app/git/trees/{COMMIT}": {"sha": COMMIT, "tree": []},
        }
    )
    commit = await commit_at(gitea, APP)  # type: ignore[arg-type]
    assert (commit.ref, commit.id) == ("v1", COMMIT)
    assert (await tree_page(gitea, APP, commit, page=1))["tree"] == []  # type: ignore[arg-type]
    assert [path for path, _ in gitea.asked][-1].endswith(f"/git/trees/{COMMIT}")


@pytest.mark.parametrize("sha", ["t" * 40, "c" * 39, None, "C" * 40])
async def test_a_ref_must_name_a_commit_by_its_full_id(sha: str | None) -> None:
    gitea = ScriptedGitea({"/api/v1/repos/acme/app/git/commits/v1": {"sha": sha}})
    with pytest.raises(UpstreamError, match="malformed"):
        await commit_at(gitea, APP)  # type: ignore[arg-type]


async def test_an_answer_for_another_tree_is_refused() -> None:
    commit = await commit_at(
        ScriptedGitea({"/api/v1/repos/acme/app/git/commits/v1": {"sha": COMMIT}}),  # type: ignore[arg-type]
        APP,
    )
    gitea = ScriptedGitea({f"/api/v1/repos/acme/app/git/trees/{COMMIT}": {"sha": "d" * 40, "tree": []}})
    with pytest.raises(UpstreamError, match="malformed"):
        await tree_page(gitea, APP, commit, page=1)  # type: ignore[arg-type]


@pytest.mark.parametrize(("page_size", "total"), [(50, True), (30, True), (50, False)])
async def test_every_page_gitea_has_is_read_then_paged_here(page_size: int, total: bool) -> None:
    gitea = ScriptedGitea(repositories=120, page_size=page_size, total=total)
    output = await list_repositories(call_with(gitea, {"page": 2, "limit": 20}))
    listing = output.structured
    assert (listing["total"], listing["complete"], output.withheld) == (60, True, 60)
    assert [repo["full_name"] for repo in listing["repositories"]] == [
        f"acme/repo-{number:04d}" for number in range(40, 80, 2)
    ]
    assert len(gitea.asked) == -(-120 // page_size)  # pages of Gitea's size, until the total or a short one


async def test_at_most_max_pages_are_read_and_the_listing_says_it_is_incomplete() -> None:
    gitea = ScriptedGitea(repositories=50 * MAX_REPOSITORY_PAGES + 1)
    output = await list_repositories(call_with(gitea, {}))
    assert len(gitea.asked) == MAX_REPOSITORY_PAGES
    assert (output.structured["complete"], output.structured["total"]) == (False, None)


async def test_with_a_query_hidden_repositories_are_not_counted() -> None:
    output = await list_repositories(call_with(ScriptedGitea(repositories=10), {"query": "repo"}))
    assert output.withheld == 0 and output.structured["total"] == 5
