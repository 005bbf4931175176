"""Creating and editing issues and commenting, and what the read endpoints show afterwards."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import httpx
import pytest

from .conftest import API, Writable

SWAGGER = "http://gitea.test/api/swagger"
APP = f"{API}/repos/acme/app"
INFRA = f"{API}/repos/acme/infra"  # aegis-bot only reads here
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


async def test_create_issue(writer: httpx.AsyncClient) -> None:
    response = await writer.post(f"{APP}/issues", json={"title": "Crash on start", "body": "Steps: run it."})
    assert response.status_code == 201
    issue = response.json()
    assert (issue["number"], issue["id"]) == (7, 10)  # after issues and pulls #1..#6; ids are global
    assert (issue["title"], issue["body"], issue["state"]) == ("Crash on start", "Steps: run it.", "open")
    assert issue["user"]["login"] == "aegis-bot"
    assert issue["html_url"] == "http://gitea.test/acme/app/issues/7"
    assert (issue["comments"], issue["labels"], issue["closed_at"], issue["pull_request"]) == (
        0,
        [],
        None,
        None,
    )
    assert TIME.match(issue["created_at"])
    assert issue["updated_at"] == issue["created_at"]
    assert (await writer.get(f"{APP}/issues/7")).json() == issue
    listed = await writer.get(f"{APP}/issues")
    assert [item["number"] for item in listed.json()] == [7, 6, 4, 3, 1]
    repo = (await writer.get(f"{APP}")).json()
    assert repo["open_issues_count"] == 3


async def test_create_issue_with_labels_and_closed(writer: httpx.AsyncClient) -> None:
    response = await writer.post(
        f"{APP}/issues", json={"title": "Done already", "labels": [3, 1, 5, 99], "closed": True}
    )
    issue = response.json()
    assert [label["name"] for label in issue["labels"]] == ["bug", "security"]  # 5 is acme/infra's: dropped
    assert issue["state"] == "closed"
    assert issue["closed_at"] == issue["created_at"]
    closed = await writer.get(f"{APP}/issues", params={"state": "closed", "labels": "security"})
    assert [item["number"] for item in closed.json()] == [7]


async def test_issue_numbers_follow_pull_requests_and_each_repository_counts_alone(
    writer: httpx.AsyncClient,
) -> None:
    first = (await writer.post(f"{INFRA}/issues", json={"title": "a"})).json()
    second = (await writer.post(f"{APP}/issues", json={"title": "b"})).json()
    third = (await writer.post(f"{INFRA}/issues", json={"title": "c"})).json()
    assert [
        (first["number"], first["id"]),
        (second["number"], second["id"]),
        (third["number"], third["id"]),
    ] == [
        (2, 10),
        (7, 11),
        (3, 12),
    ]


async def test_readers_may_open_issues_but_not_label_them(writer: httpx.AsyncClient) -> None:
    # Gitea: creating an issue needs read access to issues only; a non-writer's labels are dropped.
    response = await writer.post(f"{INFRA}/issues", json={"title": "Rotate keys", "labels": [5]})
    assert response.status_code == 201
    assert response.json()["labels"] == []
    assert response.json()["user"]["login"] == "aegis-bot"
    private = await writer.post(f"{API}/repos/acme/private-notes/issues", json={"title": "Q3"})
    assert private.status_code == 201


async def test_concurrent_creations_lose_nothing(writer: httpx.AsyncClient) -> None:
    responses = await asyncio.gather(
        *(writer.post(f"{APP}/issues", json={"title": f"#{n}"}) for n in range(12))
    )
    assert sorted(response.json()["number"] for response in responses) == list(range(7, 19))
    listed = await writer.get(f"{APP}/issues", params={"state": "all", "limit": 50})
    assert listed.headers["x-total-count"] == "18"


async def test_edit_issue_title_body_and_state(writer: httpx.AsyncClient) -> None:
    before = (await writer.get(f"{APP}/issues/1")).json()
    response = await writer.patch(
        f"{APP}/issues/1", json={"title": "Crash fixed?", "body": "New", "state": "closed"}
    )
    assert response.status_code == 201  # Gitea answers 201 here
    issue = response.json()
    assert (issue["title"], issue["body"], issue["state"]) == ("Crash fixed?", "New", "closed")
    assert issue["closed_at"] == issue["updated_at"]
    assert issue["updated_at"] != before["updated_at"]
    assert issue["content_version"] == before["content_version"] + 1
    assert issue["user"] == before["user"]  # the poster does not change
    assert (await writer.get(f"{APP}/issues/1")).json() == issue
    reopened = (await writer.patch(f"{APP}/issues/1", json={"state": "open"})).json()
    assert (reopened["state"], reopened["closed_at"]) == ("open", None)


async def test_edit_issue_keeps_what_is_not_given(writer: httpx.AsyncClient) -> None:
    before = (await writer.get(f"{APP}/issues/4")).json()
    same = (await writer.patch(f"{APP}/issues/4", json={"title": "", "state": "open"})).json()
    assert same == before  # an empty title and the current state change nothing
    emptied = (await writer.patch(f"{APP}/issues/4", json={"body": ""})).json()
    assert (emptied["title"], emptied["body"]) == (before["title"], "")


async def test_edit_pull_request_as_issue(writer: httpx.AsyncClient) -> None:
    response = await writer.patch(f"{APP}/issues/3", json={"state": "closed"})
    assert response.json()["pull_request"]["html_url"] == "http://gitea.test/acme/app/pulls/3"
    assert response.json()["state"] == "closed"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        pytest.param({"state": "merged"}, 412, "unknown state: merged", id="unknown-state"),
        pytest.param(
            {"body": "x", "content_version": 7}, 400, "the issue is already changed", id="stale-version"
        ),
    ],
)
async def test_edit_issue_refusals(
    writer: httpx.AsyncClient, body: dict[str, object], status: int, message: str
) -> None:
    response = await writer.patch(f"{APP}/issues/1", json=body)
    assert response.status_code == status
    assert response.json() == {"message": message, "url": SWAGGER}


async def test_edit_with_a_bad_state_keeps_the_title_it_already_applied(writer: httpx.AsyncClient) -> None:
    # Gitea saves the title before it looks at the state.
    response = await writer.patch(f"{APP}/issues/1", json={"title": "Renamed", "state": "bogus"})
    assert response.status_code == 412
    assert (await writer.get(f"{APP}/issues/1")).json()["title"] == "Renamed"


async def test_merged_pull_request_state_cannot_change(writable: Writable, writer: httpx.AsyncClient) -> None:
    def merge(meta: dict[str, Any]) -> None:
        meta["repos"][0]["issues"][2]["pull_request"]["merged"] = True  # acme/app's #3

    writable.edit_metadata(merge)
    response = await writer.patch(f"{APP}/issues/3", json={"state": "open"})
    assert response.status_code == 412
    assert response.json()["message"] == "cannot change state of this pull request, it was already merged"


@pytest.mark.parametrize("index", ["99", "0", "abc"])
async def test_edit_or_comment_on_missing_issue_is_404(writer: httpx.AsyncClient, index: str) -> None:
    edit = await writer.patch(f"{APP}/issues/{index}", json={"title": "x"})
    comment = await writer.post(f"{APP}/issues/{index}/comments", json={"body": "x"})
    assert edit.status_code == comment.status_code == 404
    assert edit.json() == comment.json() == {"errors": None, "message": "not found", "url": SWAGGER}


async def test_only_the_poster_or_a_writer_may_edit(writer: httpx.AsyncClient) -> None:
    denied = await writer.patch(f"{INFRA}/issues/1", json={"title": "mine now"})
    assert denied.status_code == 403
    assert denied.content == b""  # Gitea answers with the status only
    assert (await writer.get(f"{INFRA}/issues/1")).json()["title"] == "Move secrets out of .env"
    own = (await writer.post(f"{INFRA}/issues", json={"title": "typo"})).json()
    edited = await writer.patch(
        f"{INFRA}/issues/{own['number']}", json={"title": "fixed typo", "state": "closed"}
    )
    assert edited.status_code == 201
    assert (edited.json()["title"], edited.json()["state"]) == ("fixed typo", "closed")


async def test_comment(writer: httpx.AsyncClient) -> None:
    before = (await writer.get(f"{APP}/issues/1")).json()
    response = await writer.post(f"{APP}/issues/1/comments", json={"body": "Still happens on 0.2."})
    assert response.status_code == 201
    comment = response.json()
    assert comment["id"] == 1
    assert comment["body"] == "Still happens on 0.2."
    assert comment["html_url"] == "http://gitea.test/acme/app/issues/1#issuecomment-1"
    assert (comment["issue_url"], comment["pull_request_url"]) == ("http://gitea.test/acme/app/issues/1", "")
    assert comment["user"]["login"] == "aegis-bot"
    assert comment["assets"] == []
    assert TIME.match(comment["created_at"])
    after = (await writer.get(f"{APP}/issues/1")).json()
    assert after["comments"] == before["comments"] + 1
    assert after["updated_at"] == comment["created_at"]
    second = (await writer.post(f"{APP}/issues/3/comments", json={"body": "LGTM"})).json()
    assert second["id"] == 2
    assert (second["issue_url"], second["pull_request_url"]) == ("", "http://gitea.test/acme/app/pulls/3")


async def test_readers_may_comment_except_on_locked_issues(
    writable: Writable, writer: httpx.AsyncClient
) -> None:
    response = await writer.post(f"{INFRA}/issues/1/comments", json={"body": "+1"})
    assert response.status_code == 201

    def lock(meta: dict[str, Any]) -> None:
        meta["repos"][1]["issues"][0]["is_locked"] = True  # acme/infra's #1

    writable.edit_metadata(lock)
    locked = await writer.post(f"{INFRA}/issues/1/comments", json={"body": "+2"})
    assert locked.status_code == 403
    assert locked.json() == {"message": "You cannot comment on a locked issue.", "url": SWAGGER}
    assert (await writer.get(f"{INFRA}/issues/1")).json()["comments"] == 1
    async with writable.client(writable.alice_token) as alice:  # alice may not write acme/infra either
        assert (await alice.post(f"{INFRA}/issues/1/comments", json={"body": "+3"})).status_code == 403
