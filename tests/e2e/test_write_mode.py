"""Write mode end to end with the official MCP client: each write tool allowed and denied, human approval
(approved, denied, expired), rollback of file writes, per-key quotas, and the proof that no call can make
Gitea merge, delete or force anything."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.types import CallToolResult, TextContent

from tests.processes import UNLIMITED, Gateway, Simulator, create_key, start_gateway, start_simulator
from tests.replay import assert_every_decision_replays

pytestmark = pytest.mark.e2e

WRITE_TOOLS = (
    "create_issue",
    "update_issue",
    "create_issue_comment",
    "add_labels",
    "remove_labels",
    "create_branch",
    "create_or_update_file",
    "create_pull_request",
)
POLICY = f"""\
defaults: {{read: allow, write: deny}}
tools:
  allow: [{", ".join(WRITE_TOOLS)}]
write:
  repositories: [acme/app]
  branches: [main, "aegis/**"]
  require_approval: [create_issue_comment]
repositories:
  acme/app:
    paths:
      deny: ["src/secrets/**"]
"""
GITEA_SCOPES = ("read:repository", "write:repository", "read:issue", "write:issue", "read:user")
# One example call of every write tool, each on a fresh name so that the calls do not collide.
EXAMPLES: dict[str, dict[str, Any]] = {
    "create_issue": {"title": "Found by the agent", "body": "Steps to reproduce..."},
    "update_issue": {"index": 1, "title": "Crash on empty input (confirmed)"},
    "create_issue_comment": {"index": 1, "body": "I can reproduce this."},
    "add_labels": {"index": 1, "labels": ["security"]},
    "remove_labels": {"index": 1, "labels": ["bug"]},
    "create_branch": {"branch": "aegis/fix-crash"},
    "create_or_update_file": {"filepath": "docs/agent.md", "branch": "main", "content": "# Notes\n"},
    "create_pull_request": {"title": "Fix the crash", "head": "aegis/fix-crash", "base": "main"},
}
# Requests that must never reach Gitea, whatever the agent does.
NEVER_SENT = re.compile(
    r"(POST|DELETE) /api/v1/repos/[^/]+/[^/]+/pulls/\d+/merge"
    r"|POST /api/v1/repos/[^/]+/[^/]+/pulls/\d+/update"
    r"|(DELETE|PATCH) /api/v1/repos/[^/]+/[^/]+/branches/.*"
    r"|DELETE /api/v1/repos/[^/]+/[^/]+/tags/.*"
    r"|(PATCH|DELETE) /api/v1/repos/[^/]+/[^/]+"
    r"|\w+ /api/v1/admin/.*"
)


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """A simulator of this module's own (its repositories change) whose token may write."""
    sim = start_simulator(tmp_path_factory.mktemp("gitea-writes") / "state", token_scopes=GITEA_SCOPES)
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def gateway(upstream: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gw = start_gateway(
        tmp_path_factory.mktemp("gw-writes"),
        policy=POLICY,
        upstream=upstream,
        env={**UNLIMITED, "WRITE_MODE": "true", "AEGIS_AUTH_FAILURE_LIMIT": "100"},
    )
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def keys(gateway: Gateway) -> dict[str, str]:
    """The agent's write key, an approver's admin key, and keys with tight quotas."""
    issued = {
        "writer": create_key(gateway.keys_file, "writer", ("tools:read", "tools:write")),
        "approver": create_key(gateway.keys_file, "approver", ("admin",)),
        "few-writes": create_key(
            gateway.keys_file, "few-writes", ("tools:write",), ("--writes-per-day", "2")
        ),
        "small-writes": create_key(
            gateway.keys_file, "small-writes", ("tools:write",), ("--max-write-bytes", "10")
        ),
        "few-bytes": create_key(
            gateway.keys_file, "few-bytes", ("tools:write",), ("--write-bytes-per-day", "40")
        ),
        "self-approver": create_key(gateway.keys_file, "self-approver", ("tools:write", "admin")),
    }
    return issued


@asynccontextmanager
async def connect(gateway: Gateway, key: str) -> AsyncIterator[Client]:
    """A client of the handshake era (2025-11-25), which gets a held call's approval as a tool result;
    tests/e2e/test_approval_rounds.py has the 2026-07-28 way."""
    async with (
        create_mcp_http_client(headers={"Authorization": f"Bearer {key}"}) as http,
        Client(streamable_http_client(gateway.url, http_client=http), mode="legacy") as client,
    ):
        yield client


async def call(gateway: Gateway, key: str, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    async with connect(gateway, key) as client:
        return await client.call_tool(tool, arguments)


async def invalid_call(gateway: Gateway, key: str, tool: str, arguments: dict[str, Any]) -> str:
    """The message of the tool error an invalid call gets (from 2025-11-25 on, one the model can read)."""
    result = await call(gateway, key, tool, arguments)
    assert result.is_error is True and "error" in structured(result)
    return text(result)


def app(**arguments: Any) -> dict[str, Any]:
    return {"owner": "acme", "repo": "app", **arguments}


def text(result: CallToolResult) -> str:
    (content,) = result.content
    assert isinstance(content, TextContent)
    return content.text


def structured(result: CallToolResult) -> dict[str, Any]:
    assert result.structured_content is not None, result.content
    return result.structured_content


def audit(gateway: Gateway) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gateway.audit_log.read_text().splitlines()]


def writes_sent(upstream: Simulator, since: int = 0) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in upstream.requests()[since:] if r["method"] != "GET"]


def gitea_get(upstream: Simulator, path: str) -> Any:
    response = httpx.get(
        f"{upstream.url}/api/v1/repos/acme/app/{path}", headers={"Authorization": f"token {upstream.token}"}
    )
    return response.json() if response.status_code == 200 else None


def file_text(upstream: Simulator, path: str, ref: str = "main") -> str | None:
    contents = gitea_get(upstream, f"contents/{path}?ref={ref}")
    return None if contents is None else base64.b64decode(contents["content"]).decode()


def aegis(gateway: Gateway, key: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "AEGIS_ADMIN_KEY": key, "AEGIS_ADMIN_URL": gateway.base_url}
    return subprocess.run(
        [sys.executable, "-m", "gateway.cli", *args], capture_output=True, text=True, env=env, timeout=60
    )


def admin(gateway: Gateway, key: str, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"}
    if body is None:
        return httpx.get(f"{gateway.base_url}{path}", headers=headers)
    return httpx.post(f"{gateway.base_url}{path}", headers=headers, json=body)


# -- each write tool, allowed --------------------------------------------------------------------


async def test_write_tools_are_listed_with_honest_annotations(gateway: Gateway, keys: dict[str, str]) -> None:
    async with connect(gateway, keys["writer"]) as client:
        listed = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert set(WRITE_TOOLS) <= set(listed)
    for name in WRITE_TOOLS:
        annotations = listed[name].annotations
        assert annotations is not None and annotations.read_only_hint is False
        assert "force_push" not in listed[name].input_schema["properties"]
    assert listed["create_or_update_file"].annotations.destructive_hint is True  # type: ignore[union-attr]
    assert listed["create_issue"].annotations.destructive_hint is False  # type: ignore[union-attr]


async def test_create_issue(gateway: Gateway, upstream: Simulator, keys: dict[str, str]) -> None:
    result = await call(gateway, keys["writer"], "create_issue", app(**EXAMPLES["create_issue"]))
    assert result.is_error is False, result.content
    number = structured(result)["number"]
    created = gitea_get(upstream, f"issues/{number}")
    assert (created["title"], created["body"]) == ("Found by the agent", "Steps to reproduce...")
    entry = audit(gateway)[-1]
    assert (entry["tool"], entry["outcome"], entry["repo"]) == ("create_issue", "allowed", "acme/app")
    assert entry["write"] == {"upstream": {"issue": number}, "snapshot": None}


async def test_update_issue_title_body_and_state(
    gateway: Gateway, upstream: Simulator, keys: dict[str, str]
) -> None:
    result = await call(gateway, keys["writer"], "update_issue", app(**EXAMPLES["update_issue"]))
    assert result.is_error is False, result.content
    assert gitea_get(upstream, "issues/1")["title"] == "Crash on empty input (confirmed)"
    closed = await call(gateway, keys["writer"], "update_issue", app(index=1, state="closed"))
    assert structured(closed)["state"] == "closed" and gitea_get(upstream, "issues/1")["state"] == "closed"
    reopened = await call(gateway, keys["writer"], "update_issue", app(index=1, state="open"))
    assert structured(reopened)["state"] == "open"
    assert audit(gateway)[-1]["write"]["upstream"] == {"issue": 1}
    assert "Invalid arguments" in await invalid_call(gateway, keys["writer"], "update_issue", app(index=1))


async def test_add_and_remove_labels_by_name(
    gateway: Gateway, upstream: Simulator, keys: dict[str, str]
) -> None:
    added = await call(gateway, keys["writer"], "add_labels", app(**EXAMPLES["add_labels"]))
    assert added.is_error is False, added.content
    assert "security" in structured(added)["labels"]
    removed = await call(gateway, keys["writer"], "remove_labels", app(**EXAMPLES["remove_labels"]))
    assert structured(removed)["removed"] == ["bug"]
    labels = {label["name"] for label in gitea_get(upstream, "issues/1")["labels"]}
    assert "security" in labels and "bug" not in labels
    before = len(upstream.requests())
    assert "no such label" in await invalid_call(
        gateway, keys["writer"], "add_labels", app(index=1, labels=["no-such-label"])
    )
    assert writes_sent(upstream, before) == []


async def test_create_branch_then_a_pull_request(
    gateway: Gateway, upstream: Simulator, keys: dict[str, str]
) -> None:
    branch = await call(gateway, keys["writer"], "create_branch", app(**EXAMPLES["create_branch"]))
    assert branch.is_error is False, branch.content
    assert gitea_get(upstream, "branches/aegis/fix-crash")["name"] == "aegis/fix-crash"
    assert audit(gateway)[-1]["write"]["upstream"]["branch"] == "aegis/fix-crash"
    fix = app(filepath="src/fix.py", branch="aegis/fix-crash", content="print('fixed')\n")
    assert (await call(gateway, keys["writer"], "create_or_update_file", fix)).is_error is False
    assert file_text(upstream, "src/fix.py", ref="aegis/fix-crash") == "print('fixed')\n"
    assert file_text(upstream, "src/fix.py") is None  # main is untouched
    pull = await call(gateway, keys["writer"], "create_pull_request", app(**EXAMPLES["create_pull_request"]))
    assert pull.is_error is False, pull.content
    number = structured(pull)["number"]
    assert gitea_get(upstream, f"issues/{number}")["pull_request"] is not None
    assert audit(gateway)[-1]["write"]["upstream"] == {"pull_request": number}


async def test_create_then_update_a_file(gateway: Gateway, upstream: Simulator, keys: dict[str, str]) -> None:
    created = await call(
        gateway, keys["writer"], "create_or_update_file", app(**EXAMPLES["create_or_update_file"])
    )
    assert created.is_error is False, created.content
    first = structured(created)
    assert first["created"] is True and file_text(upstream, "docs/agent.md") == "# Notes\n"
    entry = audit(gateway)[-1]
    assert entry["write"]["upstream"] == {"commit": first["commit"], "blob": first["sha"]}
    assert entry["write"]["snapshot"].startswith("snap_")
    stale = app(filepath="docs/agent.md", branch="main", content="x", sha="0" * 40)
    assert "does not match" in await invalid_call(gateway, keys["writer"], "create_or_update_file", stale)
    assert "pass its current blob sha" in await invalid_call(
        gateway,
        keys["writer"],
        "create_or_update_file",
        app(filepath="docs/agent.md", branch="main", content="x"),
    )
    update = app(
        filepath="docs/agent.md",
        branch="main",
        content="# Notes\nmore\n",
        sha=first["sha"],
        message="More notes",
    )
    updated = await call(gateway, keys["writer"], "create_or_update_file", update)
    assert (
        structured(updated)["created"] is False and file_text(upstream, "docs/agent.md") == "# Notes\nmore\n"
    )
    binary = app(
        filepath="docs/logo.bin",
        branch="main",
        content=base64.b64encode(b"\x00\xff").decode(),
        encoding="base64",
    )
    assert (await call(gateway, keys["writer"], "create_or_update_file", binary)).is_error is False


# -- each write tool, denied ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def read_only_gateway(
    upstream: Simulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Gateway, str]]:
    """The same policy with WRITE_MODE off, and a key that holds tools:write."""
    gw = start_gateway(
        tmp_path_factory.mktemp("gw-no-writes"), policy=POLICY, upstream=upstream, env=UNLIMITED
    )
    key = create_key(gw.keys_file, "writer", ("tools:read", "tools:write"))
    yield gw, key
    gw.stop()


@pytest.mark.parametrize("tool", WRITE_TOOLS)
async def test_with_write_mode_off_no_write_tool_runs(
    read_only_gateway: tuple[Gateway, str], upstream: Simulator, tool: str
) -> None:
    gateway, key = read_only_gateway
    before = len(upstream.requests())
    async with connect(gateway, key) as client:
        assert tool not in {listed.name for listed in (await client.list_tools()).tools}
        result = await client.call_tool(tool, app(**EXAMPLES[tool]))
    assert result.is_error is True
    assert {"rule": "context.write_mode", "effect": "deny", "source": "builtin"} in structured(result)[
        "reasons"
    ]
    assert upstream.requests()[before:] == []
    assert audit(gateway)[-1]["outcome"] == "denied"


@pytest.mark.parametrize("tool", WRITE_TOOLS)
async def test_no_write_tool_runs_outside_the_write_whitelist(
    gateway: Gateway, upstream: Simulator, keys: dict[str, str], tool: str
) -> None:
    before = len(upstream.requests())
    arguments = {**app(**EXAMPLES[tool]), "repo": "infra"}
    result = await call(gateway, keys["writer"], tool, arguments)
    assert result.is_error is True
    assert "write.repositories" in [reason["rule"] for reason in structured(result)["reasons"]]
    assert upstream.requests()[before:] == []


@pytest.mark.parametrize("tool", WRITE_TOOLS)
async def test_a_read_key_runs_no_write_tool(gateway: Gateway, upstream: Simulator, tool: str) -> None:
    before = len(upstream.requests())
    result = await call(gateway, gateway.key, tool, app(**EXAMPLES[tool]))
    assert result.is_error is True
    assert "principal.scope" in [reason["rule"] for reason in structured(result)["reasons"]]
    assert upstream.requests()[before:] == []


@pytest.mark.parametrize(
    ("tool", "arguments", "rule"),
    [
        ("create_branch", {"branch": "feature/elsewhere"}, "write.branches"),
        (
            "create_or_update_file",
            {"filepath": "a.md", "branch": "release", "content": "x"},
            "write.branches",
        ),
        (
            "create_pull_request",
            {"title": "t", "head": "aegis/fix-crash", "base": "feature/login"},
            "write.branches",
        ),
        (
            "create_or_update_file",
            {"filepath": "src/secrets/new.env", "branch": "main", "content": "x"},
            "repo.acme/app.paths.deny[0]",
        ),
        (
            "create_or_update_file",
            {"filepath": "deploy/id_rsa", "branch": "main", "content": "x"},
            "builtin.secret_store_paths",
        ),
    ],
)
async def test_branch_and_path_rules_hold_for_writes(
    gateway: Gateway,
    upstream: Simulator,
    keys: dict[str, str],
    tool: str,
    arguments: dict[str, Any],
    rule: str,
) -> None:
    before = len(upstream.requests())
    result = await call(gateway, keys["writer"], tool, app(**arguments))
    assert result.is_error is True
    assert rule in [reason["rule"] for reason in structured(result)["reasons"]]
    assert upstream.requests()[before:] == []


@pytest.mark.parametrize(
    ("tool", "arguments"),
    [
        ("create_or_update_file", {"filepath": "a.md", "branch": "main", "content": "x", "force_push": True}),
        ("create_branch", {"branch": "aegis/x", "force_push": False}),
        ("create_branch", {"branch": "aegis/..x"}),
        ("create_branch", {"branch": "aegis/x", "from_ref": "main..feature/login"}),
        ("create_pull_request", {"title": "t", "head": "aegis/x?merge=1", "base": "main"}),
        ("create_pull_request", {"title": "t", "head": "aegis/x", "base": "main", "merge": True}),
        ("create_or_update_file", {"filepath": "../outside.md", "branch": "main", "content": "x"}),
        (
            "create_or_update_file",
            {"filepath": "a.md", "branch": "main", "content": "%%%", "encoding": "base64"},
        ),
        ("update_issue", {"index": 1, "state": "merged"}),
        ("create_issue", {"title": "two\nlines"}),
    ],
)
async def test_malformed_writes_never_reach_gitea(
    gateway: Gateway, upstream: Simulator, keys: dict[str, str], tool: str, arguments: dict[str, Any]
) -> None:
    before = len(upstream.requests())
    assert "Invalid arguments" in await invalid_call(gateway, keys["writer"], tool, app(**arguments))
    assert upstream.requests()[before:] == []
    assert audit(gateway)[-1]["outcome"] == "invalid"


# -- human approval ------------------------------------------------------------------------------


async def test_a_held_call_runs_once_after_approval(
    gateway: Gateway, upstream: Simulator, keys: dict[str, str]
) -> None:
    comment = app(index=2, body="Approved comment")
    held = await call(gateway, keys["writer"], "create_issue_comment", comment)
    assert held.is_error is True and structured(held)["pending_approval"] is True
    approval_id = structured(held)["approval_id"]
    assert approval_id in text(held) and "aegis approvals approve" in text(held)
    assert writes_sent(upstream)[-1:] != ["POST /api/v1/repos/acme/app/issues/2/comments"]
    assert audit(gateway)[-1]["outcome"] == "pending"
    again = await call(gateway, keys["writer"], "create_issue_comment", comment)
    assert structured(again)["approval_id"] == approval_id  # one request per exact call

    listed = aegis(gateway, keys["approver"], "approvals", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    (pending,) = [a for a in json.loads(listed.stdout) if a["id"] == approval_id]
    assert pending["arguments"] == comment and pending["principal"] == "writer"
    shown = aegis(gateway, keys["approver"], "approvals", "show", approval_id)
    assert shown.returncode == 0 and json.loads(shown.stdout)["arguments"] == comment
    approved = aegis(gateway, keys["approver"], "approvals", "approve", approval_id, "--reason", "looks fine")
    assert approved.returncode == 0 and f"{approval_id}: approved by approver" in approved.stdout
    decided = audit(gateway)[-1]
    assert (decided["event"], decided["principal"], decided["approval"]["state"]) == (
        "approval_decided",
        "approver",
        "approved",
    )

    before = len(upstream.requests())
    ran = await call(gateway, keys["writer"], "create_issue_comment", comment)
    assert ran.is_error is False, ran.content
    assert writes_sent(upstream, before) == ["POST /api/v1/repos/acme/app/issues/2/comments"]
    entry = audit(gateway)[-1]
    assert entry["approval"] == {"id": approval_id, "state": "approved", "decided_by": "approver"}
    assert entry["write"]["upstream"]["comment"] == structured(ran)["comment"]

    once_more = await call(gateway, keys["writer"], "create_issue_comment", comment)
    assert structured(once_more)["pending_approval"] is True
    assert structured(once_more)["approval_id"] != approval_id  # the approval was used up


async def test_an_approval_does_not_cover_other_arguments(gateway: Gateway, keys: dict[str, str]) -> None:
    held = await call(gateway, keys["writer"], "create_issue_comment", app(index=2, body="first text"))
    approval_id = structured(held)["approval_id"]
    assert (
        admin(gateway, keys["approver"], "/admin/approvals/approve", {"id": approval_id}).status_code == 200
    )
    other = await call(gateway, keys["writer"], "create_issue_comment", app(index=2, body="other text"))
    assert structured(other)["pending_approval"] is True and structured(other)["approval_id"] != approval_id


async def test_a_denied_call_is_refused_and_never_runs(
    gateway: Gateway, upstream: Simulator, keys: dict[str, str]
) -> None:
    comment = app(index=3, body="Please deny me")
    approval_id = structured(await call(gateway, keys["writer"], "create_issue_comment", comment))[
        "approval_id"
    ]
    denied = admin(
        gateway, keys["approver"], "/admin/approvals/deny", {"id": approval_id, "reason": "off topic"}
    )
    assert denied.status_code == 200 and denied.json()["approval"]["state"] == "denied"
    before = len(upstream.requests())
    result = await call(gateway, keys["writer"], "create_issue_comment", comment)
    assert result.is_error is True
    assert {"rule": "approval.denied", "effect": "deny", "source": "approver:approver"} in structured(result)[
        "reasons"
    ]
    assert "off topic" in text(result)
    assert writes_sent(upstream, before) == []
    assert audit(gateway)[-1]["outcome"] == "denied"


async def test_approvers_are_checked(gateway: Gateway, keys: dict[str, str]) -> None:
    held = await call(gateway, keys["self-approver"], "create_issue_comment", app(index=2, body="mine"))
    approval_id = structured(held)["approval_id"]
    own = admin(gateway, keys["self-approver"], "/admin/approvals/approve", {"id": approval_id})
    assert own.status_code == 403 and "cannot approve" in own.json()["error"]
    assert audit(gateway)[-1]["outcome"] == "denied"  # the refused attempt is on record too
    no_scope = admin(gateway, keys["writer"], "/admin/approvals/approve", {"id": approval_id})
    assert no_scope.status_code == 403 and "admin" in no_scope.json()["error"]
    assert admin(gateway, "aegis_not-a-key", "/admin/approvals").status_code == 401
    unknown = aegis(gateway, keys["approver"], "approvals", "deny", "apr_00000000")
    assert unknown.returncode == 1 and "HTTP 404: no approval" in unknown.stderr
    bad = admin(gateway, keys["approver"], "/admin/approvals/approve", {"id": approval_id, "extra": 1})
    assert bad.status_code == 400


@pytest.fixture(scope="module")
def hasty_gateway(
    upstream: Simulator, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Gateway, dict[str, str]]]:
    """Approvals that expire after two seconds."""
    gw = start_gateway(
        tmp_path_factory.mktemp("gw-hasty"),
        policy=POLICY,
        upstream=upstream,
        env={**UNLIMITED, "WRITE_MODE": "true", "AEGIS_APPROVAL_TTL": "2"},
    )
    issued = {
        "writer": create_key(gw.keys_file, "writer", ("tools:write",)),
        "approver": create_key(gw.keys_file, "approver", ("admin",)),
    }
    yield gw, issued
    gw.stop()


async def test_expired_approvals_run_nothing(
    hasty_gateway: tuple[Gateway, dict[str, str]], upstream: Simulator
) -> None:
    gateway, keys = hasty_gateway
    late = structured(await call(gateway, keys["writer"], "create_issue_comment", app(index=2, body="late")))
    unused = structured(
        await call(gateway, keys["writer"], "create_issue_comment", app(index=2, body="unused"))
    )
    assert (
        admin(
            gateway, keys["approver"], "/admin/approvals/approve", {"id": unused["approval_id"]}
        ).status_code
        == 200
    )
    await asyncio.sleep(2.2)
    too_late = aegis(gateway, keys["approver"], "approvals", "approve", late["approval_id"])
    assert too_late.returncode == 1 and "expired" in too_late.stderr
    before = len(upstream.requests())
    retried = await call(gateway, keys["writer"], "create_issue_comment", app(index=2, body="unused"))
    assert (
        structured(retried)["pending_approval"] is True
        and structured(retried)["approval_id"] != unused["approval_id"]
    )
    assert writes_sent(upstream, before) == []


# -- rollback ------------------------------------------------------------------------------------


async def write_file(
    gateway: Gateway, key: str, path: str, content: str, sha: str | None = None
) -> dict[str, Any]:
    arguments = app(filepath=path, branch="main", content=content, **({"sha": sha} if sha else {}))
    result = await call(gateway, key, "create_or_update_file", arguments)
    assert result.is_error is False, result.content
    return {**structured(result), "seq": audit(gateway)[-1]["seq"]}


async def test_rollback_restores_the_previous_content_by_a_new_commit(
    gateway: Gateway, upstream: Simulator, keys: dict[str, str]
) -> None:
    original = file_text(upstream, "README.md")
    current = gitea_get(upstream, "contents/README.md?ref=main")["sha"]
    written = await write_file(gateway, keys["writer"], "README.md", "overwritten by an agent\n", sha=current)
    assert file_text(upstream, "README.md") == "overwritten by an agent\n"
    before = len(upstream.requests())
    rolled = aegis(gateway, keys["approver"], "rollback", str(written["seq"]))
    assert rolled.returncode == 0, rolled.stderr
    assert "README.md on main restored" in rolled.stdout
    assert file_text(upstream, "README.md") == original
    assert writes_sent(upstream, before) == ["PUT /api/v1/repos/acme/app/contents/README.md"]  # no force push
    commits = gitea_get(upstream, "commits?sha=main&limit=2")
    assert commits[1]["sha"] == written["commit"]  # the write stays in history; the restore follows it
    entry = audit(gateway)[-1]
    assert (entry["event"], entry["principal"], entry["outcome"]) == ("rollback", "approver", "allowed")
    assert (
        entry["rollback"]["target_seq"] == written["seq"] and entry["rollback"]["commit"] == commits[0]["sha"]
    )
    again = aegis(gateway, keys["approver"], "rollback", str(written["seq"]))
    assert again.returncode == 1 and "already rolled back" in again.stderr
    verified = subprocess.run(
        [sys.executable, "-m", "gateway.cli", "audit", "verify", str(gateway.audit_log)], capture_output=True
    )
    assert verified.returncode == 0


async def test_rollback_of_a_created_file_removes_it(
    gateway: Gateway, upstream: Simulator, keys: dict[str, str]
) -> None:
    written = await write_file(gateway, keys["writer"], "docs/created.md", "new\n")
    result = admin(gateway, keys["approver"], "/admin/rollback", {"seq": written["seq"]})
    assert result.status_code == 200 and result.json()["rollback"]["deleted"] is True
    assert file_text(upstream, "docs/created.md") is None


async def test_rollback_never_overwrites_a_later_change(
    gateway: Gateway, upstream: Simulator, keys: dict[str, str]
) -> None:
    first = await write_file(gateway, keys["writer"], "docs/twice.md", "one\n")
    await write_file(gateway, keys["writer"], "docs/twice.md", "two\n", sha=first["sha"])
    before = len(upstream.requests())
    refused = admin(gateway, keys["approver"], "/admin/rollback", {"seq": first["seq"]})
    assert refused.status_code == 409 and "changed since" in refused.json()["error"]
    assert writes_sent(upstream, before) == [] and file_text(upstream, "docs/twice.md") == "two\n"
    entry = audit(gateway)[-1]
    assert (entry["event"], entry["outcome"]) == ("rollback", "denied")


@pytest.mark.parametrize(("seq", "status"), [(1, 422), (10**9, 404)])
def test_rollback_of_what_is_not_a_file_write_is_refused(
    gateway: Gateway, keys: dict[str, str], seq: int, status: int
) -> None:
    assert admin(gateway, keys["approver"], "/admin/rollback", {"seq": seq}).status_code == status


def test_rollback_needs_the_admin_scope(gateway: Gateway, keys: dict[str, str]) -> None:
    assert admin(gateway, keys["writer"], "/admin/rollback", {"seq": 1}).status_code == 403


# -- quotas --------------------------------------------------------------------------------------


def quota_reason(result: CallToolResult) -> str:
    assert result.is_error is True
    return next(r["rule"] for r in structured(result)["reasons"] if r["rule"].startswith("quota."))


async def test_writes_per_day(gateway: Gateway, upstream: Simulator, keys: dict[str, str]) -> None:
    for number in range(2):
        result = await call(gateway, keys["few-writes"], "create_issue", app(title=f"quota {number}"))
        assert result.is_error is False, result.content
    before = len(upstream.requests())
    third = await call(gateway, keys["few-writes"], "create_issue", app(title="quota 2"))
    assert quota_reason(third) == "quota.writes_per_day" and "2 writes" in text(third)
    assert upstream.requests()[before:] == []
    assert audit(gateway)[-1]["outcome"] == "denied"


async def test_bytes_of_one_write(gateway: Gateway, upstream: Simulator, keys: dict[str, str]) -> None:
    before = len(upstream.requests())
    large = app(filepath="docs/big.md", branch="main", content="x" * 11)
    result = await call(gateway, keys["small-writes"], "create_or_update_file", large)
    assert quota_reason(result) == "quota.max_write_bytes" and "11 bytes" in text(result)
    assert upstream.requests()[before:] == []
    small = await call(gateway, keys["small-writes"], "create_or_update_file", {**large, "content": "x" * 10})
    assert small.is_error is False


async def test_bytes_written_per_day(gateway: Gateway, upstream: Simulator, keys: dict[str, str]) -> None:
    first = await call(gateway, keys["few-bytes"], "create_issue", app(title="t" * 30))
    assert first.is_error is False
    before = len(upstream.requests())
    second = await call(gateway, keys["few-bytes"], "create_issue", app(title="t" * 11))
    assert quota_reason(second) == "quota.write_bytes_per_day"
    assert upstream.requests()[before:] == []


async def test_a_write_gitea_refuses_gives_its_quota_back(gateway: Gateway, keys: dict[str, str]) -> None:
    key = create_key(gateway.keys_file, "one-write", ("tools:write",), ("--writes-per-day", "1"))
    missing = await call(gateway, key, "create_issue_comment", app(index=999, body="x"))
    assert structured(missing)["pending_approval"] is True  # held: counts nothing
    refused = await call(gateway, key, "create_branch", app(branch="aegis/fix-crash"))  # exists: 409
    assert refused.is_error is True and "conflict" in text(refused)
    ran = await call(gateway, key, "create_issue", app(title="the one write"))
    assert ran.is_error is False, ran.content


async def test_an_approval_is_bound_to_the_bundle_revision(
    gateway: Gateway, upstream: Simulator, keys: dict[str, str]
) -> None:
    """An approval given under one policy does not run the call under another."""
    comment = app(index=2, body="approved under the old policy")
    approval_id = structured(await call(gateway, keys["writer"], "create_issue_comment", comment))[
        "approval_id"
    ]
    assert (
        admin(gateway, keys["approver"], "/admin/approvals/approve", {"id": approval_id}).status_code == 200
    )
    revision = httpx.get(f"{gateway.base_url}/readyz").json()["bundle_revision"]
    policy_file = gateway.audit_log.parent / "policy.yaml"
    policy_file.write_text(POLICY + "# reviewed again\n", encoding="utf-8")
    for _ in range(100):
        if httpx.get(f"{gateway.base_url}/readyz").json()["bundle_revision"] != revision:
            break
        await asyncio.sleep(0.1)
    else:
        pytest.fail("the gateway did not load the changed policy")
    before = len(upstream.requests())
    result = await call(gateway, keys["writer"], "create_issue_comment", comment)
    assert structured(result)["pending_approval"] is True and structured(result)["approval_id"] != approval_id
    assert writes_sent(upstream, before) == []


# -- what never reaches Gitea ----------------------------------------------------------------------


def test_no_call_made_gitea_merge_delete_or_administer(upstream: Simulator) -> None:
    """Runs last in this module: every write request the simulator saw, from every call above, allowed
    or not, was one of the gateway's allowed writes."""
    sent = writes_sent(upstream)
    assert len(sent) > 20
    assert [request for request in sent if NEVER_SENT.fullmatch(request)] == []
    allowed = re.compile(
        r"POST /api/v1/repos/acme/app/(issues|branches|pulls)"
        r"|PATCH /api/v1/repos/acme/app/issues/\d+"
        r"|POST /api/v1/repos/acme/app/issues/\d+/(comments|labels)"
        r"|DELETE /api/v1/repos/acme/app/issues/\d+/labels/\d+"
        r"|(POST|PUT|DELETE) /api/v1/repos/acme/app/contents/.+"
    )
    assert [request for request in sent if not allowed.fullmatch(request)] == []
    assert all(not r["query"] for r in upstream.requests() if r["method"] != "GET")


def test_every_decision_replays_under_its_archived_policy(gateway: Gateway) -> None:
    """Runs last: the whole log of this module's gateway, decided again, gives every recorded decision."""
    assert_every_decision_replays(gateway, at_least=30)
