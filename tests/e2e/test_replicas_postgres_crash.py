"""PostgreSQL killed (an immediate shutdown, as a crash) while both replicas carry concurrent reads and
writes, then started again on the same data directory: every read is served throughout; every write
either reached Gitea exactly once or was refused as `state.unavailable` and never sent; the quota counts
exactly the writes Gitea received; what was stored before the crash is intact; both replicas recover."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import time
from collections.abc import Callable
from typing import Any

import httpx
import psycopg
import pytest

from tests.e2e.replica_set import (
    HEADERS,
    ISSUES,
    Replicas,
    admin,
    admin_get,
    app,
    audit,
    call,
    issue_titles,
    sent,
)
from tests.processes import Gateway, create_key

pytestmark = pytest.mark.e2e

WRITERS_PER_REPLICA = 3
READERS_PER_REPLICA = 1
PHASE_WRITES = 10  # answered writes to see in each phase (before, during and after the crash)
DOWN_AT_LEAST_S = 3.0  # how long the load goes on against the dead database
PHASE_TIMEOUT_S = 90.0
LOCK_HELD_S = 3.0  # at most, before the kill: below the gateway's 5 s statement timeout
CRID = "client_request_id"
RUN = "crash-load"  # the prefix of every load call's X-Request-ID, which is also its issue's title


@dataclasses.dataclass(frozen=True)
class Answer:
    """What one load call got back: `result` is None when no JSON-RPC result came (`status` None: no
    HTTP answer at all)."""

    tool: str
    ident: str  # the X-Request-ID it was sent with; a write's issue title too
    status: int | None
    result: dict[str, Any] | None

    @property
    def ran(self) -> bool:
        return self.status == 200 and self.result is not None and self.result.get("isError") is False

    @property
    def refused_by(self) -> str | None:
        """The rule that refused it, when the gateway says it did not run it."""
        if self.result is None or not self.result.get("isError"):
            return None
        reasons = self.result.get("structuredContent", {}).get("reasons") or [{}]
        rule: str | None = reasons[-1].get("rule")
        return rule


class Load:
    """Writers (create_issue) and readers (get_file_contents) on each replica, each making one call after
    another until stopped."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.answers: list[Answer] = []
        self._stopped = asyncio.Event()

    def writes(self, kept: Callable[[Answer], bool]) -> list[Answer]:
        return [answer for answer in self.answers if answer.tool == "create_issue" and kept(answer)]

    def start(self, replicas: Replicas) -> list[asyncio.Future[None]]:
        return [
            asyncio.ensure_future(self._run(gateway, f"{name}{kind}{n}", kind == "w"))
            for gateway, name in zip(replicas.both(), "ab", strict=True)
            for kind, count in (("w", WRITERS_PER_REPLICA), ("r", READERS_PER_REPLICA))
            for n in range(count)
        ]

    async def _run(self, gateway: Gateway, worker: str, writes: bool) -> None:
        async with httpx.AsyncClient(timeout=30) as client:
            n = 0
            while not self._stopped.is_set():
                n += 1
                ident = f"{RUN}-{worker}-{n}"  # also the issue's title
                if writes:
                    await self._call(client, gateway, "create_issue", app(title=ident), ident)
                else:
                    await self._call(client, gateway, "get_file_contents", app(filepath="README.md"), ident)

    async def until(self, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + PHASE_TIMEOUT_S
        while not done():
            assert time.monotonic() < deadline, f"no {what} within {PHASE_TIMEOUT_S} s"
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        self._stopped.set()

    async def _call(
        self, client: httpx.AsyncClient, gateway: Gateway, tool: str, arguments: dict[str, Any], ident: str
    ) -> None:
        body = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": tool, "arguments": arguments},
        }
        headers = {**HEADERS, "Authorization": f"Bearer {self.key}", "X-Request-ID": ident}
        try:
            response = await client.post(gateway.url, json=body, headers=headers)
        except httpx.HTTPError:
            self.answers.append(Answer(tool, ident, None, None))
            return
        result = response.json().get("result") if response.status_code == 200 else None
        self.answers.append(Answer(tool, ident, response.status_code, result))


def writes_used(replicas: Replicas, principal: str) -> int:
    """The writes the state database has counted for `principal`, all days together."""
    database = replicas.env["AEGIS_STATE_URL"].rsplit("/", 1)[1]
    rows = replicas.postgres.psql(
        "SELECT principal, SUM(writes) FROM write_usage GROUP BY principal", database
    )
    used = dict(line.split("|") for line in rows.splitlines())
    return int(used.get(principal, 0))


def hold_quota_lock(url: str, principal: str) -> psycopg.Connection[Any]:
    """A session holding the advisory lock the gateway reserves `principal`'s quota for today under: the
    key's writes wait in PostgreSQL, each in the middle of its transaction, until this session ends."""
    day = time.strftime("%Y-%m-%d", time.gmtime())
    holder = psycopg.connect(url)
    holder.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (f"quota:{principal}:{day}",))
    return holder


def waiting_on_a_lock(url: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'advisory'").fetchone()
    return int(row[0]) if row else 0


async def crash_under(load: Load, replicas: Replicas, principal: str) -> int:
    """Let the load run; hold the key's quota lock so that its writes queue inside PostgreSQL; kill it
    then, mid-transaction; keep the load going; start PostgreSQL again on the same data and let the load
    go on until writes run again. Returns how many writes were in a transaction at the kill."""
    url = replicas.env["AEGIS_STATE_URL"]
    await load.until(
        lambda: len(load.writes(lambda answer: answer.ran)) >= PHASE_WRITES, "writes before the crash"
    )
    holder = await asyncio.to_thread(hold_quota_lock, url, principal)
    deadline = time.monotonic() + LOCK_HELD_S
    while (in_flight := await asyncio.to_thread(waiting_on_a_lock, url)) < 2 * WRITERS_PER_REPLICA:
        if time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    await asyncio.to_thread(replicas.postgres.stop, mode="immediate")
    try:
        with contextlib.suppress(psycopg.Error):
            holder.close()
        killed = time.monotonic()
        await load.until(
            lambda: (
                len(load.writes(lambda answer: answer.refused_by is not None)) >= PHASE_WRITES
                and time.monotonic() - killed >= DOWN_AT_LEAST_S
            ),
            "writes refused while PostgreSQL was down",
        )
    finally:
        await asyncio.to_thread(replicas.postgres.start)
    back = len(load.writes(lambda answer: answer.ran))
    await load.until(
        lambda: len(load.writes(lambda answer: answer.ran)) >= back + PHASE_WRITES, "writes after"
    )
    return in_flight


@dataclasses.dataclass(frozen=True)
class Before:
    """What was stored before the crash: a key's quota usage and an approval decided for its call."""

    key: str
    writes: int
    comment: dict[str, Any]
    approval_id: str


async def store_before_the_crash(replicas: Replicas) -> Before:
    key = create_key(replicas.a.keys_file, "before-crash", ("tools:write",), ("--writes-per-day", "5"))
    for n in range(2):
        written = await call(replicas.a, key, "create_issue", app(title=f"before the crash {n}"))
        assert written["isError"] is False, written
    comment = app(index=1, body="approved before the crash, run after it")
    held = await call(replicas.a, key, "create_issue_comment", comment)
    approval_id = held["structuredContent"]["approval_id"]
    decided = admin(replicas.b, replicas.keys["approver"], "/admin/approvals/approve", {"id": approval_id})
    assert decided.status_code == 200, decided.text
    return Before(key, 2, comment, approval_id)


def assert_each_write_ran_once_or_never(load: Load, replicas: Replicas, posts_before: int) -> set[str]:
    """Every write ran exactly once or was refused and never sent, by its answer, Gitea's issues, the
    simulator's request log and both audit chains. Returns the writes Gitea received."""
    writes = {answer.ident: answer for answer in load.answers if answer.tool == "create_issue"}
    ran = {ident for ident, answer in writes.items() if answer.ran}
    refused = {ident for ident, answer in writes.items() if answer.refused_by == "state.unavailable"}
    lost = {ident for ident, answer in writes.items() if answer.result is None}  # no answer came back
    assert set(writes) == ran | refused | lost  # no write refused for any other reason
    titles = issue_titles(replicas.upstream)
    in_gitea = {title for title in titles if title.startswith(RUN)}
    assert [title for title in in_gitea if titles[title] != 1] == []  # nothing reached Gitea twice
    assert ran <= in_gitea and not refused & in_gitea and in_gitea <= set(writes)
    assert sent(replicas.upstream, "POST", ISSUES) == posts_before + len(in_gitea)

    mine = [entry for gateway in replicas.both() for entry in audit(gateway) if entry.get(CRID) in writes]
    intents = collections.Counter(entry[CRID] for entry in mine if entry["event"] == "write_intent")
    outcomes = {entry[CRID]: entry for entry in mine if entry["event"] == "tool_call"}
    assert intents == collections.Counter(in_gitea)  # sent, once, exactly when its intent is on record
    assert lost <= set(intents)  # a write whose answer was lost shows as an intent
    assert {outcomes[ident]["outcome"] for ident in ran} == {"allowed"}
    assert {outcomes[ident]["reasons"][-1]["rule"] for ident in refused} == {"state.unavailable"}
    return in_gitea


async def test_postgresql_killed_under_load_loses_no_write_and_runs_none_twice(replicas: Replicas) -> None:
    before = await store_before_the_crash(replicas)
    posts_before = sent(replicas.upstream, "POST", ISSUES)
    key = create_key(
        replicas.a.keys_file, "load", ("tools:read", "tools:write"), ("--writes-per-day", "100000")
    )
    load = Load(key)
    workers = load.start(replicas)
    try:
        in_flight = await crash_under(load, replicas, "load")
    finally:
        load.stop()
        await asyncio.gather(*workers)

    assert in_flight > 0, "no write was inside PostgreSQL when it was killed"
    reads = [answer for answer in load.answers if answer.tool == "get_file_contents"]
    assert reads and [answer for answer in reads if not answer.ran] == []  # reads need no state database
    in_gitea = assert_each_write_ran_once_or_never(load, replicas, posts_before)
    assert writes_used(replicas, "load") == len(in_gitea)  # what Gitea received, no more, no less
    assert writes_used(replicas, "before-crash") == before.writes
    listed = admin_get(replicas.a, replicas.keys["approver"], "/admin/approvals?all=true")["approvals"]
    assert [approval["state"] for approval in listed if approval["id"] == before.approval_id] == ["approved"]

    for gateway in replicas.both():
        assert httpx.get(f"{gateway.base_url}/readyz", timeout=30).status_code == 200
        again = await call(gateway, key, "create_issue", app(title=f"after the crash on {gateway.base_url}"))
        assert again["isError"] is False, again
    ran_once = await call(replicas.b, before.key, "create_issue_comment", before.comment)
    assert ran_once["isError"] is False, ran_once
    assert writes_used(replicas, "before-crash") == before.writes + 1
    assert writes_used(replicas, "load") == len(in_gitea) + 2
