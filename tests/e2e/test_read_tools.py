"""The read tools end to end with the official MCP client, and the path policy inside their results:
each tool allowed and denied, and for every tool that shows paths or content, proof that a denied path's
content, diff and name never reach the agent, that the result says how much was withheld, and that the
audit entry counts it."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.types import CallToolResult, TextContent

from tests.processes import UNLIMITED, Gateway, Simulator, start_gateway
from tests.replay import assert_every_decision_replays
from tests.untrusted import untrusted_data

pytestmark = pytest.mark.e2e

NEW_TOOLS = (
    "list_branches",
    "list_tags",
    "list_releases",
    "list_labels",
    "get_commit_diff",
    "compare_refs",
    "list_pull_requests",
    "get_pull_request",
    "search_code",
    "find_secrets",
)
POLICY = f"""\
defaults: {{read: allow, write: deny}}
repositories:
  acme/app:
    paths:
      deny: ["src/secrets/**", "src/login.py"]
  acme/infra:
    tools:
      deny: [{", ".join(NEW_TOOLS)}]
"""
WITHHELD_NOTICE = "Withheld by policy"


@pytest.fixture(scope="module")
def gateway(simulator: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gw = start_gateway(tmp_path_factory.mktemp("gw-reads"), policy=POLICY, upstream=simulator, env=UNLIMITED)
    yield gw
    gw.stop()


@asynccontextmanager
async def connect(gateway: Gateway) -> AsyncIterator[Client]:
    async with (
        create_mcp_http_client(headers=gateway.auth) as http,
        Client(streamable_http_client(gateway.url, http_client=http)) as client,
    ):
        yield client


async def call(gateway: Gateway, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    async with connect(gateway) as client:
        return await client.call_tool(tool, arguments)


def gitea(simulator: Simulator, path: str) -> Any:
    response = httpx.get(
        f"{simulator.url}/api/v1/repos/{path}", headers={"Authorization": f"token {simulator.token}"}
    )
    response.raise_for_status()
    return response.json()


def commit_sha(simulator: Simulator, message: str, ref: str = "main") -> str:
    commits = gitea(simulator, f"acme/app/commits?sha={ref}&limit=50&stat=false&files=false")
    (sha,) = [c["sha"] for c in commits if c["commit"]["message"].startswith(message)]
    return str(sha)


def file_text(simulator: Simulator, path: str, ref: str) -> str:
    return base64.b64decode(gitea(simulator, f"acme/app/contents/{path}?ref={ref}")["content"]).decode()


def rotate_pull(simulator: Simulator) -> int:
    pulls = gitea(simulator, "acme/app/pulls?state=all")
    (number,) = [p["number"] for p in pulls if p["head"]["ref"] == "fix/rotate-secrets"]
    return int(number)


def shown(result: CallToolResult) -> str:
    """Everything the agent receives: every text block and the structured content."""
    texts = [block.text for block in result.content if isinstance(block, TextContent)]
    return "\n".join(texts) + repr(result.structured_content)


def structured(result: CallToolResult) -> dict[str, Any]:
    assert result.is_error is False, result.content
    assert result.structured_content is not None
    return result.structured_content


def last_audit(gateway: Gateway) -> dict[str, Any]:
    return dict(json.loads(gateway.audit_log.read_text().splitlines()[-1]))


def paths_requested(simulator: Simulator, since: int) -> list[str]:
    return [str(r["path"]) for r in simulator.requests()[since:]]


def assert_withheld(result: CallToolResult, gateway: Gateway, count: int) -> None:
    """The result and its audit entry both say that `count` items were withheld by path policy."""
    assert structured(result)["withheld_by_policy"] == count
    notices = [
        b.text for b in result.content if isinstance(b, TextContent) and b.text.startswith(WITHHELD_NOTICE)
    ]
    assert len(notices) == 1 and f"{count} item(s)" in notices[0]
    entry = last_audit(gateway)
    assert entry["outcome"] == "allowed" and entry["output"]["withheld_by_policy"] == count


# -- listed, allowed, denied ----------------------------------------------------------------------


async def test_the_new_read_tools_are_listed_as_read_only(gateway: Gateway) -> None:
    async with connect(gateway) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    for name in NEW_TOOLS:
        annotations = listed[name].annotations
        assert annotations is not None
        assert (annotations.read_only_hint, annotations.destructive_hint) == (True, False)
        assert listed[name].input_schema["additionalProperties"] is False


def example_arguments(simulator: Simulator, tool: str, repo: str) -> dict[str, Any]:
    target = {"owner": "acme", "repo": repo}
    extra: dict[str, Any] = {
        "get_commit_diff": {"sha": "0" * 40},
        "compare_refs": {"base": "main", "head": "feature/login"},
        "get_pull_request": {"index": 3},
        "search_code": {"query": "def "},
    }.get(tool, {})
    if tool == "get_commit_diff" and repo == "app":
        extra = {"sha": commit_sha(simulator, "Add application entry point")}
    return {**target, **extra}


@pytest.mark.parametrize("tool", NEW_TOOLS)
async def test_each_new_tool_is_denied_by_a_repository_rule_before_gitea(
    gateway: Gateway, simulator: Simulator, tool: str
) -> None:
    before = len(simulator.requests())
    result = await call(gateway, tool, example_arguments(simulator, tool, "infra"))
    assert result.is_error is True
    assert result.structured_content is not None and result.structured_content["denied"] is True
    rule = f"repo.acme/infra.tools.deny[{NEW_TOOLS.index(tool)}]"
    assert [r["rule"] for r in result.structured_content["reasons"]] == [rule]
    assert paths_requested(simulator, before) == []
    entry = last_audit(gateway)
    assert (entry["tool"], entry["outcome"], entry["repo"]) == (tool, "denied", "acme/infra")


async def test_list_branches_tags_releases_and_labels_match_gitea(
    gateway: Gateway, simulator: Simulator
) -> None:
    branches = structured(await call(gateway, "list_branches", {"owner": "acme", "repo": "app"}))
    direct = {b["name"]: b["commit"]["id"] for b in gitea(simulator, "acme/app/branches")}
    assert {b["name"]: b["commit"] for b in branches["branches"]} == direct
    assert {"main", "feature/login", "fix/rotate-secrets"} <= set(direct)

    tags = structured(await call(gateway, "list_tags", {"owner": "acme", "repo": "app"}))
    assert [(t["name"], t["commit"]) for t in tags["tags"]] == [
        (t["name"], t["commit"]["sha"]) for t in gitea(simulator, "acme/app/tags")
    ]
    assert tags["tags"][0]["name"] == "v0.1.0"

    releases = structured(await call(gateway, "list_releases", {"owner": "acme", "repo": "app"}))
    direct_releases = gitea(simulator, "acme/app/releases")
    assert [(r["tag_name"], r["name"], r["draft"]) for r in releases["releases"]] == [
        (r["tag_name"], r["name"], r["draft"]) for r in direct_releases
    ]
    assert "v0.1.0" in {r["tag_name"] for r in releases["releases"]}

    labels = structured(await call(gateway, "list_labels", {"owner": "acme", "repo": "app", "limit": 2}))
    assert [label["name"] for label in labels["labels"]] == [
        label["name"] for label in gitea(simulator, "acme/app/labels?limit=2")
    ]
    assert (labels["count"], labels["total"]) == (2, 4)


async def test_list_pull_requests_by_state(gateway: Gateway, simulator: Simulator) -> None:
    result = structured(await call(gateway, "list_pull_requests", {"owner": "acme", "repo": "app"}))
    pulls = {p["number"]: p for p in result["pull_requests"]}
    assert pulls[3]["head"] == "feature/login" and pulls[3]["base"] == "main"
    assert pulls[rotate_pull(simulator)]["state"] == "open"
    closed = structured(
        await call(gateway, "list_pull_requests", {"owner": "acme", "repo": "app", "state": "closed"})
    )
    assert all(p["state"] == "closed" for p in closed["pull_requests"])


async def test_get_commit_diff_shows_the_commit_and_its_diff(gateway: Gateway, simulator: Simulator) -> None:
    sha = commit_sha(simulator, "Add application entry point")
    result = await call(gateway, "get_commit_diff", {"owner": "acme", "repo": "app", "sha": sha})
    diff = structured(result)
    assert diff["sha"] == sha and diff["message"].startswith("Add application entry point")
    assert [(f["path"], f["status"]) for f in diff["files"]] == [
        ("src/main.py", "added"),
        ("src/util/strings.py", "added"),
    ]
    main = file_text(simulator, "src/main.py", sha)
    assert all(f"+{line}" in diff["diff"] for line in main.splitlines())
    assert "withheld_by_policy" not in diff
    assert f"commit {sha}" in untrusted_data(result.content[0].text)  # type: ignore[union-attr]


async def test_get_commit_diff_of_a_root_commit(gateway: Gateway, simulator: Simulator) -> None:
    """Gitea sends a root commit's diff as `git show` output, its header first: no file is lost to it."""
    sha = commit_sha(simulator, "Initial commit")
    diff = structured(await call(gateway, "get_commit_diff", {"owner": "acme", "repo": "app", "sha": sha}))
    assert sorted(f["path"] for f in diff["files"]) == [".gitignore", "README.md", "TODO.md"]
    assert diff["diff"].startswith("diff --git ") and "withheld_by_policy" not in diff


async def test_compare_refs_lists_the_commits_of_head(gateway: Gateway, simulator: Simulator) -> None:
    result = await call(
        gateway, "compare_refs", {"owner": "acme", "repo": "app", "base": "main", "head": "feature/login"}
    )
    compared = structured(result)
    assert [c["message"] for c in compared["commits"]] == ["Add login form\n"]
    assert compared["total_commits"] == 1
    # src/login.py is denied: the commit's only other file remains, and the result says one was withheld.
    assert compared["files"] == [{"path": "src/main.py", "status": "modified"}]
    assert compared["commits"][0]["files"] == [{"path": "src/main.py", "status": "modified"}]
    assert "src/login.py" not in shown(result)
    assert_withheld(result, gateway, 1)


async def test_get_pull_request_with_its_changed_files(gateway: Gateway, simulator: Simulator) -> None:
    result = await call(gateway, "get_pull_request", {"owner": "acme", "repo": "app", "index": 3})
    pull = structured(result)
    assert (pull["number"], pull["title"], pull["head"], pull["base"]) == (
        3,
        "Add login form",
        "feature/login",
        "main",
    )
    assert [f["path"] for f in pull["files"]] == ["src/main.py"]  # src/login.py is denied
    login = file_text(simulator, "src/login.py", "feature/login")
    assert not any(line.strip() and line in shown(result) for line in login.splitlines() if len(line) > 12)
    assert "login.py" not in pull["diff"]
    assert_withheld(result, gateway, 1)


async def test_search_code_finds_lines_with_their_numbers(gateway: Gateway, simulator: Simulator) -> None:
    result = await call(
        gateway, "search_code", {"owner": "acme", "repo": "app", "query": "def ", "path_prefix": "src"}
    )
    found = structured(result)
    assert found["results"] and found["complete"] is True and found["stopped_by"] is None
    for hit in found["results"]:
        lines = file_text(simulator, hit["path"], "main").splitlines()
        assert "def " in lines[hit["line"] - 1] and hit["excerpt"] in lines[hit["line"] - 1]
        assert hit["path"].startswith("src/") and not hit["path"].startswith("src/secrets/")


async def test_search_code_regex_and_case(gateway: Gateway) -> None:
    args = {"owner": "acme", "repo": "app", "query": r"^#+\s+ACME", "regex": True, "ignore_case": True}
    found = structured(await call(gateway, "search_code", args))
    assert found["results"] and all(hit["path"].endswith(".md") for hit in found["results"])
    exact = structured(await call(gateway, "search_code", {**args, "ignore_case": False}))
    assert len(exact["results"]) < len(found["results"]) or not exact["results"]


async def test_search_code_stops_at_max_results_and_says_so(gateway: Gateway) -> None:
    args = {"owner": "acme", "repo": "app", "query": "e", "max_results": 2}
    found = structured(await call(gateway, "search_code", args))
    assert len(found["results"]) == 2
    assert (found["complete"], found["stopped_by"]) == (False, "max_results")


@pytest.mark.parametrize("pattern", [r"(a)\1", r"(?=x)", r"a{1001}", "("])
async def test_search_code_refuses_a_regex_re2_cannot_run_safely(
    gateway: Gateway, simulator: Simulator, pattern: str
) -> None:
    before = len(simulator.requests())
    async with connect(gateway) as client:
        refused = await client.call_tool(
            "search_code", {"owner": "acme", "repo": "app", "query": pattern, "regex": True}
        )
    assert refused.is_error is True  # a tool error the model can read and correct
    assert "'query' is not a regular expression RE2 accepts" in refused.content[0].text
    assert paths_requested(simulator, before) == []


# -- path policy inside results ---------------------------------------------------------------------


async def test_file_tree_omits_denied_paths_and_says_how_many(gateway: Gateway, simulator: Simulator) -> None:
    result = await call(gateway, "get_file_tree", {"owner": "acme", "repo": "app", "ref": "feature/login"})
    paths = [entry["path"] for entry in structured(result)["entries"]]
    direct = [e["path"] for e in gitea(simulator, "acme/app/git/trees/feature/login?recursive=true")["tree"]]
    denied = [p for p in direct if p.startswith("src/secrets") or p == "src/login.py"]
    assert denied and paths == [p for p in direct if p not in denied]
    assert "secrets" not in shown(result) and "login.py" not in shown(result)
    assert_withheld(result, gateway, len(denied))


async def test_directory_listing_omits_denied_entries(gateway: Gateway) -> None:
    result = await call(gateway, "get_file_contents", {"owner": "acme", "repo": "app", "filepath": "src"})
    names = [entry["name"] for entry in structured(result)["entries"]]
    assert "main.py" in names and "secrets" not in names
    assert_withheld(result, gateway, 1)


async def test_search_code_never_reads_or_returns_denied_files(
    gateway: Gateway, simulator: Simulator
) -> None:
    secret = file_text(simulator, "src/secrets/prod.env", "fix/rotate-secrets")
    password = next(line for line in secret.splitlines() if line.startswith("DB_PASSWORD="))
    before = len(simulator.requests())
    args = {"owner": "acme", "repo": "app", "ref": "fix/rotate-secrets", "query": "DB_PASSWORD"}
    result = await call(gateway, "search_code", args)
    found = structured(result)
    assert found["results"] and {hit["path"] for hit in found["results"]} == {"src/main.py"}
    assert password not in shown(result) and "prod.env" not in shown(result)
    tree = gitea(simulator, "acme/app/git/trees/fix/rotate-secrets?recursive=true")["tree"]
    path_of = {entry["sha"]: entry["path"] for entry in tree if entry["type"] == "blob"}
    reads = [p.rsplit("/", 1)[1] for p in paths_requested(simulator, before) if "/git/blobs/" in p]
    assert reads and not any("/raw/" in p for p in paths_requested(simulator, before))
    assert "src/main.py" in {path_of[sha] for sha in reads}
    assert not any("secrets" in path_of[sha] or "login.py" in path_of[sha] for sha in reads)
    assert_withheld(result, gateway, 1)


async def test_search_code_under_a_denied_directory_is_denied_before_gitea(
    gateway: Gateway, simulator: Simulator
) -> None:
    before = len(simulator.requests())
    args = {"owner": "acme", "repo": "app", "query": "PASSWORD", "path_prefix": "src/secrets"}
    result = await call(gateway, "search_code", args)
    assert result.is_error is True and result.structured_content is not None
    assert result.structured_content["reasons"][0]["rule"] == "repo.acme/app.paths.deny[0]"
    assert paths_requested(simulator, before) == []


async def test_commit_diff_of_a_denied_file_shows_neither_content_nor_diff(
    gateway: Gateway, simulator: Simulator
) -> None:
    sha = commit_sha(simulator, "Add production configuration")
    secret = file_text(simulator, "src/secrets/prod.env", sha)
    result = await call(gateway, "get_commit_diff", {"owner": "acme", "repo": "app", "sha": sha})
    diff = structured(result)
    assert diff["files"] == [] and diff["diff"] == ""
    assert not any(line in shown(result) for line in secret.splitlines() if len(line) > 8)
    assert "prod.env" not in shown(result)
    assert_withheld(result, gateway, 1)


async def test_diffs_of_a_change_touching_allowed_and_denied_files(
    gateway: Gateway, simulator: Simulator
) -> None:
    rotated = file_text(simulator, "src/secrets/prod.env", "fix/rotate-secrets")
    secret_lines = [line for line in rotated.splitlines() if "=" in line and not line.startswith("#")]
    assert secret_lines
    sha = commit_sha(simulator, "Rotate production secrets", ref="fix/rotate-secrets")
    calls = {
        "get_commit_diff": {"sha": sha},
        "compare_refs": {"base": "main", "head": "fix/rotate-secrets"},
        "get_pull_request": {"index": rotate_pull(simulator)},
    }
    for tool, arguments in calls.items():
        result = await call(gateway, tool, {"owner": "acme", "repo": "app", **arguments})
        structured_result = structured(result)
        assert [f["path"] for f in structured_result["files"]] == ["src/main.py"], tool
        for line in secret_lines:
            assert line not in shown(result), (tool, line)
        assert "prod.env" not in shown(result), tool
        assert_withheld(result, gateway, 1)


async def test_get_issue_refuses_a_pull_requests_number(gateway: Gateway, simulator: Simulator) -> None:
    pull = rotate_pull(simulator)
    async with connect(gateway) as client:
        refused = await client.call_tool("get_issue", {"owner": "acme", "repo": "app", "index": pull})
    assert refused.is_error is True
    assert f"'index' {pull} is a pull request: use get_pull_request" in refused.content[0].text
    assert last_audit(gateway)["outcome"] == "invalid"
    issue = structured(await call(gateway, "get_issue", {"owner": "acme", "repo": "app", "index": 1}))
    assert issue["is_pull_request"] is False


def test_every_decision_replays_under_its_archived_policy(gateway: Gateway) -> None:
    """Runs last: the whole log of this module's gateway, decided again, gives every recorded decision."""
    assert_every_decision_replays(gateway, at_least=30)
