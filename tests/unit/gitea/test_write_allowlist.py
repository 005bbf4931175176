"""The Gitea client sends only the writes of its allowlist: no merge, no deletion of branches, tags
or repositories, no admin call, no force push, whatever asks it to."""

from __future__ import annotations

import pytest

from gateway.errors import UpstreamError
from gateway.gitea import GiteaClient

REPO = "/api/v1/repos/acme/app"
NEVER = [
    ("POST", f"{REPO}/pulls/1/merge"),
    ("DELETE", f"{REPO}/pulls/1/merge"),
    ("POST", f"{REPO}/pulls/1/update"),
    ("DELETE", f"{REPO}/branches/main"),
    ("PATCH", f"{REPO}/branches/main"),
    ("POST", f"{REPO}/branches/main"),
    ("DELETE", f"{REPO}/tags/v1"),
    ("POST", f"{REPO}/tags"),
    ("PATCH", REPO),
    ("DELETE", REPO),
    ("POST", f"{REPO}/transfer"),
    ("DELETE", f"{REPO}/issues/1"),
    ("PUT", f"{REPO}/issues/1/labels"),
    ("DELETE", f"{REPO}/issues/1/labels"),
    ("POST", f"{REPO}/git/refs"),
    ("PATCH", f"{REPO}/git/refs/heads/main"),
    ("POST", f"{REPO}/contents"),
    ("PUT", f"{REPO}/collaborators/mallory"),
    ("POST", f"{REPO}/hooks"),
    ("POST", f"{REPO}/keys"),
    ("POST", "/api/v1/admin/users"),
    ("DELETE", "/api/v1/admin/users/alice"),
    ("POST", "/api/v1/user/repos"),
    ("POST", f"{REPO}/issues/../../../admin/users"),
    ("PATCH", f"{REPO}/issues/0"),
    ("POST", f"{REPO}/issues/1/comments/extra"),
    ("PUT", f"{REPO}/contents/docs/../../../../admin/users"),
    ("PUT", f"{REPO}/contents/docs/%2e%2E/README.md"),
    ("DELETE", f"{REPO}/contents/./README.md"),
]


@pytest.mark.parametrize(("method", "path"), NEVER)
async def test_writes_outside_the_allowlist_are_never_sent(method: str, path: str) -> None:
    gitea = GiteaClient(base_url="http://127.0.0.1:9", token=None, timeout_s=1)  # nothing listens there
    with pytest.raises(UpstreamError) as refused:
        await gitea.send_json(method, path, {})
    assert refused.value.kind == "refused"  # refused before any connection was tried
    await gitea.aclose()


@pytest.mark.parametrize("value", [True, False, None])
async def test_a_body_with_force_push_is_never_sent(value: object) -> None:
    gitea = GiteaClient(base_url="http://127.0.0.1:9", token=None, timeout_s=1)
    with pytest.raises(UpstreamError) as refused:
        await gitea.send_json("PUT", f"{REPO}/contents/a.txt", {"content": "", "force_push": value})
    assert refused.value.kind == "refused"
    await gitea.aclose()


async def test_an_allowed_write_does_reach_the_network() -> None:
    gitea = GiteaClient(base_url="http://127.0.0.1:9", token=None, timeout_s=1)
    with pytest.raises(UpstreamError) as failed:
        await gitea.send_json("POST", f"{REPO}/issues", {"title": "t"})
    assert failed.value.kind == "unavailable"  # it was sent: the connection failed
    await gitea.aclose()
