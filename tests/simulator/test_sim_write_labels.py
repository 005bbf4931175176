"""Repository labels and adding or removing an issue's labels."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .conftest import API, Writable

SWAGGER = "http://gitea.test/api/swagger"
APP = f"{API}/repos/acme/app"
INFRA = f"{API}/repos/acme/infra"


def _names(labels: list[dict[str, Any]]) -> list[str]:
    return [label["name"] for label in labels]


async def test_list_labels(writer: httpx.AsyncClient) -> None:
    response = await writer.get(f"{APP}/labels")
    assert response.status_code == 200
    assert _names(response.json()) == ["bug", "documentation", "enhancement", "security"]
    assert response.headers["x-total-count"] == "4"
    assert response.json()[0] == {
        "id": 1,
        "name": "bug",
        "exclusive": False,
        "is_archived": False,
        "color": "ee0701",
        "description": "Something is not working",
        "url": f"{APP}/labels/1",
    }


async def test_list_labels_paginates(writer: httpx.AsyncClient) -> None:
    response = await writer.get(f"{APP}/labels", params={"limit": 3, "page": 2})
    assert _names(response.json()) == ["security"]
    assert response.headers["x-total-count"] == "4"
    assert 'rel="first"' in response.headers["link"]
    assert 'rel="next"' not in response.headers["link"]


@pytest.mark.parametrize(
    ("sort", "names"),
    [
        ("reversealphabetically", ["security", "enhancement", "documentation", "bug"]),
        ("mostissues", ["bug", "security", "enhancement", "documentation"]),  # ties by id
        ("leastissues", ["enhancement", "documentation", "bug", "security"]),
    ],
)
async def test_list_labels_sorts(writer: httpx.AsyncClient, sort: str, names: list[str]) -> None:
    assert _names((await writer.get(f"{APP}/labels", params={"sort": sort})).json()) == names


async def test_list_labels_needs_read_issue_and_visibility(writable: Writable) -> None:
    async with writable.client(writable.repo_token) as http:
        denied = await http.get(f"{APP}/labels")
        hidden = await http.get(f"{API}/repos/other/secret/labels")
    async with writable.client(None) as anonymous:
        public = await anonymous.get(f"{INFRA}/labels")
    assert denied.status_code == 403
    assert "required=[read:issue]" in denied.json()["message"]
    assert hidden.status_code == 403  # the scope comes first
    assert _names(public.json()) == ["ops"]


async def test_add_labels_by_id(writer: httpx.AsyncClient) -> None:
    response = await writer.post(f"{APP}/issues/1/labels", json={"labels": [3, 2]})
    assert response.status_code == 200
    assert _names(response.json()) == ["bug", "enhancement", "security"]
    issue = (await writer.get(f"{APP}/issues/1")).json()
    assert _names(issue["labels"]) == ["bug", "enhancement", "security"]
    filtered = await writer.get(f"{APP}/issues", params={"labels": "enhancement", "type": "issues"})
    assert [item["number"] for item in filtered.json()] == [1]


async def test_add_labels_by_name(writer: httpx.AsyncClient) -> None:
    response = await writer.post(f"{APP}/issues/5/labels", json={"labels": ["documentation"]})
    assert _names(response.json()) == ["documentation"]


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        pytest.param([99, 5], ["bug"], id="unknown-and-foreign-ids-are-ignored"),
        pytest.param(["nope", "ops"], ["bug"], id="unknown-and-foreign-names-are-ignored"),
        pytest.param([1, 1], ["bug"], id="already-there"),
        pytest.param([], ["bug"], id="nothing"),
        pytest.param([3.9], ["bug", "security"], id="numbers-are-truncated"),
    ],
)
async def test_add_labels_ignores_what_does_not_apply(
    writer: httpx.AsyncClient, labels: list[Any], expected: list[str]
) -> None:
    # Gitea: GetLabelsByIDs / GetLabelIDsInRepoByNames drop unknown labels and NewIssueLabels drops
    # labels of other repositories, without an error.
    response = await writer.post(f"{APP}/issues/1/labels", json={"labels": labels})
    assert response.status_code == 200
    assert _names(response.json()) == expected


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        pytest.param([1, "bug"], "labels should be an array of strings or integers", id="mixed"),
        pytest.param([True], "a label must be an integer or a string", id="bool"),
        pytest.param([None], "a label must be an integer or a string", id="null"),
        pytest.param([{"id": 1}], "a label must be an integer or a string", id="object"),
    ],
)
async def test_add_labels_bad_items_are_400(
    writer: httpx.AsyncClient, labels: list[Any], message: str
) -> None:
    response = await writer.post(f"{APP}/issues/1/labels", json={"labels": labels})
    assert response.status_code == 400
    assert response.json() == {"message": message, "url": SWAGGER}


async def test_exclusive_labels_replace_their_scope(writable: Writable, writer: httpx.AsyncClient) -> None:
    def add(meta: dict[str, Any]) -> None:
        meta["repos"][0]["labels"] += [
            {"id": 10, "name": "priority/high", "color": "ff0000", "exclusive": True},
            {"id": 11, "name": "priority/low", "color": "00ff00", "exclusive": True},
        ]

    writable.edit_metadata(add)
    await writer.post(f"{APP}/issues/1/labels", json={"labels": [10]})
    response = await writer.post(f"{APP}/issues/1/labels", json={"labels": [11]})
    assert _names(response.json()) == ["bug", "priority/low"]


async def test_labels_need_write_permission(writer: httpx.AsyncClient) -> None:
    added = await writer.post(f"{INFRA}/issues/1/labels", json={"labels": [5]})
    removed = await writer.delete(f"{INFRA}/issues/1/labels/5")
    assert added.status_code == removed.status_code == 403
    assert added.json() == {"message": "write permission is required", "url": SWAGGER}
    assert removed.content == b""  # Gitea answers with the status only
    assert _names((await writer.get(f"{INFRA}/issues/1")).json()["labels"]) == ["ops"]


@pytest.mark.parametrize("path", ["/issues/99/labels", "/issues/x/labels"])
async def test_labels_of_a_missing_issue_are_404(writer: httpx.AsyncClient, path: str) -> None:
    added = await writer.post(f"{APP}{path}", json={"labels": [1]})
    removed = await writer.delete(f"{APP}{path}/1")
    assert added.status_code == removed.status_code == 404


async def test_remove_label(writer: httpx.AsyncClient) -> None:
    response = await writer.delete(f"{APP}/issues/4/labels/3")
    assert response.status_code == 204
    assert response.content == b""
    issue = (await writer.get(f"{APP}/issues/4")).json()
    assert _names(issue["labels"]) == ["bug"]


@pytest.mark.parametrize("label", ["2", "5"], ids=["not-on-the-issue", "another-repositorys"])
async def test_remove_a_label_the_issue_does_not_carry_is_204(writer: httpx.AsyncClient, label: str) -> None:
    response = await writer.delete(f"{APP}/issues/4/labels/{label}")
    assert response.status_code == 204
    assert _names((await writer.get(f"{APP}/issues/4")).json()["labels"]) == ["bug", "security"]


@pytest.mark.parametrize("label", ["99", "0", "abc"])
async def test_remove_unknown_label_is_422(writer: httpx.AsyncClient, label: str) -> None:
    response = await writer.delete(f"{APP}/issues/4/labels/{label}")
    shown = label if label.isdigit() else "0"
    assert response.status_code == 422
    assert response.json() == {"message": f"label does not exist [label_id: {shown}]", "url": SWAGGER}
