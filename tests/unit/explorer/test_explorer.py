"""The decision explorer in process: sign-in with an admin key for a session cookie, filters, the detail
of one entry with its YAML lines, the archived policy with anchored lines, and every value escaped."""

from __future__ import annotations

import contextlib
import dataclasses
import re
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from gateway.edge.keys import create_key, revoke_key
from gateway.state import PolicyArchive, SqliteDatabase, migrate
from tests.unit.audit.test_index import DENIED, ELSEWHERE, READ, write
from tests.unit.edge.in_process import InProcessGateway, running_app
from tests.unit.test_cli_review import POLICY

ORIGIN = {"Origin": "http://127.0.0.1:8080"}
SCRIPTED = dataclasses.replace(READ, path="src/<script>alert(1)</script>.py", principal='eve"><b>')


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[InProcessGateway]:
    write(tmp_path / "audit.jsonl", [READ, DENIED, ELSEWHERE, SCRIPTED])
    db = SqliteDatabase.open(tmp_path / "state.db")
    await migrate(db)
    source = ("# reviewed\n# by legal\n" + POLICY).encode()
    await PolicyArchive(db).save(
        READ.bundle_revision or "", source=source, source_sha256="x", bundle=b"b", file="p"
    )
    await db.aclose()
    async with running_app(tmp_path) as running:
        yield running


@contextlib.asynccontextmanager
async def signed_in(gateway: InProcessGateway) -> AsyncIterator[httpx.AsyncClient]:
    key = create_key(gateway.keys_file, name="reviewer", scopes=("admin",))
    async with gateway.client() as client:
        response = await client.post("/admin/explorer/login", data={"key": key}, headers=ORIGIN)
        assert response.status_code == 303 and response.headers["location"] == "/admin/explorer"
        yield client


async def test_without_a_session_every_page_is_refused_with_the_sign_in_form(
    gateway: InProcessGateway,
) -> None:
    async with gateway.client() as client:
        for path in (
            "/admin/explorer",
            "/admin/explorer/entry?seq=1",
            f"/admin/explorer/policy?revision={'3' * 8}",
        ):
            response = await client.get(path)
            assert response.status_code == 401, path
            assert 'name="key"' in response.text and "alice" not in response.text
        bearer = await client.get("/admin/explorer", headers={"Authorization": f"Bearer {gateway.key}"})
        assert bearer.status_code == 401
        forged = await client.get("/admin/explorer", headers={"Cookie": "aegis_explorer=abc.9999999999.sig"})
        assert forged.status_code == 401


@pytest.mark.parametrize(
    ("scopes", "key", "headers", "status"),
    [
        (("tools:read",), None, ORIGIN, 403),
        (("admin",), "aegis_not-a-key", ORIGIN, 401),
        (("admin",), None, {}, 403),
        (("admin",), None, {"Origin": "http://evil.example"}, 403),
    ],
    ids=["no-admin-scope", "unknown-key", "no-origin", "foreign-origin"],
)
async def test_sign_in_needs_an_admin_key_posted_from_the_explorer(
    gateway: InProcessGateway, scopes: tuple[str, ...], key: str | None, headers: dict[str, str], status: int
) -> None:
    real = create_key(gateway.keys_file, name="someone", scopes=scopes)
    async with gateway.client() as client:
        response = await client.post("/admin/explorer/login", data={"key": key or real}, headers=headers)
        assert response.status_code == status
        assert "set-cookie" not in response.headers


async def test_a_session_cookie_is_http_only_strict_and_holds_no_key(gateway: InProcessGateway) -> None:
    key = create_key(gateway.keys_file, name="reviewer", scopes=("admin",))
    async with gateway.client() as client:
        response = await client.post("/admin/explorer/login", data={"key": key}, headers=ORIGIN)
        cookie = response.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "Path=/admin/explorer" in cookie
        assert "Secure" not in cookie  # plain HTTP here; over TLS it is Secure
        assert key not in cookie
        assert (await client.get("/admin/explorer")).status_code == 200
        revoke_key(gateway.keys_file, "reviewer")
        assert (await client.get("/admin/explorer")).status_code == 401  # the key's revocation ends it


async def test_the_filters_answer_who_read_src_under_which_revision_and_rule(
    gateway: InProcessGateway,
) -> None:
    async with signed_in(gateway) as client:
        response = await client.get(
            "/admin/explorer",
            params={"repo": "ACME/app", "path": "src/**", "outcome": "allowed", "since": "1d"},
        )
        assert response.status_code == 200
        assert "default-src 'self'" in response.headers["content-security-policy"]
        table = response.text.split('id="entries"', 1)[1]
        assert "alice" in table and "src/main.py" in table and "bob" not in table
        assert "policy.yaml:7" in table and f"revision={READ.bundle_revision}#L7" in table
        assert '<svg class="chart" id="per-day"' in response.text
        denied = await client.get("/admin/explorer", params={"outcome": "denied"})
        assert 'id="top-rules"' in denied.text and "repo.acme/app.paths.deny[0]" in denied.text
        bad = await client.get("/admin/explorer", params={"since": "yesterday"})
        assert bad.status_code == 400 and "is not a time" in bad.text


async def test_one_entry_shows_who_what_outcome_and_the_yaml_line_of_each_reason(
    gateway: InProcessGateway,
) -> None:
    async with signed_in(gateway) as client:
        response = await client.get("/admin/explorer/entry", params={"seq": "1"})
        assert response.status_code == 200
        assert "alice" in response.text and "get_file_contents" in response.text
        assert re.search(r'id="outcome">allowed<', response.text)
        assert "its hash holds, entry 2 links to it" in response.text
        assert '<span class="line">7</span>      allow: [src/**]</pre>' in response.text
        assert "no checkpoint after it yet" in response.text
        missing = await client.get("/admin/explorer/entry", params={"seq": "999"})
        assert missing.status_code == 404
        for wrong in ("²", "1" * 40, "-1", ""):
            assert (await client.get("/admin/explorer/entry", params={"seq": wrong})).status_code == 400
        assert (await client.get("/admin/explorer", params={"offset": "²"})).status_code == 200


async def test_the_policy_page_numbers_and_anchors_every_line(gateway: InProcessGateway) -> None:
    async with signed_in(gateway) as client:
        response = await client.get("/admin/explorer/policy", params={"revision": READ.bundle_revision})
        assert response.status_code == 200
        assert (
            '<li id="L7"><a href="#L7" class="line">7</a><code>      allow: [src/**]</code></li>'
            in response.text
        )
        unknown = await client.get("/admin/explorer/policy", params={"revision": "ffffffff"})
        assert unknown.status_code == 404


async def test_attacker_strings_from_the_log_render_as_text(gateway: InProcessGateway) -> None:
    async with signed_in(gateway) as client:
        for response in (
            await client.get("/admin/explorer", params={"path": "src/<script>*"}),
            await client.get("/admin/explorer/entry", params={"seq": "4"}),
        ):
            assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
            assert "<script" not in response.text and "<b>" not in response.text


async def test_signing_out_clears_the_cookie(gateway: InProcessGateway) -> None:
    async with signed_in(gateway) as client:
        response = await client.post("/admin/explorer/logout", headers=ORIGIN)
        assert response.status_code == 303 and "Max-Age=0" in response.headers["set-cookie"]
        assert (await client.get("/admin/explorer")).status_code == 401


async def test_sign_in_failures_are_throttled_and_audited(tmp_path: Path) -> None:
    async with (
        running_app(tmp_path, {"AEGIS_AUTH_FAILURE_LIMIT": "2"}) as gateway,
        gateway.client() as client,
    ):
        statuses = [
            (
                await client.post("/admin/explorer/login", data={"key": "aegis_wrong"}, headers=ORIGIN)
            ).status_code
            for _ in range(3)
        ]
        assert statuses == [401, 401, 429]
        assert [e["reasons"][0]["rule"] for e in gateway.audit_events("auth_failure")] == [
            "edge.auth.invalid"
        ] * 2


async def test_a_broken_chain_is_reported_and_only_what_precedes_the_break_shown(
    gateway: InProcessGateway,
) -> None:
    lines = gateway.audit_log.read_bytes().splitlines(keepends=True)
    changed = lines[1].replace(b'"principal":"bob"', b'"principal":"eve"')
    assert changed != lines[1]
    with gateway.audit_log.open("r+b") as log:  # in place, as a forger would
        log.seek(len(lines[0]))
        log.write(changed)
    async with signed_in(gateway) as client:
        response = await client.get("/admin/explorer")
        assert "the chain breaks" in response.text and "entry_hash" in response.text
        table = response.text.split('id="entries"', 1)[1]
        assert "alice" in table and "eve" not in table and "bob" not in table
