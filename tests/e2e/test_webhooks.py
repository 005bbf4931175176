"""The Gitea webhook receiver through the real gateway process: a signed Gitea-shaped delivery is taken
on (202) and handed to the automation workers, a forged one and a replay are refused, and the audit log
and the JSON log say so, each with its request id."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from gateway.audit import verify_chain
from tests.processes import Gateway, Simulator, start_gateway

pytestmark = pytest.mark.e2e

SECRET = "0123456789abcdef" * 4
# An `issue_comment` delivery as Gitea 1.2x sends it (the fields a job reads; Gitea sends more).
COMMENT_CREATED: dict[str, Any] = {
    "action": "created",
    "issue": {
        "id": 11,
        "url": "http://gitea.local/api/v1/repos/acme/app/issues/3",
        "number": 3,
        "user": {"id": 2, "login": "alice"},
        "title": "Crash on start",
        "labels": [],
        "state": "open",
        "comments": 1,
        "created_at": "2026-11-21T10:00:00Z",
        "updated_at": "2026-11-21T10:05:00Z",
        "pull_request": None,
    },
    "comment": {
        "id": 41,
        "html_url": "http://gitea.local/acme/app/issues/3#issuecomment-41",
        "user": {"id": 3, "login": "bob"},
        "body": "/triage please",
        "created_at": "2026-11-21T10:05:00Z",
        "updated_at": "2026-11-21T10:05:00Z",
    },
    "repository": {"id": 1, "owner": {"id": 1, "login": "acme"}, "name": "app", "full_name": "acme/app"},
    "sender": {"id": 3, "login": "bob"},
    "is_pull": False,
}


@pytest.fixture(scope="module")
def gateway(
    simulator: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str
) -> Iterator[Gateway]:
    workdir = tmp_path_factory.mktemp("gw-hooks")
    secret_file = workdir / "webhook-secret"
    secret_file.write_text(SECRET + "\n")
    gw = start_gateway(
        workdir,
        policy="defaults: {read: allow, write: deny}\n",
        upstream=simulator,
        env={"AEGIS_WEBHOOK_SECRET_FILE": str(secret_file)},
    )
    yield gw
    gw.stop()


def deliver(gateway: Gateway, body: bytes, *, delivery: str, signature: str | None) -> httpx.Response:
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "GiteaServer",
        "X-Gitea-Delivery": delivery,
        "X-Gitea-Event": "issue_comment",
        "X-Gitea-Event-Type": "issue_comment",
    }
    if signature is not None:
        headers["X-Gitea-Signature"] = signature
    return httpx.post(f"{gateway.base_url}/hooks/gitea", content=body, headers=headers, timeout=30)


def sign(body: bytes) -> str:
    return hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def handled(gateway: Gateway, delivery: str) -> bool:
    """Whether the automation workers logged `delivery` as handled (by the default handler), within 10 s."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in gateway.logs().splitlines() if line.startswith("{")]
        if any(
            line["msg"] == "no automation jobs configured" and line.get("delivery") == delivery
            for line in lines
        ):
            return True
        time.sleep(0.05)
    return False


def audit(gateway: Gateway) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gateway.audit_log.read_text().splitlines()]


def test_a_signed_delivery_is_accepted_and_handed_to_automation(gateway: Gateway) -> None:
    body = json.dumps(COMMENT_CREATED).encode()
    delivery = str(uuid.uuid4())
    reply = deliver(gateway, body, delivery=delivery, signature=sign(body))
    assert reply.status_code == 202
    assert reply.json()["delivery"] == delivery
    lines = gateway.logged(reply.headers["x-request-id"], awaiting=frozenset({"webhook delivery accepted"}))
    [accepted] = [line for line in lines if line["msg"] == "webhook delivery accepted"]
    assert (accepted["delivery"], accepted["gitea_event"]) == (delivery, "issue_comment")
    assert handled(gateway, delivery)  # the default handler got it
    assert not [entry for entry in audit(gateway) if entry.get("webhook", {}).get("delivery") == delivery]


def test_a_forged_delivery_is_refused_and_audited(gateway: Gateway) -> None:
    body = json.dumps({**COMMENT_CREATED, "action": "deleted"}).encode()
    delivery = str(uuid.uuid4())
    reply = deliver(gateway, body, delivery=delivery, signature=sign(b"another body"))
    assert reply.status_code == 401
    [entry] = [e for e in audit(gateway) if e.get("webhook", {}).get("delivery") == delivery]
    assert entry["event"] == "webhook_refused"
    assert entry["request_id"] == reply.headers["x-request-id"]
    assert entry["reasons"][0]["rule"] == "edge.webhook.forged"
    assert entry["webhook"]["event"] == "issue_comment"
    assert verify_chain(gateway.audit_log).entries >= 1  # the verifier knows the event and its fields


def test_a_replayed_delivery_runs_nothing_and_is_audited(gateway: Gateway) -> None:
    body = json.dumps({**COMMENT_CREATED, "comment": {**COMMENT_CREATED["comment"], "id": 42}}).encode()
    delivery = str(uuid.uuid4())
    assert deliver(gateway, body, delivery=delivery, signature=sign(body)).status_code == 202
    replay = deliver(gateway, body, delivery=delivery, signature=sign(body))
    assert replay.status_code == 200
    assert replay.json()["status"] == "duplicate"
    [entry] = [e for e in audit(gateway) if e.get("webhook", {}).get("delivery") == delivery]
    assert (entry["event"], entry["reasons"][0]["rule"]) == ("webhook_refused", "edge.webhook.replayed")
    metrics = httpx.get(f"{gateway.base_url}/metrics", timeout=10).text
    assert 'aegis_webhook_deliveries_total{event="issue_comment",outcome="replayed"} 1.0' in metrics
