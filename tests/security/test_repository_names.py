"""Repository names: decided and fetched under one normalized (lower-case) name; tricks are refused.

A name that differs only in case is the same repository to Gitea, so it must be the same repository to
the policy: a deny of other/secret also denies Other/SECRET, and ACME/App reaches Gitea as acme/app.
"""

from __future__ import annotations

import json

import pytest

from gateway.mcp._jsonrpc import INVALID_PARAMS
from gateway.tools import default_registry
from tests.fuzz.client import CheckedClient
from tests.processes import Gateway, Simulator
from tests.security.rpc import (
    assert_denied,
    assert_refused,
    call_tool,
    no_upstream_request,
    upstream_requests,
)

pytestmark = pytest.mark.e2e

TOOL_NAMES = sorted(tool.tool.name for tool in default_registry())
POLICY = f"""\
defaults: {{read: allow, write: deny}}
repositories:
  acme/app:
    paths:
      deny: ["src/secrets/**"]
  other/secret:
    tools:
      deny: {json.dumps(TOOL_NAMES)}
"""
SECRET_RULE = f"repo.other/secret.tools.deny[{TOOL_NAMES.index('get_repository_info')}]"


def last_audit_entry(gateway: Gateway) -> dict[str, object]:
    entry: dict[str, object] = json.loads(gateway.audit_log.read_text().splitlines()[-1])
    return entry


@pytest.mark.parametrize(("owner", "repo"), [("ACME", "App"), ("Acme", "APP"), ("acme", "aPp")])
def test_a_mixed_case_name_reaches_gitea_lower_cased(
    client: CheckedClient, upstream: Simulator, gateway: Gateway, owner: str, repo: str
) -> None:
    with upstream_requests(upstream) as served:
        document = call_tool(
            client, "get_file_contents", {"owner": owner, "repo": repo, "filepath": "README.md"}
        )
    assert document["result"]["isError"] is False, document
    blob = f"/api/v1/repos/acme/app/git/blobs/{document['result']['structuredContent']['sha']}"
    assert [request["path"] for request in served] == ["/api/v1/repos/acme/app/contents-ext/README.md", blob]
    entry = last_audit_entry(gateway)
    assert (entry["repo"], entry["outcome"]) == ("acme/app", "allowed")


@pytest.mark.parametrize(("owner", "repo"), [("ACME", "APP"), ("Acme", "app")])
def test_a_path_rule_holds_whatever_the_case_of_the_name(
    client: CheckedClient, upstream: Simulator, owner: str, repo: str
) -> None:
    with no_upstream_request(upstream):
        document = call_tool(
            client, "get_file_contents", {"owner": owner, "repo": repo, "filepath": "src/secrets/prod.env"}
        )
    assert_denied(document, rule="repo.acme/app.paths.deny[0]")


@pytest.mark.parametrize(("owner", "repo"), [("other", "secret"), ("Other", "SECRET"), ("OTHER", "Secret")])
def test_a_denied_repository_is_denied_whatever_the_case_of_its_name(
    client: CheckedClient, upstream: Simulator, gateway: Gateway, owner: str, repo: str
) -> None:
    with no_upstream_request(upstream):
        document = call_tool(client, "get_repository_info", {"owner": owner, "repo": repo})
    assert_denied(document, rule=SECRET_RULE)
    assert last_audit_entry(gateway)["repo"] == "other/secret"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        pytest.param("owner", "acme%2fapp", id="owner-percent-encoded-slash"),
        pytest.param("repo", "acme%2Fapp", id="repo-percent-encoded-slash"),
        pytest.param("owner", "acme/app", id="owner-with-slash"),
        pytest.param("repo", "app/../secret", id="repo-with-traversal"),
        pytest.param("owner", "\u0430cme", id="owner-cyrillic-a"),
        pytest.param("repo", "\u0430pp", id="repo-cyrillic-a"),
        pytest.param("repo", "\uff41pp", id="repo-fullwidth-a"),
        pytest.param("repo", "app\u200b", id="repo-zero-width-space"),
        pytest.param("owner", "acme.", id="owner-trailing-dot"),
        pytest.param("repo", "app.", id="repo-trailing-dot"),
        pytest.param("repo", "app.git", id="repo-git-suffix"),
        pytest.param("repo", "App.GIT", id="repo-git-suffix-upper-case"),
        pytest.param("repo", "app.wiki", id="repo-wiki-suffix"),
        pytest.param("owner", "", id="owner-empty"),
        pytest.param("repo", "", id="repo-empty"),
        pytest.param("owner", "a" * 101, id="owner-too-long"),
        pytest.param("repo", "a" * 101, id="repo-too-long"),
        pytest.param("repo", ".", id="repo-dot"),
        pytest.param("repo", "..", id="repo-dot-dot"),
        pytest.param("repo", " app", id="repo-leading-space"),
        pytest.param("repo", "app\n", id="repo-trailing-newline"),
        pytest.param("owner", "acme\u0000", id="owner-nul"),
    ],
)
def test_name_tricks_are_refused_before_gitea(
    client: CheckedClient, upstream: Simulator, field: str, value: str
) -> None:
    arguments = {"owner": "acme", "repo": "app", field: value}
    with no_upstream_request(upstream):
        document = call_tool(client, "get_repository_info", arguments)
    assert_refused(document, code=INVALID_PARAMS, naming=f"'{field}'")
