"""The compose profiles as docs/deployment.md tells an operator to run them: deploy/compose/init, then
podman-compose up, and the gateway answers a call with its policy's decision. `prod` starts the gateway
only once OPA's health check passes, which needs its signed bundle activated."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest

from tests.deploy.test_image_pod import (
    BUNDLE_SERVER_IMAGE,
    HARDENED,
    POLICY,
    await_ready,
    bridge_gateway,
    podman,
    read_file,
    require_images,
)
from tests.ports import free_port
from tests.processes import REPO_ROOT, start_simulator

pytestmark = pytest.mark.deploy

COMPOSE_FILE = REPO_ROOT / "deploy" / "compose" / "compose.yaml"
HEALTHY_TIMEOUT_S = 60.0  # OPA retries an unreachable bundle service within its 20 s maximum delay


@dataclasses.dataclass
class Project:
    """One compose project: podman-compose's command line for it and the environment it runs in."""

    name: str
    profile: str
    env: dict[str, str]

    def compose(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = ["podman-compose", "-p", self.name, "-f", str(COMPOSE_FILE), "--profile", self.profile]
        done = subprocess.run([*command, *args], env=self.env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0 or not check, done.stdout + done.stderr
        return done

    def container(self, service: str) -> str:
        return f"{self.name}_{service}_1"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.env['AEGIS_PORT']}"

    def leftovers(self) -> list[str]:
        label = f"label=io.podman.compose.project={self.name}"
        return podman("ps", "--all", "--quiet", "--filter", label).stdout.split()


def init(profile: str, env: Mapping[str, str]) -> str:
    """deploy/compose/init PROFILE; the API key it prints."""
    done = subprocess.run(
        [REPO_ROOT / "deploy" / "compose" / "init", profile],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    key = re.search(r"aegis_[A-Za-z0-9_-]+", done.stdout)
    assert key is not None, done.stdout
    return key.group(0)


@pytest.fixture
def project(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Project]:
    """A compose project of the profile the test is parametrized with, taken down afterwards: nothing of
    it may be left behind, whatever the test did."""
    require_images()
    env = {**os.environ, "AEGIS_COMPOSE_DIR": str(tmp_path / "compose"), "AEGIS_PORT": str(free_port())}
    made = Project(f"aegis-{secrets.token_hex(4)}", request.param, env)
    try:
        yield made
    finally:
        for service in ("gateway", "opa"):
            logs = podman("logs", made.container(service), check=False).stderr[-3000:]
            print(f"--- {service}\n{logs}", file=sys.stderr)
        made.compose("down", "-t", "5", check=False)
        left = made.leftovers()
        if left:
            podman("rm", "--force", "--time", "0", *left, check=False)
        podman("pod", "rm", "--force", "--time", "0", f"pod_{made.name}", check=False)
        assert not left, f"compose down left {left} behind"


@pytest.mark.parametrize("project", ["dev"], indirect=True)
def test_the_dev_profile_serves_its_policy(project: Project) -> None:
    key = init("dev", project.env)
    project.compose("up", "-d")
    ready = await_ready(project.url, timeout_s=90)
    assert ready is not None and ready.status_code == 200
    denied = read_file(project.url, key, "src/secrets/token.txt")
    assert denied["isError"] is True
    assert denied["structuredContent"]["reasons"][0]["rule"] == "repo.acme/app.paths.deny[0]"
    assert read_file(project.url, key, "README.md")["isError"] is False


def opa_health(project: Project) -> tuple[bool, str]:
    """Runs OPA's health check from compose.yaml once: whether it passed, and what it printed."""
    opa = project.container("opa")
    passed = podman("healthcheck", "run", opa, check=False).returncode == 0
    log = json.loads(podman("inspect", "--format", "{{json .State.Health.Log}}", opa).stdout)
    return passed, log[-1]["Output"] if log else ""


def await_opa_answering(project: Project) -> str:
    """The health check's output once OPA itself answers (healthy or not), so that a failure is about
    the bundle and not about a server still starting."""
    deadline = time.monotonic() + HEALTHY_TIMEOUT_S
    while time.monotonic() < deadline:
        passed, output = opa_health(project)
        if passed or "connection refused" not in output:
            return output
        time.sleep(0.5)
    raise AssertionError(f"OPA never answered its health check: {output}")


@pytest.fixture
def bridge_host() -> Iterator[str]:
    """The host's address on podman's default network, held for the test by an idle pod on that network:
    the address exists only once something has brought the bridge up, and the simulator binds it before
    any container of the test runs."""
    name = f"aegis-bridge-{secrets.token_hex(4)}"
    podman("pod", "create", "--name", name)
    try:
        podman("pod", "start", name)
        yield bridge_gateway()
    finally:
        podman("pod", "rm", "--force", "--time", "0", name, check=False)


@pytest.mark.parametrize("project", ["prod"], indirect=True)
def test_the_prod_profile_starts_the_gateway_once_opa_has_its_bundle(
    project: Project, bridge_host: str
) -> None:
    """`prod` against the Gitea simulator on the host and a bundle service in a container of its own,
    started as the operator does on podman before 4.6: OPA first, the rest once its check passes."""
    out = Path(project.env["AEGIS_COMPOSE_DIR"])
    out.mkdir()
    (out / "policy.yaml").write_text(POLICY)
    (out / "policy.yaml").chmod(0o644)
    host = bridge_host
    simulator = start_simulator(out.parent / "gitea", host=host)
    bundle_service = f"{project.name}-bundle-service"
    bundle_port = free_port()
    try:
        project.env.update(
            AEGIS_GITEA_URL=simulator.url,
            AEGIS_GITEA_TOKEN_FILE="/run/secrets/gitea-token",
            AEGIS_BUNDLE_SERVICE_URL=f"http://{host}:{bundle_port}",
        )
        key = init("prod", project.env)
        (out / "secrets" / "gitea-token").write_text(simulator.token + "\n")
        os.chown(out / "secrets" / "gitea-token", 0, 10001)
        (out / "secrets" / "gitea-token").chmod(0o640)

        project.compose("up", "-d", "opa")
        output = await_opa_answering(project)
        assert opa_health(project)[0] is False, output  # no bundle service yet: no bundle activated
        podman(
            "run", "-d", "--name", bundle_service, *HARDENED, "-p", f"{host}:{bundle_port}:8888",
            "-v", f"{out / 'bundles'}:/bundles:ro", BUNDLE_SERVER_IMAGE,
        )  # fmt: skip
        deadline = time.monotonic() + HEALTHY_TIMEOUT_S
        while not opa_health(project)[0]:
            assert time.monotonic() < deadline, "OPA did not activate the signed bundle"
            time.sleep(1)

        project.compose("up", "-d")
        started = time.monotonic()
        ready = await_ready(project.url, timeout_s=90)
        assert ready is not None and ready.status_code == 200, ready and ready.text
        print(f"prod gateway ready {time.monotonic() - started:.2f}s after compose up", file=sys.stderr)
        assert read_file(project.url, key, "README.md")["isError"] is False
        denied = read_file(project.url, key, "src/secrets/token.txt")
        assert denied["isError"] is True
        assert "repo.acme/app.paths.deny[0] (policy.yaml:5)" in denied["content"][0]["text"]
    finally:
        podman("rm", "--force", "--time", "0", bundle_service, check=False)
        simulator.stop()
