"""The example jobs (examples/automation.yaml under examples/automation-policy.yaml) end to end: the Gitea
simulator sends real webhooks, signed, to the real gateway, whose jobs' steps are decided by OPA and run
against the simulator, each visible in the audit log with its delivery id; with WRITE_MODE off every
write is denied and audited; a replayed or forged delivery is refused; two replicas sharing PostgreSQL run
each cron slot once. The scheduled examples run here every minute (their cron and jitter are the only
change), so a slot comes within a minute."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from gitea_simulator import add_token, seed_demo

from tests.postgres_server import PostgresServer
from tests.processes import Gateway, Simulator, start_gateway, start_simulator

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
JOBS = (EXAMPLES / "automation.yaml").read_text()
POLICY = (EXAMPLES / "automation-policy.yaml").read_text()
SECRET = "a webhook secret of the test's own, long enough"
GITEA_SCOPES = ("read:repository", "write:repository", "read:issue", "write:issue", "read:user")
WAIT_S = 30.0
TOKEN = "ghp_" + "Zq7Lm2Rw9Xv4Tk1Pb8Nc5Hd3Jf6Gs0Ay2UeW"  # a GitHub token's shape, made up


@dataclasses.dataclass
class Site:
    simulator: Simulator
    http: httpx.Client  # alice: writes to the acme repositories and manages their hooks

    def hook(self, gateway: Gateway, repo: str = "acme/app") -> int:
        body = {
            "type": "gitea",
            "config": {"url": f"{gateway.base_url}/hooks/gitea", "content_type": "json", "secret": SECRET},
            "events": ["issues", "issue_comment", "pull_request", "push"],
            "active": True,
        }
        response = self.http.post(f"/api/v1/repos/{repo}/hooks", json=body)
        assert response.status_code == 201, response.text
        return int(response.json()["id"])

    def unhook(self, hook_id: int, repo: str = "acme/app") -> None:
        assert self.http.delete(f"/api/v1/repos/{repo}/hooks/{hook_id}").status_code == 204

    def deliveries(self, hook_id: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = self.http.get(
            "/_simulator/hook_deliveries", params={"hook_id": hook_id}
        ).json()
        return found

    def open_issue(self, title: str, body: str, repo: str = "acme/app") -> int:
        response = self.http.post(f"/api/v1/repos/{repo}/issues", json={"title": title, "body": body})
        assert response.status_code == 201, response.text
        return int(response.json()["number"])

    def issue(self, number: int, repo: str = "acme/app") -> dict[str, Any]:
        found: dict[str, Any] = self.http.get(f"/api/v1/repos/{repo}/issues/{number}").json()
        return found

    def labels(self, number: int, repo: str = "acme/app") -> list[str]:
        return sorted(label["name"] for label in self.issue(number, repo)["labels"])

    def comments(self, number: int, repo: str = "acme/app") -> int:
        """How many comments the issue has (the simulator has no route listing their bodies)."""
        return int(self.issue(number, repo)["comments"])

    def add_file(
        self, path: str, content: bytes, *, branch: str = "main", new_branch: str | None = None
    ) -> None:
        body: dict[str, Any] = {"content": base64.b64encode(content).decode(), "branch": branch}
        if new_branch:
            body["new_branch"] = new_branch
        response = self.http.post(f"/api/v1/repos/acme/app/contents/{path}", json=body)
        assert response.status_code == 201, response.text


def _prepare(state_dir: Path) -> str:
    """The demo data, with alice an admin of the acme repositories (who may manage their hooks) and the
    labels the example jobs set; alice's token."""
    seed_demo(state_dir)
    meta_file = state_dir / "meta.json"
    meta = json.loads(meta_file.read_text())
    for repo in meta["repos"]:
        if repo["owner"] == "acme":
            repo["collaborators"]["alice"] = "admin"
            top = max((label["id"] for label in repo["labels"]), default=0)
            for offset, name in enumerate(("stale", "needs-approval"), 1):
                repo["labels"].append(
                    {
                        "id": 100 * repo["id"] + top + offset,
                        "name": name,
                        "color": "cccccc",
                        "description": "",
                        "exclusive": False,
                    }
                )
    meta_file.write_text(json.dumps(meta))
    return add_token(state_dir, user="alice", scopes=["write:repository", "write:issue", "read:user"])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    state_dir = tmp_path_factory.mktemp("gitea-automation") / "state"
    alice = _prepare(state_dir)
    simulator = start_simulator(state_dir, token_scopes=GITEA_SCOPES)
    http = httpx.Client(base_url=simulator.url, headers={"Authorization": f"token {alice}"}, timeout=30)
    try:
        yield Site(simulator, http)
    finally:
        http.close()
        simulator.stop()


def start(workdir: Path, site: Site, env: dict[str, str], jobs: str = JOBS, policy: str = POLICY) -> Gateway:
    (workdir / "jobs.yaml").parent.mkdir(parents=True, exist_ok=True)
    (workdir / "jobs.yaml").write_text(jobs)
    (workdir / "webhook-secret").write_text(SECRET)
    return start_gateway(
        workdir,
        policy=policy,
        upstream=site.simulator,
        env={
            "AEGIS_JOBS": str(workdir / "jobs.yaml"),
            "AEGIS_WEBHOOK_SECRET_FILE": str(workdir / "webhook-secret"),
            **env,
        },
    )


@pytest.fixture(scope="module")
def writing(site: Site, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    """A gateway with WRITE_MODE on whose jobs only webhooks start (the scheduler off)."""
    gateway = start(
        tmp_path_factory.mktemp("gw-writing"), site, {"WRITE_MODE": "true", "AEGIS_SCHEDULER": "false"}
    )
    yield gateway
    gateway.stop()


def entries(gateway: Gateway) -> list[dict[str, Any]]:
    """The gateway's audit entries; a replica's chain has the replica's id in its file name."""
    [log] = [path for path in gateway.audit_log.parent.glob("audit*.jsonl") if path.is_file()]
    return [json.loads(line) for line in log.read_text().splitlines()]


def wait_for(found: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := found()):
        assert time.monotonic() < deadline, f"no {what} within {timeout:.0f} s"
        time.sleep(0.2)
    return value


def runs_of(gateway: Gateway, job: str, **where: Any) -> list[dict[str, Any]]:
    return [
        entry
        for entry in entries(gateway)
        if entry["event"] == "automation_run"
        and entry["automation"]["job"] == job
        and all(entry["automation"].get(key) == value for key, value in where.items())
    ]


def delivery_of(site: Site, hook_id: int, event: str, action: str) -> dict[str, Any]:
    """The simulator's record of the delivery of `event` with `action`, once it was answered."""

    def delivered() -> dict[str, Any] | None:
        for record in site.deliveries(hook_id):
            if record["event"] == event and json.loads(record["request_body"]).get("action") == action:
                return record if record["status"] else None
        return None

    found: dict[str, Any] = wait_for(delivered, f"{event} {action} delivery")
    return found


def test_a_new_issue_is_labelled_by_the_paths_it_mentions(site: Site, writing: Gateway) -> None:
    hook = site.hook(writing)
    try:
        number = site.open_issue("The guide is wrong", "Step 3 of docs/install.md fails.")
        delivery = delivery_of(site, hook, "issues", "opened")
        assert delivery["status"] == 202
        [run] = wait_for(lambda: runs_of(writing, "label-by-paths", delivery=delivery["uuid"]), "run")
    finally:
        site.unhook(hook)
    assert run["outcome"] == "completed" and run["principal"] == "automation:label-by-paths"
    assert run["automation"]["repository"] == "acme/app" and run["automation"]["event"] == "issues"
    documentation, security = run["automation"]["steps"]
    assert (documentation["outcome"], security["outcome"]) == ("allowed", "skipped")
    assert site.labels(number) == ["documentation"]
    [call] = [
        e
        for e in entries(writing)
        if e["event"] == "tool_call" and e["request_id"] == documentation["calls"][0]["request_id"]
    ]
    assert (call["tool"], call["outcome"], call["principal"]) == (
        "add_labels",
        "allowed",
        "automation:label-by-paths",
    )
    assert (
        call["automation"]["delivery"] == delivery["uuid"] and call["automation"]["step"] == "documentation"
    )
    rules = {reason["rule"] for reason in call["reasons"]}
    assert {"context.write_mode", "roles.labeller.capabilities[0]", "roles.labeller.tools.allow[0]"} <= rules
    assert call["decision_input"]["context"]["automation"]["delivery"] == delivery["uuid"]
    assert call["decision_input"]["principal"]["kind"] == "automation"


def test_a_pull_request_touching_protected_paths_is_commented_and_labelled(
    site: Site, writing: Gateway
) -> None:
    hook = site.hook(writing)
    try:
        site.add_file("deploy/prod.yaml", b"replicas: 3\n", new_branch="deploy-change")
        response = site.http.post(
            "/api/v1/repos/acme/app/pulls",
            json={"head": "deploy-change", "base": "main", "title": "Scale up"},
        )
        assert response.status_code == 201, response.text
        number = int(response.json()["number"])
        delivery = delivery_of(site, hook, "pull_request", "opened")
        [run] = wait_for(lambda: runs_of(writing, "protected-paths-review", delivery=delivery["uuid"]), "run")
    finally:
        site.unhook(hook)
    assert run["outcome"] == "completed", run
    outcomes = [step["outcome"] for step in run["automation"]["steps"]]
    assert outcomes == ["allowed", "allowed", "allowed", "skipped"]  # all its commits were compared
    assert "needs-approval" in site.labels(number)
    assert site.comments(number) == 1


WHITELIST = 'repositories: ["acme/*"]'


@pytest.mark.parametrize(
    ("write_mode", "policy", "outcome", "reason"),
    [
        ("false", POLICY, "denied", {"rule": "context.write_mode", "effect": "deny", "source": "builtin"}),
        ("true", POLICY.replace(WHITELIST, "repositories: [acme/infra]"), "denied", "write.repositories"),
        ("true", POLICY.replace(WHITELIST, f"{WHITELIST}\n  require_approval: [add_labels]"), "held", None),
    ],
    ids=["write-mode-off", "not-whitelisted", "approval-required"],
)
def test_an_automation_write_passes_the_write_gate_as_an_agent_s_does(
    site: Site,
    tmp_path_factory: pytest.TempPathFactory,
    write_mode: str,
    policy: str,
    outcome: str,
    reason: dict[str, str] | str | None,
) -> None:
    """WRITE_MODE off, a repository off the write whitelist, a tool that needs a human's approval: the
    job's write is not run, and its call and its run are audited as such."""
    env = {"WRITE_MODE": write_mode, "AEGIS_SCHEDULER": "false"}
    gateway = start(tmp_path_factory.mktemp("gw-gated"), site, env, policy=policy)
    hook = site.hook(gateway)
    try:
        number = site.open_issue("Auth docs", "See docs/auth.md and src/auth/login.py")
        delivery = delivery_of(site, hook, "issues", "opened")
        [run] = wait_for(lambda: runs_of(gateway, "label-by-paths", delivery=delivery["uuid"]), "run")
    finally:
        site.unhook(hook)
        gateway.stop()
    assert run["outcome"] == outcome
    [step] = run["automation"]["steps"]  # the run stops at its first step not carried out
    [call] = [
        e
        for e in entries(gateway)
        if e["event"] == "tool_call" and e["request_id"] == step["calls"][0]["request_id"]
    ]
    call_outcome = "pending" if outcome == "held" else outcome  # the core's word for a held call
    assert (call["tool"], call["outcome"], call["automation"]["delivery"]) == (
        "add_labels",
        call_outcome,
        delivery["uuid"],
    )
    if isinstance(reason, dict):
        assert reason in call["reasons"]
    elif reason is not None:
        assert reason in {r["rule"] for r in call["reasons"] if r["effect"] == "deny"}
    else:  # held: an approval waits, bound to the job's principal
        assert call["approval"]["state"] == "pending" and call["principal"] == "automation:label-by-paths"
    assert not any(e["event"] == "write_intent" for e in entries(gateway))  # nothing was sent to Gitea
    assert site.labels(number) == []


def test_a_replayed_or_forged_delivery_is_refused(site: Site, writing: Gateway) -> None:
    hook = site.hook(writing)
    try:
        site.open_issue("Replay me", "docs/replay.md")
        delivery = delivery_of(site, hook, "issues", "opened")
        wait_for(lambda: runs_of(writing, "label-by-paths", delivery=delivery["uuid"]), "run")
    finally:
        site.unhook(hook)
    headers = {
        name: value
        for name, value in delivery["request_headers"].items()
        if name.lower().startswith("x-gitea")
    }
    headers["Content-Type"] = "application/json"
    body = delivery["request_body"].encode()
    url = f"{writing.base_url}/hooks/gitea"
    replayed = httpx.post(url, content=body, headers=headers, timeout=10)
    assert replayed.status_code == 200 and replayed.json()["status"] == "duplicate"
    forged_body = body.replace(b"docs/replay.md", b"src/auth/x.py")
    renamed = {**headers, "X-Gitea-Delivery": "0c6c6e2e-0000-4000-8000-000000000001"}
    forged = httpx.post(url, content=forged_body, headers=renamed, timeout=10)
    assert forged.status_code == 401
    resigned = hmac.new(b"not the secret", forged_body, hashlib.sha256).hexdigest()
    assert (
        httpx.post(
            url, content=forged_body, headers={**renamed, "X-Gitea-Signature": resigned}, timeout=10
        ).status_code
        == 401
    )
    time.sleep(1)
    assert len(runs_of(writing, "label-by-paths", delivery=delivery["uuid"])) == 1
    assert runs_of(writing, "label-by-paths", delivery=renamed["X-Gitea-Delivery"]) == []
    refused = [e for e in entries(writing) if e["event"] == "webhook_refused"]
    assert refused and refused[-1]["webhook"]["delivery"] == renamed["X-Gitea-Delivery"]


def every_minute(jobs: str) -> str:
    """The example jobs with their schedules every minute and no jitter; nothing else changes."""
    return (
        jobs.replace('cron: "30 2 * * *"', 'cron: "* * * * *"')
        .replace('cron: "0 6 * * *"', 'cron: "* * * * *"')
        .replace("jitter: 5m", "jitter: 0s")
    )


def test_two_replicas_run_each_slot_of_the_scheduled_examples_once(
    site: Site, postgres_server: PostgresServer, tmp_path_factory: pytest.TempPathFactory
) -> None:
    site.add_file("config/settings.py", f'TIMEOUT = 30\nGITHUB_TOKEN = "{TOKEN}"\n'.encode())
    comments_before = {number: site.comments(number) for number in (1, 4)}
    shared = {"WRITE_MODE": "true", "AEGIS_STATE_URL": postgres_server.new_database()}
    replicas = [
        start(
            tmp_path_factory.mktemp(f"gw-{name}"),
            site,
            {**shared, "AEGIS_REPLICA_ID": name},
            every_minute(JOBS),
        )
        for name in ("a", "b")
    ]
    try:

        def scanned() -> list[dict[str, Any]]:
            return [
                run
                for gateway in replicas
                for run in runs_of(gateway, "nightly-secret-scan", repository="acme/app")
            ]

        first = wait_for(scanned, "secret scan of acme/app", timeout=90)[0]
        slot = first["automation"]["slot"]
        wait_for(
            lambda: [
                r
                for g in replicas
                for r in runs_of(g, "stale-issue-triage", repository="acme/app", slot=slot)
            ],
            "stale triage of acme/app",
        )
        time.sleep(2)
        runs = [run for gateway in replicas for run in runs_of(gateway, "nightly-secret-scan", slot=slot)]
    finally:
        for gateway in replicas:
            gateway.stop()
    per_repository = [run["automation"]["repository"] for run in runs]
    assert len(per_repository) == len(set(per_repository)), per_repository  # each slot run once
    assert None in per_repository and "acme/app" in per_repository  # the listing, then each repository
    scan = next(run for run in runs if run["automation"]["repository"] == "acme/app")
    assert scan["outcome"] == "completed", scan
    issues = site.http.get("/api/v1/repos/acme/app/issues", params={"state": "all", "limit": 50}).json()
    reported = [issue for issue in issues if issue["title"].startswith("Committed secret ")]
    titles = [issue["title"] for issue in reported]
    assert len(titles) == len(set(titles))  # one issue per finding, though two replicas ran the job
    assert "github_token in config/settings.py" in [title.split(": ", 1)[1] for title in titles]
    [report] = [step for step in scan["automation"]["steps"] if step["step"] == "report"]
    assert len(report["calls"]) == len(titles)  # the demo's own fake secrets (src/secrets/prod.env) too
    assert TOKEN not in json.dumps(reported) and TOKEN[4:] not in json.dumps(reported)
    for number in (1, 4):  # the open issues, untouched since early 2026; #3 and #6 are pull requests
        assert "stale" in site.labels(number)
        assert site.comments(number) == comments_before[number] + 1
    assert "stale" not in site.labels(3)
