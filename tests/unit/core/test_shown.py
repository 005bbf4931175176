"""The core's path and repository policy inside results: one OPA query per result with the call's own input,
withheld items counted in the result and the audit entry, and a call denied when OPA cannot say which paths
or repositories to show."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from gateway.opa import Decision, Reason, ResultUndecided
from gateway.tools import Tool, ToolCall, ToolOutput
from gateway.tools._shown import entry_path, repository_name, shown_items
from tests.unit.core.harness import READER, audited, context, service_over

LISTED = ("src/main.py", "src/secrets/prod.env", "README.md", "src/main.py")


class PathRules:
    """Allows every call, every path not under a denied prefix and every repository but those of a denied
    owner; records the path and repository queries."""

    def __init__(
        self, *, denied_prefix: str = "src/secrets/", denied_owner: str = "other/", failure: str | None = None
    ) -> None:
        self.denied_prefix = denied_prefix
        self.denied_owner = denied_owner
        self.failure = failure
        self.queries: list[tuple[Mapping[str, Any], str | None]] = []
        self.decided: list[Mapping[str, Any]] = []

    async def decide(self, opa_input: Mapping[str, Any]) -> Decision:
        self.decided.append(opa_input)
        allow = Reason(rule="defaults.read", effect="allow", source="p.yaml:2")
        return Decision(
            allow=True, reasons=(allow,), decision_id="d", obligations={"secrets": "mask"}, revision="r7"
        )

    async def visible_tools(self, opa_input: Mapping[str, Any]) -> frozenset[str]:
        return frozenset()

    async def allowed_paths(self, opa_input: Mapping[str, Any], *, revision: str | None) -> frozenset[str]:
        self.queries.append((opa_input, revision))
        if self.failure:
            raise ResultUndecided(self.failure, revision)
        return frozenset(path for path in opa_input["paths"] if not path.startswith(self.denied_prefix))

    async def allowed_repos(self, opa_input: Mapping[str, Any], *, revision: str | None) -> frozenset[str]:
        self.queries.append((opa_input, revision))
        if self.failure:
            raise ResultUndecided(self.failure, revision)
        return frozenset(repo for repo in opa_input["repos"] if not repo.startswith(self.denied_owner))


def fixed_list_tool(name: str, listed_as: str, values: tuple[str | None, ...], *, repositories: bool) -> Tool:
    """A tool listing `values` under `listed_as`, as `{"path": value}` items shown as the core's path filter
    decides, or with `repositories` as `{"full_name": value}` items shown as its repository filter decides."""

    async def run(call: ToolCall) -> ToolOutput:
        shown, names_of = (call.repos, repository_name) if repositories else (call.paths, entry_path)
        key = "full_name" if repositories else "path"
        items, withheld = await shown_items(shown, [{key: value} for value in values], names_of)
        return ToolOutput({listed_as: items}, withheld=withheld)

    return Tool(name=name, title="List", description="Lists fixed items.", capability="read", run=run,
                repo_scoped=False)  # fmt: skip


def listing_tool(paths: tuple[str | None, ...]) -> Tool:
    return fixed_list_tool("list_entries", "entries", paths, repositories=False)


def repository_tool(names: tuple[str | None, ...]) -> Tool:
    return fixed_list_tool("list_repositories", "repositories", names, repositories=True)


async def test_withheld_entries_are_left_out_counted_and_audited(tmp_path: Path) -> None:
    rules = PathRules()
    async with service_over(tmp_path, listing_tool(LISTED), rules) as service:
        result = await service.call_tool(context(READER, "r1"), "list_entries", {})
    assert result["isError"] is False
    shown = [entry["path"] for entry in result["structuredContent"]["entries"]]
    assert shown == ["src/main.py", "README.md", "src/main.py"]
    assert result["structuredContent"]["withheld_by_policy"] == 1
    assert result["_meta"]["aegis"]["withheld_by_policy"] == 1
    notice = result["content"][-1]["text"]
    assert notice.startswith("Withheld by policy: 1 item(s)") and "prod.env" not in notice
    assert "prod.env" not in repr(result)
    (entry,) = audited(tmp_path)
    assert (entry["outcome"], entry["output"]["withheld_by_policy"]) == ("allowed", 1)


async def test_one_query_per_result_with_the_calls_own_input_and_revision(tmp_path: Path) -> None:
    rules = PathRules()
    async with service_over(tmp_path, listing_tool(LISTED), rules) as service:
        await service.call_tool(context(READER, "r1"), "list_entries", {})
    ((query, revision),) = rules.queries
    assert revision == "r7"
    assert query["paths"] == ["src/main.py", "src/secrets/prod.env", "README.md"]  # each path once
    assert {key: value for key, value in query.items() if key != "paths"} == rules.decided[0]


@pytest.mark.parametrize(
    "path",
    [
        unicodedata.normalize("NFD", "src/clés/prod.txt"),  # a deny glob is NFC: it would not match
        "src/a\u200bb.py",  # invisible
        "src\u2215secrets\u2215prod.env",  # a look-alike of /
        "src/%2e%2e/x",
        "src/../secrets/prod.env",
        "src//x",
        "/etc/passwd",
        "src/x/",
        "src/x?y",
        "src/\udcff.py",  # undecodable bytes, kept as a surrogate
    ],
)
async def test_a_path_an_argument_could_not_be_is_withheld_without_asking(tmp_path: Path, path: str) -> None:
    rules = PathRules(denied_prefix="nothing/")
    async with service_over(tmp_path, listing_tool((path, "README.md")), rules) as service:
        result = await service.call_tool(context(READER, "r1"), "list_entries", {})
    assert [entry["path"] for entry in result["structuredContent"]["entries"]] == ["README.md"]
    assert result["structuredContent"]["withheld_by_policy"] == 1
    ((query, _),) = rules.queries
    assert query["paths"] == ["README.md"]


async def test_nothing_withheld_says_nothing(tmp_path: Path) -> None:
    async with service_over(tmp_path, listing_tool(("README.md",)), PathRules()) as service:
        result = await service.call_tool(context(READER, "r1"), "list_entries", {})
    assert "withheld_by_policy" not in result["structuredContent"] and len(result["content"]) == 1
    assert audited(tmp_path)[0]["output"]["withheld_by_policy"] == 0


async def test_an_entry_without_a_usable_path_is_withheld_without_asking(tmp_path: Path) -> None:
    rules = PathRules()
    async with service_over(tmp_path, listing_tool((None, "")), rules) as service:
        result = await service.call_tool(context(READER, "r1"), "list_entries", {})
    assert result["structuredContent"]["entries"] == []
    assert result["structuredContent"]["withheld_by_policy"] == 2
    assert rules.queries == []  # nothing to ask about


@pytest.mark.parametrize("failure", ["timeout", "malformed", "policy_unverified"])
async def test_the_call_is_denied_when_opa_cannot_say_which_paths_to_show(
    tmp_path: Path, failure: str
) -> None:
    async with service_over(tmp_path, listing_tool(LISTED), PathRules(failure=failure)) as service:
        result = await service.call_tool(context(READER, "r1"), "list_entries", {})
    assert result["isError"] is True and "entries" not in result["structuredContent"]
    assert result["structuredContent"]["reasons"] == [
        {"rule": f"opa.{failure}", "effect": "deny", "source": "gateway"}
    ]
    (entry,) = audited(tmp_path)
    assert entry["outcome"] == "denied" and entry["bundle_revision"] == "r7"


async def test_repositories_are_shown_only_where_the_call_is_allowed(tmp_path: Path) -> None:
    names = ("Acme/App", "other/secret", "acme/app", None, "acme/bad name", "acme/infra")
    rules = PathRules()
    async with service_over(tmp_path, repository_tool(names), rules) as service:
        result = await service.call_tool(context(READER, "r1"), "list_repositories", {})
    shown = [repo["full_name"] for repo in result["structuredContent"]["repositories"]]
    assert shown == ["Acme/App", "acme/app", "acme/infra"]  # as Gitea spells them
    assert result["structuredContent"]["withheld_by_policy"] == 3
    ((query, revision),) = rules.queries
    assert (query["repos"], revision) == (["acme/app", "other/secret", "acme/infra"], "r7")
    assert {key: value for key, value in query.items() if key != "repos"} == rules.decided[0]
    (entry,) = audited(tmp_path)
    assert (entry["outcome"], entry["output"]["withheld_by_policy"]) == ("allowed", 3)


async def test_the_call_is_denied_when_opa_cannot_say_which_repositories_to_show(tmp_path: Path) -> None:
    async with service_over(
        tmp_path, repository_tool(("acme/app",)), PathRules(failure="timeout")
    ) as service:
        result = await service.call_tool(context(READER, "r1"), "list_repositories", {})
    assert result["isError"] is True and "repositories" not in result["structuredContent"]
    assert [reason["rule"] for reason in result["structuredContent"]["reasons"]] == ["opa.timeout"]
