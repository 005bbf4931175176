"""A call held for approval, completed through the protocol by the official SDK speaking 2026-07-28: the
gateway answers with an input-required result, the client asks its user (the elicitation callback, where
this test plays the approver), retries with the sealed requestState, and the write runs exactly once."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp.shared.exceptions import MCPError
from mcp.types import ElicitRequestParams, ElicitResult, InputRequiredResult

from tests.processes import UNLIMITED, Gateway, Simulator, create_key, start_gateway, start_simulator
from tests.replay import assert_every_decision_replays

pytestmark = pytest.mark.e2e

POLICY = """\
defaults: {read: allow, write: deny}
tools:
  allow: [create_issue_comment]
write:
  repositories: [acme/app]
  require_approval: [create_issue_comment]
"""
COMMENTS = "POST /api/v1/repos/acme/app/issues/1/comments"


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    sim = start_simulator(
        tmp_path_factory.mktemp("gitea-rounds") / "state", token_scopes=("read:repository", "write:issue")
    )
    yield sim
    sim.stop()


@pytest.fixture(scope="module")
def gateway(upstream: Simulator, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gw = start_gateway(
        tmp_path_factory.mktemp("gw-rounds"),
        policy=POLICY,
        upstream=upstream,
        env={**UNLIMITED, "WRITE_MODE": "true"},
    )
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def keys(gateway: Gateway) -> dict[str, str]:
    return {
        "writer": create_key(gateway.keys_file, "writer", ("tools:read", "tools:write")),
        "approver": create_key(gateway.keys_file, "approver", ("admin",)),
    }


@asynccontextmanager
async def modern_client(gateway: Gateway, key: str, **options: Any) -> AsyncIterator[Client]:
    async with (
        create_mcp_http_client(headers={"Authorization": f"Bearer {key}"}) as http,
        Client(streamable_http_client(gateway.url, http_client=http), mode="2026-07-28", **options) as client,
    ):
        yield client


def approve(gateway: Gateway, approver_key: str, approval_id: str) -> None:
    response = httpx.post(
        f"{gateway.base_url}/admin/approvals/approve",
        headers={"Authorization": f"Bearer {approver_key}"},
        json={"id": approval_id},
    )
    assert response.status_code == 200, response.text


def comments_sent(upstream: Simulator, since: int) -> list[str]:
    return [f"{r['method']} {r['path']}" for r in upstream.requests()[since:] if r["method"] == "POST"]


def audit(gateway: Gateway) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gateway.audit_log.read_text().splitlines()]


def pending_approvals(gateway: Gateway, approver_key: str) -> list[dict[str, Any]]:
    response = httpx.get(
        f"{gateway.base_url}/admin/approvals", headers={"Authorization": f"Bearer {approver_key}"}
    )
    approvals: list[dict[str, Any]] = response.json()["approvals"]
    return approvals


async def test_the_user_is_asked_and_the_approved_call_runs_once(
    gateway: Gateway, upstream: Simulator, keys: dict[str, str]
) -> None:
    asked: list[str] = []

    async def the_user(context: Any, params: ElicitRequestParams) -> ElicitResult:
        """The client's user reads whom to ask; here the approver decides before the user accepts."""
        asked.append(params.message)
        (pending,) = [
            a for a in pending_approvals(gateway, keys["approver"]) if a["arguments"]["body"] == "one"
        ]
        assert pending["id"] in params.message and "aegis approvals approve" in params.message
        approve(gateway, keys["approver"], pending["id"])
        return ElicitResult(action="accept", content={})

    before = len(upstream.requests())
    arguments = {"owner": "acme", "repo": "app", "index": 1, "body": "one"}
    async with modern_client(gateway, keys["writer"], elicitation_callback=the_user) as client:
        result = await client.call_tool("create_issue_comment", arguments)
    assert result.is_error is False, result.content
    assert len(asked) == 1
    assert comments_sent(upstream, before) == [COMMENTS]  # exactly once
    held, intent, ran = audit(gateway)[-4], audit(gateway)[-2], audit(gateway)[-1]
    assert (held["outcome"], intent["event"], ran["outcome"]) == ("pending", "write_intent", "allowed")
    assert ran["approval"]["decided_by"] == "approver"


async def test_a_client_without_forms_gets_the_state_and_resumes_it(
    gateway: Gateway, upstream: Simulator, keys: dict[str, str]
) -> None:
    arguments = {"owner": "acme", "repo": "app", "index": 1, "body": "two"}
    async with modern_client(gateway, keys["writer"]) as client:
        first = await client.session.call_tool("create_issue_comment", arguments, allow_input_required=True)
        assert isinstance(first, InputRequiredResult)
        assert first.request_state and not first.input_requests  # no elicitation offered: state only
        again = await client.session.call_tool(
            "create_issue_comment", arguments, request_state=first.request_state, allow_input_required=True
        )
        assert isinstance(again, InputRequiredResult)  # still waiting for a human
        (pending,) = [
            a for a in pending_approvals(gateway, keys["approver"]) if a["arguments"]["body"] == "two"
        ]
        approve(gateway, keys["approver"], pending["id"])
        before = len(upstream.requests())
        done = await client.session.call_tool(
            "create_issue_comment", arguments, request_state=again.request_state, allow_input_required=True
        )
        assert not isinstance(done, InputRequiredResult) and done.is_error is False
        assert comments_sent(upstream, before) == [COMMENTS]
        with pytest.raises(MCPError) as replayed:  # single use: the approval is spent
            await client.session.call_tool(
                "create_issue_comment",
                arguments,
                request_state=again.request_state,
                allow_input_required=True,
            )
    assert replayed.value.error.code == -32602 and "used" in replayed.value.error.message
    assert comments_sent(upstream, before) == [COMMENTS]
    assert audit(gateway)[-1]["outcome"] == "invalid"


async def test_a_state_cannot_carry_other_arguments(gateway: Gateway, keys: dict[str, str]) -> None:
    arguments = {"owner": "acme", "repo": "app", "index": 1, "body": "three"}
    async with modern_client(gateway, keys["writer"]) as client:
        first = await client.session.call_tool("create_issue_comment", arguments, allow_input_required=True)
        assert isinstance(first, InputRequiredResult)
        (pending,) = [
            a for a in pending_approvals(gateway, keys["approver"]) if a["arguments"]["body"] == "three"
        ]
        approve(gateway, keys["approver"], pending["id"])
        with pytest.raises(MCPError) as swapped:
            await client.session.call_tool(
                "create_issue_comment",
                {**arguments, "body": "something else entirely"},
                request_state=first.request_state,
                allow_input_required=True,
            )
    assert swapped.value.error.code == -32602 and "another call" in swapped.value.error.message


async def test_declining_to_wait_runs_nothing_and_keeps_the_approval(
    gateway: Gateway, upstream: Simulator, keys: dict[str, str]
) -> None:
    async def the_user(context: Any, params: ElicitRequestParams) -> ElicitResult:
        return ElicitResult(action="decline")

    before = len(upstream.requests())
    arguments = {"owner": "acme", "repo": "app", "index": 1, "body": "four"}
    async with modern_client(gateway, keys["writer"], elicitation_callback=the_user) as client:
        result = await client.call_tool("create_issue_comment", arguments)
    assert result.is_error is True and "decline" in result.content[0].text
    assert comments_sent(upstream, before) == []
    assert [a for a in pending_approvals(gateway, keys["approver"]) if a["arguments"]["body"] == "four"]


def test_every_decision_replays_under_its_archived_policy(gateway: Gateway) -> None:
    """Runs last: the whole log of this module's gateway, decided again, gives every recorded decision."""
    assert_every_decision_replays(gateway, at_least=4)
