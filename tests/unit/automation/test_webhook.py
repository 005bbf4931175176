"""The Gitea webhook receiver driven in process through the real edge: every refusal with its status,
metric and audit entry, the order of the checks, the 202 that reaches the handler, a full queue, and a
replay between two gateways sharing one state database."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from gateway.audit import verify_chain
from gateway.automation import Delivery
from tests.unit.edge.in_process import InProcessGateway, running_app

SECRET = "s3cret-" + "x" * 40
HOOKS = {"AEGIS_WEBHOOK_SECRET": SECRET}
ISSUE_OPENED: dict[str, Any] = {
    "action": "opened",
    "number": 7,
    "issue": {"id": 1, "number": 7, "title": "Crash on start", "state": "open"},
    "repository": {"id": 1, "full_name": "acme/app", "owner": {"login": "acme"}, "name": "app"},
    "sender": {"login": "alice"},
}


def signed(
    payload: Mapping[str, Any] | bytes, *, event: str = "issues", delivery: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """A delivery as Gitea sends it: the body and its headers, signed with SECRET."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Gitea-Event": event,
        "X-Gitea-Delivery": delivery or str(uuid.uuid4()),
        "X-Gitea-Signature": signature,
    }
    return body, headers


class Handler:
    """Takes deliveries; while `hold` is clear, each waits for it (so that the queue can fill)."""

    def __init__(self) -> None:
        self.received: list[Delivery] = []
        self.hold = asyncio.Event()
        self.hold.set()
        self.arrived = asyncio.Condition()

    async def __call__(self, delivery: Delivery) -> None:
        async with self.arrived:
            self.received.append(delivery)
            self.arrived.notify_all()
        await self.hold.wait()

    async def wait_for(self, count: int) -> None:
        async with asyncio.timeout(5), self.arrived:
            await self.arrived.wait_for(lambda: len(self.received) >= count)


@pytest.fixture
def handler() -> Handler:
    return Handler()


@pytest.fixture
async def gateway(tmp_path: Path, handler: Handler) -> AsyncIterator[InProcessGateway]:
    async with running_app(tmp_path, HOOKS, handle_delivery=handler) as gw:
        yield gw


def refusals(gateway: InProcessGateway, event: str = "webhook_refused") -> list[dict[str, Any]]:
    return gateway.audit_events(event)


def counted(gateway: InProcessGateway, outcome: str, event: str = "issues") -> float:
    return gateway.metric(f'aegis_webhook_deliveries_total{{event="{event}",outcome="{outcome}"}}')


async def test_a_signed_delivery_is_accepted_with_202_and_reaches_the_handler(
    gateway: InProcessGateway, handler: Handler
) -> None:
    body, headers = signed(ISSUE_OPENED)
    reply = await gateway.post_hook(body, headers)
    assert reply.status_code == 202
    assert reply.json()["delivery"] == headers["X-Gitea-Delivery"]
    await handler.wait_for(1)
    delivery = handler.received[0]
    assert (delivery.id, delivery.event, delivery.payload) == (
        headers["X-Gitea-Delivery"],
        "issues",
        ISSUE_OPENED,
    )
    assert counted(gateway, "accepted") == 1
    assert refusals(gateway) == []


@pytest.mark.parametrize(
    ("change", "outcome"),
    [
        pytest.param({"X-Gitea-Signature": None}, "unsigned", id="unsigned"),
        pytest.param({"X-Gitea-Signature": "0" * 64}, "forged", id="wrong-signature"),
        pytest.param({"X-Gitea-Signature": "sha256=abc"}, "forged", id="not-hex"),
    ],
)
async def test_an_unsigned_or_forged_delivery_is_refused_with_401(
    gateway: InProcessGateway, handler: Handler, change: dict[str, str | None], outcome: str
) -> None:
    body, headers = signed(ISSUE_OPENED)
    sent = {name: value for name, value in {**headers, **change}.items() if value is not None}
    reply = await gateway.post_hook(body, sent)
    assert reply.status_code == 401
    assert "request_id" in reply.text
    [entry] = refusals(gateway)
    assert entry["reasons"][0]["rule"] == f"edge.webhook.{outcome}"
    assert entry["webhook"] == {"delivery": headers["X-Gitea-Delivery"], "event": "issues"}
    assert entry["outcome"] == "denied" and entry["client_ip"] == "127.0.0.1"
    assert counted(gateway, outcome) == 1
    assert handler.received == []


async def test_a_body_changed_after_signing_is_forged(gateway: InProcessGateway) -> None:
    body, headers = signed(ISSUE_OPENED)
    reply = await gateway.post_hook(body.replace(b"opened", b"closed"), headers)
    assert reply.status_code == 401


async def test_the_signature_is_compared_in_constant_time(
    gateway: InProcessGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    compared: list[tuple[bytes, bytes]] = []
    real = hmac.compare_digest

    def spy(a: bytes, b: bytes) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    body, headers = signed(ISSUE_OPENED)
    assert (await gateway.post_hook(body, headers)).status_code == 202
    assert compared == [(headers["X-Gitea-Signature"].encode(),) * 2]


@pytest.mark.parametrize(
    ("change", "claimed"),
    [
        pytest.param({"X-Gitea-Delivery": None}, {"delivery": None}, id="no-delivery-id"),
        pytest.param({"X-Gitea-Delivery": "../../etc"}, {"delivery": None}, id="invalid-delivery-id"),
        pytest.param({"X-Gitea-Event": None}, {"event": None}, id="no-event"),
        pytest.param({"X-Gitea-Event": "Issues!"}, {"event": None}, id="invalid-event"),
    ],
)
async def test_a_signed_delivery_without_a_valid_id_or_event_is_refused_with_400(
    gateway: InProcessGateway, handler: Handler, change: dict[str, str | None], claimed: dict[str, None]
) -> None:
    body, headers = signed(ISSUE_OPENED)
    sent = {name: value for name, value in {**headers, **change}.items() if value is not None}
    reply = await gateway.post_hook(body, sent)
    assert reply.status_code == 400
    [entry] = refusals(gateway)
    assert entry["reasons"][0]["rule"] == "edge.webhook.malformed"
    assert entry["webhook"] == {"delivery": headers["X-Gitea-Delivery"], "event": "issues", **claimed}
    assert handler.received == []


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"not json", id="not-json"),
        pytest.param(b"[1, 2]", id="not-an-object"),
        pytest.param(b'{"action": "opened", "action": "closed"}', id="duplicate-key"),
        pytest.param(b"\xff\xfe{}", id="not-utf-8"),
    ],
)
async def test_a_signed_body_that_is_not_one_json_object_is_refused_with_400(
    gateway: InProcessGateway, handler: Handler, body: bytes
) -> None:
    reply = await gateway.post_hook(*signed(body))
    assert reply.status_code == 400
    assert counted(gateway, "malformed") == 1
    assert handler.received == []


async def test_a_declared_length_over_the_bound_is_refused_before_the_body_is_read(tmp_path: Path) -> None:
    async with running_app(tmp_path, {**HOOKS, "AEGIS_WEBHOOK_MAX_BODY_BYTES": "1024"}) as gateway:
        body, headers = signed({"padding": "x" * 2000})
        reply = await gateway.post_hook(body, headers)
        assert reply.status_code == 413
        assert reply.headers["connection"] == "close"
        [entry] = refusals(gateway)
        assert entry["reasons"][0]["rule"] == "edge.webhook.oversized"
        assert counted(gateway, "oversized") == 1


async def test_a_chunked_body_over_the_bound_is_refused_once_it_grows_past_it(tmp_path: Path) -> None:
    async with running_app(tmp_path, {**HOOKS, "AEGIS_WEBHOOK_MAX_BODY_BYTES": "1024"}) as gateway:
        body, headers = signed({"padding": "x" * 2000})
        sent_chunks: list[int] = []

        async def chunks() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 512):
                sent_chunks.append(start)
                yield body[start : start + 512]

        transport_headers = {**headers}
        async with gateway.client() as http:
            reply = await http.post("/hooks/gitea", content=chunks(), headers=transport_headers)
        assert reply.status_code == 413
        assert len(sent_chunks) == 3  # the third chunk took it past 1024 bytes: nothing more was read


async def test_a_replayed_delivery_is_answered_200_and_runs_nothing(
    gateway: InProcessGateway, handler: Handler
) -> None:
    body, headers = signed(ISSUE_OPENED)
    assert (await gateway.post_hook(body, headers)).status_code == 202
    again = await gateway.post_hook(body, headers)
    assert again.status_code == 200
    assert again.json()["status"] == "duplicate"
    [entry] = refusals(gateway)
    assert entry["reasons"][0]["rule"] == "edge.webhook.replayed"
    assert entry["webhook"]["delivery"] == headers["X-Gitea-Delivery"]
    assert counted(gateway, "replayed") == 1
    await handler.wait_for(1)
    await asyncio.sleep(0.05)
    assert len(handler.received) == 1


async def test_a_captured_body_resent_under_a_new_delivery_id_is_a_replay(
    gateway: InProcessGateway, handler: Handler
) -> None:
    body, headers = signed(ISSUE_OPENED)
    assert (await gateway.post_hook(body, headers)).status_code == 202
    renamed = {**headers, "X-Gitea-Delivery": str(uuid.uuid4()), "X-Gitea-Event": "issue_comment"}
    assert (await gateway.post_hook(body, renamed)).status_code == 200
    await asyncio.sleep(0.05)
    assert len(handler.received) == 1


async def test_a_forger_cannot_burn_a_delivery_id(gateway: InProcessGateway, handler: Handler) -> None:
    body, headers = signed(ISSUE_OPENED)
    forged = {**headers, "X-Gitea-Signature": "1" * 64}
    assert (await gateway.post_hook(b'{"forged": true}', forged)).status_code == 401
    assert (await gateway.post_hook(body, headers)).status_code == 202


async def test_a_full_queue_answers_503_audits_the_drop_and_takes_the_redelivery(
    tmp_path: Path, handler: Handler
) -> None:
    env = {**HOOKS, "AEGIS_AUTOMATION_QUEUE": "1", "AEGIS_AUTOMATION_WORKERS": "1"}
    handler.hold.clear()
    async with running_app(tmp_path, env, handle_delivery=handler) as gateway:
        first, queued, dropped = (signed({**ISSUE_OPENED, "number": n}) for n in (1, 2, 3))
        assert (await gateway.post_hook(*first)).status_code == 202
        await handler.wait_for(1)  # the worker holds the first; the second waits in the queue
        assert (await gateway.post_hook(*queued)).status_code == 202
        reply = await gateway.post_hook(*dropped)
        assert reply.status_code == 503
        assert reply.headers["retry-after"] == "1"
        [entry] = refusals(gateway, "webhook_dropped")
        assert entry["webhook"] == {"delivery": dropped[1]["X-Gitea-Delivery"], "event": "issues"}
        assert entry["reasons"][0]["rule"] == "edge.webhook.dropped"
        assert counted(gateway, "dropped") == 1
        handler.hold.set()
        await handler.wait_for(2)
        assert (await gateway.post_hook(*dropped)).status_code == 202  # forgotten: the retry is taken
        await handler.wait_for(3)
    verify_chain(gateway.audit_log)


async def test_a_delivery_is_accepted_by_one_of_two_gateways_sharing_a_database(tmp_path: Path) -> None:
    shared = {**HOOKS, "AEGIS_STATE_DB": str(tmp_path / "shared-state.db")}
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    handlers = Handler(), Handler()
    async with (
        running_app(tmp_path / "a", shared, handle_delivery=handlers[0]) as one,
        running_app(tmp_path / "b", shared, handle_delivery=handlers[1]) as other,
    ):
        body, headers = signed(ISSUE_OPENED)
        assert (await one.post_hook(body, headers)).status_code == 202
        assert (await other.post_hook(body, headers)).status_code == 200
        assert other.audit_events("webhook_refused")[0]["reasons"][0]["rule"] == "edge.webhook.replayed"


async def test_a_flood_of_forgeries_is_audited_once_and_then_throttled(tmp_path: Path) -> None:
    env = {**HOOKS, "AEGIS_AUTH_FAILURE_LIMIT": "5"}
    async with running_app(tmp_path, env) as gateway:
        body, headers = signed(ISSUE_OPENED)
        forged = {**headers, "X-Gitea-Signature": "2" * 64}
        statuses = [(await gateway.post_hook(body, forged)).status_code for _ in range(8)]
        assert statuses == [401] * 5 + [429] * 3
        assert len(refusals(gateway)) == 1  # the other forgeries are counted in the next entry
        assert counted(gateway, "forged") == 5
        assert counted(gateway, "throttled") == 3
        # A genuine delivery from that address waits out the window too: the throttle knows no better.
        assert (await gateway.post_hook(body, headers)).status_code == 429


async def test_the_edge_still_applies_host_and_the_budget_per_address(tmp_path: Path) -> None:
    async with running_app(tmp_path, {**HOOKS, "AEGIS_IP_RATE": "0.001", "AEGIS_IP_BURST": "1"}) as gateway:
        body, headers = signed(ISSUE_OPENED)
        assert (await gateway.post_hook(body, {**headers, "Host": "evil.example"})).status_code == 403
        assert (await gateway.post_hook(body, headers)).status_code == 202
        assert (await gateway.post_hook(*signed(ISSUE_OPENED))).status_code == 429


async def test_without_a_secret_there_is_no_receiver(tmp_path: Path) -> None:
    async with running_app(tmp_path) as gateway:
        assert (await gateway.post_hook(*signed(ISSUE_OPENED))).status_code == 404


async def test_a_receiver_answers_only_post(gateway: InProcessGateway) -> None:
    assert (await gateway.get("/hooks/gitea")).status_code == 405
