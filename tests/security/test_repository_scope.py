"""A tool without a repository argument (list_repositories) shows a repository only where the same call,
made on that repository, would be allowed: a principal scoped to some repositories learns nothing of the
others, and a repository whose rules deny the tool is left out for everyone.

Two keys: `e2e-agent` (the gateway's own key) is scoped to acme/app by the policy; `wide` is not listed.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fuzz.client import UNTHROTTLED, CheckedClient
from tests.processes import Gateway, Simulator, create_key, start_gateway
from tests.security.rpc import assert_denied, call_tool

pytestmark = pytest.mark.e2e

POLICY = """\
defaults: {read: allow, write: deny}
repositories:
  acme/private-notes:
    tools: {deny: [list_repositories, get_repository_info]}
principals:
  e2e-agent:
    repositories: [acme/app]
"""
# What Gitea shows the gateway's token (aegis-bot): other/secret is not among them.
VISIBLE_UPSTREAM = {"acme/app", "acme/infra", "acme/private-notes"}


@pytest.fixture(scope="module")
def wide_key(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """The working directory of the module's gateway, and a key `wide` created in it beforehand."""
    workdir = tmp_path_factory.mktemp("gw-scope")
    return str(workdir), create_key(workdir / "keys.json", name="wide")


@pytest.fixture(scope="module")
def gateway(upstream: Simulator, wide_key: tuple[str, str], opa_bin: str) -> Iterator[Gateway]:
    gw = start_gateway(Path(wide_key[0]), policy=POLICY, upstream=upstream, env=UNTHROTTLED)
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def wide_client(gateway: Gateway, wide_key: tuple[str, str]) -> Iterator[CheckedClient]:
    client = CheckedClient(dataclasses.replace(gateway, key=wide_key[1]))
    yield client
    client.close()


def listed(client: CheckedClient, **arguments: Any) -> tuple[set[str], dict[str, Any]]:
    result: dict[str, Any] = call_tool(client, "list_repositories", arguments)["result"]
    assert result["isError"] is False, result
    names = {repo["full_name"].lower() for repo in result["structuredContent"]["repositories"]}
    return names, result


def test_a_scoped_principal_lists_only_its_repositories(client: CheckedClient, gateway: Gateway) -> None:
    names, result = listed(client)
    assert names == {"acme/app"}
    shown = json.dumps(result)
    assert "infra" not in shown and "private-notes" not in shown
    listing = result["structuredContent"]
    assert (listing["total"], listing["complete"]) == (1, True)
    assert listing["withheld_by_policy"] == len(VISIBLE_UPSTREAM) - 1
    entry = json.loads(gateway.audit_log.read_text().splitlines()[-1])
    assert entry["tool"] == "list_repositories" and entry["output"]["withheld_by_policy"] == 2


@pytest.mark.parametrize(("hidden", "absent"), [("infra", "inxra"), ("pri", "prx"), ("i", "q")])
def test_a_query_tells_nothing_of_repositories_outside_the_scope(
    client: CheckedClient, hidden: str, absent: str
) -> None:
    """A count of hidden matches, or Gitea's total, would spell hidden names one character at a time."""
    answers = []
    for query in (hidden, absent):
        names, result = listed(client, query=query)
        assert names == set(), query
        answers.append({key: value for key, value in result["structuredContent"].items()})
    assert (
        answers[0] == answers[1] == {"repositories": [], "page": 1, "count": 0, "total": 0, "complete": True}
    )


def test_pages_are_cut_from_the_shown_repositories_only(wide_client: CheckedClient) -> None:
    """Paging Gitea's own pages would show where hidden repositories sit among the others."""
    pages = [listed(wide_client, limit=1, page=page)[1]["structuredContent"] for page in (1, 2, 3)]
    assert [[repo["full_name"].lower() for repo in page["repositories"]] for page in pages] == [
        ["acme/app"],
        ["acme/infra"],
        [],
    ]
    assert {page["total"] for page in pages} == {2}


def test_what_the_listing_hides_is_what_get_repository_info_denies(client: CheckedClient) -> None:
    for repo in sorted(VISIBLE_UPSTREAM - {"acme/app"}):
        owner, name = repo.split("/")
        document = call_tool(client, "get_repository_info", {"owner": owner, "repo": name})
        assert_denied(document, rule="principals.e2e-agent.repositories")


def test_a_repository_denying_the_tool_is_hidden_from_every_principal(wide_client: CheckedClient) -> None:
    names, result = listed(wide_client)
    assert names == {"acme/app", "acme/infra"}
    assert result["structuredContent"]["withheld_by_policy"] == 1
