"""Webhooks of the simulator run as a real process: each event reaches a loopback receiver as Gitea 1.26
sends it (headers, HMAC signature, payload shapes), hooks are configured through Gitea's hook API, and
deliveries are read back from the simulator's test-only ``GET /_simulator/hook_deliveries``.

One simulator serves the module; every test makes hooks of its own pointing at receivers of its own, so
a test sees only its own deliveries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
from gitea_simulator import add_token, seed_demo
from gitea_simulator._hooks import branch_matches

from tests.ports import free_port
from tests.processes import Simulator, start_simulator

from .test_sim_contract import CONTRACT, GO_NULLABLE

WAIT_S = 15.0
ZERO = "0" * 40
SECRET = "s3cret-for-tests"
REPO = "/api/v1/repos/acme/app"
# Besides GO_NULLABLE: a webhook's commit is unsigned as a nil pointer (ToAPIPayloadCommit sets none).
PAYLOAD_NULLABLE = {"PayloadCommit": ("verification",)}


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def payload(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.body)
        return document


class Receiver:
    """A loopback HTTP server recording every POST it gets, answering ``status``."""

    def __init__(self, status: int = 200) -> None:
        self.received: list[Received] = []
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver._arrived:
                    receiver.received.append(Received(self.path, dict(self.headers.items()), body))
                    receiver._arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/hooks/gitea"

    def wait(self, count: int) -> list[Received]:
        """The first ``count`` requests, once they have arrived (fails after WAIT_S)."""
        with self._arrived:
            arrived = self._arrived.wait_for(lambda: len(self.received) >= count, timeout=WAIT_S)
            assert arrived, f"{len(self.received)} of {count} deliveries arrived"
            return list(self.received[:count])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@dataclass
class Site:
    simulator: Simulator
    http: httpx.Client  # aegis-bot: write:issue, write:repository, read:user; admin on acme/app
    admin: httpx.Client  # alice, a site admin: write:admin, write:issue, write:repository
    receivers: list[Receiver]

    def receiver(self, status: int = 200) -> Receiver:
        receiver = Receiver(status)
        self.receivers.append(receiver)
        return receiver

    def hook(
        self,
        url: str,
        events: list[str],
        *,
        client: httpx.Client | None = None,
        path: str = f"{REPO}/hooks",
        **extra: Any,
    ) -> int:
        body = {
            "type": "gitea",
            "config": {"url": url, "content_type": "json", "secret": SECRET},
            "events": events,
            "active": True,
            **extra,
        }
        response = (client or self.http).post(path, json=body)
        assert response.status_code == 201, response.text
        hook_id: int = response.json()["id"]
        return hook_id

    def deliveries(self, hook_id: int) -> list[dict[str, Any]]:
        response = self.http.get("/_simulator/hook_deliveries", params={"hook_id": hook_id})
        assert response.status_code == 200
        found: list[dict[str, Any]] = response.json()
        return found

    def wait_deliveries(self, hook_id: int, count: int) -> list[dict[str, Any]]:
        deadline = time.monotonic() + WAIT_S
        while len(found := self.deliveries(hook_id)) < count:
            assert time.monotonic() < deadline, found
            time.sleep(0.05)
        return found


def _prepare(state_dir: Path) -> str:
    """The demo state with aegis-bot an admin of acme/app and alice a site admin; alice's token."""
    seed_demo(state_dir)
    meta_file = state_dir / "meta.json"
    meta = json.loads(meta_file.read_text())
    for user in meta["users"]:
        if user["login"] == "alice":
            user["is_admin"] = True
    for repo in meta["repos"]:
        if (repo["owner"], repo["name"]) == ("acme", "app"):
            repo["collaborators"]["aegis-bot"] = "admin"
    meta_file.write_text(json.dumps(meta))
    return add_token(state_dir, user="alice", scopes=["write:admin", "write:issue", "write:repository"])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    state_dir = tmp_path_factory.mktemp("hooks") / "state"
    alice_token = _prepare(state_dir)
    simulator = start_simulator(state_dir, token_scopes=("write:issue", "write:repository", "read:user"))
    http = httpx.Client(base_url=simulator.url, headers={"Authorization": f"token {simulator.token}"})
    admin = httpx.Client(base_url=simulator.url, headers={"Authorization": f"token {alice_token}"})
    built = Site(simulator, http, admin, [])
    try:
        yield built
    finally:
        http.close()
        admin.close()
        for receiver in built.receivers:
            receiver.close()
        simulator.stop()


def _validator(definition: str) -> jsonschema.Draft4Validator:
    """The spec's definition, with the fields Go sends as null allowed to be null (see test_sim_contract)."""
    spec = json.loads(CONTRACT.read_text(encoding="utf-8"))
    definitions = spec["definitions"]
    for name, fields in [*GO_NULLABLE.items(), *PAYLOAD_NULLABLE.items()]:
        for field in fields:
            definitions[name]["properties"][field] = {
                "anyOf": [{"type": "null"}, definitions[name]["properties"][field]]
            }
    return jsonschema.Draft4Validator({"$ref": f"#/definitions/{definition}", "definitions": definitions})


_SHAPES = {
    name: _validator(name)
    for name in ("Repository", "User", "Issue", "PullRequest", "Comment", "PayloadCommit")
}


def _conforms(document: Any, definition: str) -> None:
    errors = [error.message for error in _SHAPES[definition].iter_errors(document)]
    assert errors == [], (definition, errors)


def _check_delivery(received: Received, *, event: str, event_type: str) -> dict[str, Any]:
    """Gitea's delivery headers with a signature that verifies; the payload, its common parts checked."""
    headers = received.headers
    signature = hmac.new(SECRET.encode(), received.body, hashlib.sha256).hexdigest()
    sha1 = hmac.new(SECRET.encode(), received.body, hashlib.sha1).hexdigest()
    delivery = headers["X-Gitea-Delivery"]
    assert len(delivery) == 36 and delivery.count("-") == 4
    assert {
        name: headers[name] for name in headers if name.startswith(("X-", "Content-Type", "User-Agent"))
    } == {
        "Content-Type": "application/json",
        "User-Agent": "Go-http-client/1.1",
        "X-Gitea-Delivery": delivery,
        "X-Gitea-Event": event,
        "X-Gitea-Event-Type": event_type,
        "X-Gitea-Signature": signature,
        "X-Gogs-Delivery": delivery,
        "X-Gogs-Event": event,
        "X-Gogs-Event-Type": event_type,
        "X-Gogs-Signature": signature,
        "X-Hub-Signature": f"sha1={sha1}",
        "X-Hub-Signature-256": f"sha256={signature}",
        "X-GitHub-Delivery": delivery,
        "X-GitHub-Event": event,
        "X-GitHub-Event-Type": event_type,
    }
    assert received.path == "/hooks/gitea"
    assert received.body.startswith(b'{\n  "')  # json.MarshalIndent(p, "", "  ")
    payload = received.payload
    assert payload["repository"]["full_name"] == "acme/app"
    _conforms(payload["repository"], "Repository")
    _conforms(payload["sender"], "User")
    return payload


def _issue_payload(received: Received, *, action: str, event_type: str = "issues") -> dict[str, Any]:
    payload = _check_delivery(received, event="issues", event_type=event_type)
    assert (payload["action"], payload["sender"]["login"], payload["commit_id"]) == (action, "aegis-bot", "")
    assert payload["number"] == payload["issue"]["number"]
    _conforms(payload["issue"], "Issue")
    return payload


def test_issue_events_are_sent_as_gitea_sends_them(site: Site) -> None:
    receiver = site.receiver()
    site.hook(receiver.url, ["issues"])
    created = site.http.post(f"{REPO}/issues", json={"title": "Hooked", "body": "first"})
    assert created.status_code == 201
    number = created.json()["number"]
    issue = f"{REPO}/issues/{number}"
    assert site.http.patch(issue, json={"title": "Hooked again", "body": "second"}).status_code == 201
    assert site.http.patch(issue, json={"state": "closed"}).status_code == 201
    assert site.http.patch(issue, json={"state": "open"}).status_code == 201
    assert site.http.post(f"{issue}/labels", json={"labels": ["bug"]}).status_code == 200
    assert site.http.delete(f"{issue}/labels").status_code == 204

    opened, title, body, closed, reopened, labeled, cleared = receiver.wait(7)
    first = _issue_payload(opened, action="opened")
    assert (first["number"], first["issue"]["title"], first["issue"]["state"]) == (number, "Hooked", "open")
    assert "changes" not in first
    renamed = _issue_payload(title, action="edited")
    assert renamed["changes"] == {"title": {"from": "Hooked"}}
    assert (renamed["issue"]["title"], renamed["issue"]["body"]) == ("Hooked again", "first")
    rewritten = _issue_payload(body, action="edited")
    assert rewritten["changes"] == {"body": {"from": "first"}}
    assert rewritten["issue"]["body"] == "second"
    assert _issue_payload(closed, action="closed")["issue"]["state"] == "closed"
    assert _issue_payload(reopened, action="reopened")["issue"]["state"] == "open"
    updated = _issue_payload(labeled, action="label_updated", event_type="issue_label")
    assert [label["name"] for label in updated["issue"]["labels"]] == ["bug"]
    assert _issue_payload(cleared, action="label_cleared", event_type="issue_label")["issue"]["labels"] == []


def test_an_issue_created_closed_is_opened_then_closed(site: Site) -> None:
    receiver = site.receiver()
    site.hook(receiver.url, ["issues_only"])
    assert site.http.post(f"{REPO}/issues", json={"title": "Born closed", "closed": True}).status_code == 201
    opened, closed = receiver.wait(2)
    assert _issue_payload(opened, action="opened")["issue"]["state"] == "open"
    assert _issue_payload(closed, action="closed")["issue"]["state"] == "closed"


def test_labels_and_edits_of_a_pull_request_are_pull_request_events(site: Site) -> None:
    receiver = site.receiver()
    site.hook(receiver.url, ["pull_request_label", "pull_request_only"])
    assert site.http.post(f"{REPO}/issues/6/labels", json={"labels": ["security"]}).status_code == 200
    assert site.http.patch(f"{REPO}/issues/6", json={"title": "Rotate secrets"}).status_code == 201
    labeled, edited = receiver.wait(2)
    label = _check_delivery(labeled, event="pull_request", event_type="pull_request_label")
    assert (label["action"], label["number"]) == ("label_updated", 6)
    assert "security" in [item["name"] for item in label["pull_request"]["labels"]]
    assert label["repository"]["permissions"] == {"admin": True, "push": True, "pull": True}  # owner access
    _conforms(label["pull_request"], "PullRequest")
    renamed = _check_delivery(edited, event="pull_request", event_type="pull_request")
    assert renamed["action"] == "edited"
    assert renamed["changes"] == {"title": {"from": "Rotate production secrets (fix)"}}
    assert renamed["pull_request"]["head"]["ref"] == "fix/rotate-secrets"


def test_comments_on_issues_and_pull_requests(site: Site) -> None:
    receiver = site.receiver()
    site.hook(receiver.url, ["issue_comment", "pull_request_comment"])
    assert site.http.post(f"{REPO}/issues/1/comments", json={"body": "On the issue"}).status_code == 201
    assert site.http.post(f"{REPO}/issues/3/comments", json={"body": "On the pull"}).status_code == 201

    on_issue, on_pull = receiver.wait(2)
    payload = _check_delivery(on_issue, event="issue_comment", event_type="issue_comment")
    assert (payload["action"], payload["is_pull"], payload["issue"]["number"]) == ("created", False, 1)
    assert payload["comment"]["body"] == "On the issue"
    assert "pull_request" not in payload
    _conforms(payload["comment"], "Comment")
    _conforms(payload["issue"], "Issue")
    pulled = _check_delivery(on_pull, event="issue_comment", event_type="pull_request_comment")
    assert (pulled["is_pull"], pulled["issue"]["number"], pulled["pull_request"]["number"]) == (True, 3, 3)
    assert (pulled["pull_request"]["head"]["ref"], pulled["pull_request"]["base"]["ref"]) == (
        "feature/login",
        "main",
    )
    _conforms(pulled["pull_request"], "PullRequest")


def _content(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _branch_head(site: Site, branch: str) -> str:
    sha: str = site.http.get(f"{REPO}/branches/{branch}").json()["commit"]["id"]
    return sha


def test_pull_request_opened_synchronized_and_closed(site: Site) -> None:
    receiver = site.receiver()
    site.hook(receiver.url, ["pull_request"])
    assert site.http.post(f"{REPO}/branches", json={"new_branch_name": "hooks/pr"}).status_code == 201
    file = {"content": _content("one\n"), "branch": "hooks/pr"}
    assert site.http.post(f"{REPO}/contents/hooks-pr.txt", json=file).status_code == 201
    opened = site.http.post(
        f"{REPO}/pulls", json={"head": "hooks/pr", "base": "main", "title": "Hooked pull"}
    )
    assert opened.status_code == 201
    number = opened.json()["number"]
    sha = site.http.get(f"{REPO}/contents/hooks-pr.txt", params={"ref": "hooks/pr"}).json()["sha"]
    update = {"content": _content("two\n"), "branch": "hooks/pr", "sha": sha}
    assert site.http.put(f"{REPO}/contents/hooks-pr.txt", json=update).status_code == 200
    assert site.http.patch(f"{REPO}/issues/{number}", json={"state": "closed"}).status_code == 201

    deliveries = receiver.wait(3)
    actions = []
    for received, event_type in zip(
        deliveries, ["pull_request", "pull_request_sync", "pull_request"], strict=True
    ):
        payload = _check_delivery(received, event="pull_request", event_type=event_type)
        pull = payload["pull_request"]
        assert (payload["number"], pull["number"], payload["sender"]["login"]) == (
            number,
            number,
            "aegis-bot",
        )
        assert (pull["head"]["ref"], pull["base"]["ref"]) == ("hooks/pr", "main")
        assert (payload["requested_reviewer"], payload["review"], payload["commit_id"]) == (None, None, "")
        _conforms(pull, "PullRequest")
        actions.append((payload["action"], pull["state"]))
    assert actions == [("opened", "open"), ("synchronized", "open"), ("closed", "closed")]
    assert receiver.wait(3)[1].payload["pull_request"]["head"]["sha"] == _branch_head(site, "hooks/pr")


def _push(received: Received) -> dict[str, Any]:
    payload = _check_delivery(received, event="push", event_type="push")
    assert payload["pusher"] == payload["sender"]
    assert payload["sender"]["login"] == "aegis-bot"
    assert payload["head_commit"]["id"] == payload["after"]
    for commit in payload["commits"]:
        _conforms(commit, "PayloadCommit")
        assert commit["url"].endswith(f"/acme/app/commit/{commit['id']}")
        assert commit["verification"] is None
    return payload


def test_every_commit_and_new_branch_is_a_push(site: Site) -> None:
    receiver = site.receiver()
    site.hook(receiver.url, ["push", "create"], branch_filter="hooks/{push,other}")
    start = _branch_head(site, "main")
    assert site.http.post(f"{REPO}/branches", json={"new_branch_name": "hooks/push"}).status_code == 201
    path = f"{REPO}/contents/docs/hooked.md"
    created = site.http.post(path, json={"content": _content("a\n"), "branch": "hooks/push"})
    sha = created.json()["content"]["sha"]
    updated = site.http.put(path, json={"content": _content("b\n"), "branch": "hooks/push", "sha": sha})
    sha = updated.json()["content"]["sha"]
    assert site.http.request("DELETE", path, json={"branch": "hooks/push", "sha": sha}).status_code == 200

    create, branch, add, modify, remove = receiver.wait(5)
    made = _check_delivery(create, event="create", event_type="create")
    assert (made["ref"], made["ref_type"], made["sha"]) == ("hooks/push", "branch", start)
    new = _push(branch)
    assert (new["ref"], new["before"], new["after"]) == ("refs/heads/hooks/push", ZERO, start)
    assert new["total_commits"] == 6 and len(new["commits"]) == 5  # main's history: 5 listed of 6
    assert new["commits"][0]["id"] == start
    oldest = site.http.get(f"{REPO}/git/commits/{new['commits'][-1]['id']}").json()
    assert new["compare_url"].endswith(f"/acme/app/compare/{oldest['parents'][0]['sha']}...{start}")
    heads = [start]
    for received, change in ((add, "added"), (modify, "modified"), (remove, "removed")):
        payload = _push(received)
        [commit] = payload["commits"]
        assert (payload["ref"], payload["before"], payload["total_commits"]) == (
            "refs/heads/hooks/push",
            heads[-1],
            1,
        )
        files = {name: commit[name] for name in ("added", "modified", "removed")}
        assert files == {name: ["docs/hooked.md"] if name == change else [] for name in files}
        assert payload["compare_url"].endswith(f"/compare/{heads[-1]}...{payload['after']}")
        heads.append(payload["after"])
    assert heads[-1] == _branch_head(site, "hooks/push")
    assert remove.payload["commits"][0]["message"] == "Delete docs/hooked.md\n"


def test_a_hook_gets_only_its_events_and_branches(site: Site) -> None:
    pushes, issues = site.receiver(), site.receiver()
    site.hook(pushes.url, ["push"], branch_filter="main")
    site.hook(issues.url, ["issues_only"])  # issues without labels, assignments, comments
    assert (
        site.http.post(
            f"{REPO}/contents/hooks-filter.txt",
            json={"content": _content("x\n"), "new_branch": "hooks/filter"},
        ).status_code
        == 201
    )
    assert (
        site.http.post(f"{REPO}/contents/hooks-filter.txt", json={"content": _content("x\n")}).status_code
        == 201
    )
    assert site.http.post(f"{REPO}/issues/1/labels", json={"labels": ["bug"]}).status_code == 200
    assert site.http.post(f"{REPO}/issues", json={"title": "Filtered"}).status_code == 201

    [push] = pushes.wait(1)
    assert _push(push)["ref"] == "refs/heads/main"
    [opened] = issues.wait(1)
    assert _issue_payload(opened, action="opened")["issue"]["title"] == "Filtered"
    time.sleep(0.5)  # anything else would have been sent before the issue event
    assert (len(pushes.received), len(issues.received)) == (1, 1)


def test_an_inactive_hook_sends_nothing(site: Site) -> None:
    inactive, active = site.receiver(), site.receiver()
    quiet = site.hook(inactive.url, ["issues"], active=False)
    assert site.http.get(f"{REPO}/hooks/{quiet}").json()["active"] is False
    site.hook(active.url, ["issues"])
    assert site.http.post(f"{REPO}/issues", json={"title": "Unheard"}).status_code == 201
    active.wait(1)  # the inactive hook's task, had there been one, went first
    assert inactive.received == []
    assert site.deliveries(quiet) == []


def test_a_failing_receiver_does_not_fail_the_call(site: Site) -> None:
    failing = site.receiver(status=500)
    closed_url = f"http://127.0.0.1:{free_port()}/hooks/gitea"  # a port nobody listens on
    refused = site.hook(closed_url, ["issues"])
    erroring = site.hook(failing.url, ["issues"])
    created = site.http.post(f"{REPO}/issues", json={"title": "Despite failures"})
    assert created.status_code == 201
    [answered] = site.wait_deliveries(erroring, 1)
    assert (answered["status"], answered["error"], answered["event_type"]) == (500, "", "issues")
    assert answered["request_headers"]["X-Gitea-Event"] == "issues"
    assert json.loads(answered["request_body"])["issue"]["title"] == "Despite failures"
    [lost] = site.wait_deliveries(refused, 1)
    assert lost["status"] == 0 and lost["error"].startswith("Delivery: ")
    assert failing.wait(1)[0].headers["X-Gitea-Delivery"] == answered["uuid"]


def test_the_authorization_header_is_sent_and_masked_in_the_record(site: Site) -> None:
    receiver = site.receiver()
    hook = site.hook(receiver.url, ["issues"], authorization_header="Bearer hook-token")
    assert site.http.get(f"{REPO}/hooks/{hook}").json()["authorization_header"] == "Bearer hook-token"
    assert site.http.post(f"{REPO}/issues", json={"title": "Authorized"}).status_code == 201
    [received] = receiver.wait(1)
    assert received.headers["Authorization"] == "Bearer hook-token"
    [delivery] = site.wait_deliveries(hook, 1)
    assert (delivery["request_headers"]["Authorization"], delivery["status"]) == ("******", 200)


def test_hook_api_answers_as_gitea(site: Site) -> None:
    receiver = site.receiver()
    body = {
        "type": "gitea",
        "config": {"url": receiver.url, "content_type": "json", "secret": SECRET},
        "events": ["issues", "push"],
        "branch_filter": "main",
        "active": True,
    }
    created = site.http.post(f"{REPO}/hooks", json=body)
    assert created.status_code == 201
    hook = created.json()
    assert hook["config"] == {"url": receiver.url, "content_type": "json"}  # the secret is never shown
    assert hook["events"] == [
        "push",
        "issues",
        "issue_assign",
        "issue_label",
        "issue_milestone",
        "issue_comment",
    ]
    assert (hook["type"], hook["active"], hook["branch_filter"]) == ("gitea", True, "main")
    assert site.http.get(f"{REPO}/hooks/{hook['id']}").json() == hook
    listed = site.http.get(f"{REPO}/hooks")
    assert hook in listed.json() and listed.headers["X-Total-Count"] == str(len(listed.json()))
    assert site.http.delete(f"{REPO}/hooks/{hook['id']}").status_code == 204
    assert site.http.get(f"{REPO}/hooks/{hook['id']}").status_code == 404
    assert site.http.delete(f"{REPO}/hooks/{hook['id']}").status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        ("/api/v1/repos/acme/infra/hooks", {}, 403, "user should be an owner or a site admin"),
        (f"{REPO}/hooks", {"type": "gitea"}, 422, "[Config]: Required"),
        (f"{REPO}/hooks", {"type": "nope", "config": {"url": "x"}}, 422, "Invalid hook type: nope"),
        (
            f"{REPO}/hooks",
            {"type": "gitea", "config": {"url": "x"}},
            422,
            "Missing config option: content_type",
        ),
        (
            f"{REPO}/hooks",
            {"type": "gitea", "config": {"url": "x", "content_type": "xml"}},
            422,
            "Invalid content type",
        ),
        (
            "/api/v1/admin/hooks",
            {},
            403,
            "token does not have at least one of required scope(s), required=[write:admin], "
            "token scope=write:issue,write:repository,read:user",
        ),
    ],
    ids=["not-repo-admin", "no-config", "bad-type", "no-content-type", "bad-content-type", "no-admin-scope"],
)
def test_hook_api_refusals(site: Site, path: str, body: dict[str, Any], status: int, message: str) -> None:
    response = site.http.post(path, json=body)
    assert (response.status_code, response.json()["message"]) == (status, message)


def test_system_hooks_need_a_site_admin(site: Site) -> None:
    token = add_token(site.simulator.state_dir, user="aegis-bot", scopes=["write:admin"], name="admin-scope")
    response = site.http.post("/api/v1/admin/hooks", json={}, headers={"Authorization": f"token {token}"})
    assert (response.status_code, response.json()["message"]) == (403, "user should be the site admin")


def test_system_hooks_are_sent_for_every_repository(site: Site) -> None:
    receiver = site.receiver()
    hook = site.hook(receiver.url, ["issues"], client=site.admin, path="/api/v1/admin/hooks")
    assert site.admin.get(f"/api/v1/admin/hooks/{hook}").json()["id"] == hook
    assert any(item["id"] == hook for item in site.admin.get("/api/v1/admin/hooks").json())
    assert site.admin.post("/api/v1/repos/acme/infra/issues", json={"title": "Site-wide"}).status_code == 201
    [received] = receiver.wait(1)
    payload = received.payload
    assert (payload["action"], payload["repository"]["full_name"], payload["sender"]["login"]) == (
        "opened",
        "acme/infra",
        "alice",
    )
    assert site.admin.delete(f"/api/v1/admin/hooks/{hook}").status_code == 204


@pytest.mark.parametrize(
    ("branch_filter", "branch", "matches"),
    [
        ("", "any/thing", True),
        ("*", "any/thing", True),
        ("main", "main", True),
        ("main", "mainline", False),
        ("release/*", "release/1.2/hotfix", True),  # no separators: * crosses /
        ("{main,dev}", "dev", True),
        ("v?.[0-9]", "v1.5", True),
        ("[!f]*", "feature", False),
    ],
)
def test_branch_filter_is_a_glob_without_separators(branch_filter: str, branch: str, matches: bool) -> None:
    assert branch_matches(branch_filter, branch) is matches


def test_a_deleted_hook_s_id_is_never_given_again(site: Site) -> None:
    """Gitea's hook ids come from the database's sequence: a new hook never takes a deleted one's id, so
    deliveries recorded for the old hook are never taken for the new one's."""
    first = site.hook("http://127.0.0.1:9/hooks/gitea", ["push"])
    assert site.http.delete(f"{REPO}/hooks/{first}").status_code == 204
    second = site.hook("http://127.0.0.1:9/hooks/gitea", ["push"])
    assert second > first
    assert site.http.delete(f"{REPO}/hooks/{second}").status_code == 204
