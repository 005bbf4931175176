"""The images as a platform team runs them: the gateway and OPA as one pod (OPA on the pod's loopback,
pulling signed bundles from the bundle server), the gateway non-root on a read-only root with every
capability dropped, against the Gitea simulator on the host. Built by scripts/build-images."""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.ports import free_port
from tests.processes import AEGIS, REPO_ROOT, Simulator, start_simulator

pytestmark = pytest.mark.deploy

VERSION = next(
    line.split('"')[1]
    for line in (REPO_ROOT / "pyproject.toml").read_text().splitlines()
    if line.startswith("version")
)
GATEWAY_IMAGE = os.environ.get("AEGIS_GATEWAY_IMAGE", f"localhost/aegis-gateway:{VERSION}")
BUNDLE_SERVER_IMAGE = f"localhost/aegis-bundle-server:{VERSION}"
OPA_IMAGE = os.environ.get("AEGIS_OPA_IMAGE", "localhost/aegis-opa:1.22.2")
HARDENED = ("--read-only", "--cap-drop=ALL", "--security-opt=no-new-privileges")
POLICY = """\
defaults: {read: allow, write: deny}
repositories:
  acme/app:
    paths:
      deny: ["src/secrets/**"]
"""
STRICTER = POLICY.replace('["src/secrets/**"]', '["src/secrets/**", "README.md"]')
READY_TIMEOUT_S = 60.0


def podman(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["podman", *args], capture_output=True, text=True, check=check, timeout=timeout)


@dataclasses.dataclass
class Pod:
    name: str
    url: str
    key: str
    data: Path
    bundles: Path
    signing_key: Path

    def container(self, role: str) -> str:
        return f"{self.name}-{role}"

    def call(self, path: str) -> dict[str, Any]:
        return read_file(self.url, self.key, path)

    def ready(self) -> httpx.Response:
        return httpx.get(f"{self.url}/readyz", timeout=5)

    def publish(self, policy: str) -> None:
        """Compile and sign a bundle, and put it in place of the served one in one rename."""
        source = self.bundles.parent / "policy.yaml"
        source.write_text(policy)
        staged = self.bundles.parent / "aegis.tar.gz"
        sign = ("--signing-key", str(self.signing_key), "--key-id", "ci")
        subprocess.run(
            [*AEGIS, "policy", "compile", str(source), "-o", str(staged), *sign],
            check=True,
            capture_output=True,
            cwd=source.parent,
        )
        staged.chmod(0o644)
        staged.replace(self.bundles / "aegis.tar.gz")


def read_file(url: str, key: str, path: str) -> dict[str, Any]:
    """The result of get_file_contents on acme/app's `path`, called through the gateway at `url`."""
    arguments = {"owner": "acme", "repo": "app", "filepath": path}
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/call"}
    body["params"] = {"name": "get_file_contents", "arguments": arguments}
    headers = {
        "Authorization": f"Bearer {key}",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-06-18",
    }
    response = httpx.post(f"{url}/mcp", json=body, headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    result: dict[str, Any] = response.json()["result"]
    return result


def require_images() -> None:
    missing = [image for image in (GATEWAY_IMAGE, OPA_IMAGE, BUNDLE_SERVER_IMAGE) if not image_exists(image)]
    if missing:
        pytest.fail(f"images {missing} not built: run ./scripts/setup-deploy and ./scripts/build-images")


def image_exists(image: str) -> bool:
    try:
        return podman("image", "exists", image, check=False).returncode == 0
    except FileNotFoundError:
        return False


def opa_config(public_key: str) -> str:
    return json.dumps(
        {
            "services": {"bundles": {"url": "http://127.0.0.1:8888"}},
            "bundles": {
                "aegis": {
                    "service": "bundles",
                    "resource": "aegis.tar.gz",
                    "signing": {"keyid": "ci"},
                    "polling": {"min_delay_seconds": 1, "max_delay_seconds": 2},
                    "persist": True,
                }
            },
            "keys": {"ci": {"algorithm": "RS256", "key": public_key}},
            "persistence_directory": "/persist",
        }
    )


@pytest.fixture(scope="module")
def pod(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pod]:
    require_images()
    root = tmp_path_factory.mktemp("pod")
    name = f"aegis-ci-{secrets.token_hex(4)}"
    port = free_port()
    podman("pod", "create", "--name", name, "-p", f"127.0.0.1:{port}:8080")
    simulator: Simulator | None = None
    try:
        podman("pod", "start", name)
        host = bridge_gateway()
        simulator = start_simulator(root / "gitea", host=host)
        pod = Pod(
            name, f"http://127.0.0.1:{port}", "", root / "data", root / "out" / "bundles", root / "sign.pem"
        )
        for directory in (pod.data, pod.bundles, root / "config", root / "secrets"):
            directory.mkdir(parents=True)
        os.chown(pod.data, 10001, 10001)
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        pod.signing_key.write_bytes(
            private.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        public = private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        (root / "config" / "opa.json").write_text(opa_config(public.decode()))
        (root / "secrets" / "gitea-token").write_text(simulator.token + "\n")
        for path in (*(root / "config").iterdir(), *(root / "secrets").iterdir()):
            path.chmod(0o644)
        pod.publish(POLICY)
        made = podman(
            "run", "--rm", "-v", f"{pod.data}:/data", GATEWAY_IMAGE, "keys", "create", "--name", "ci"
        )
        pod.key = made.stdout.strip().splitlines()[0]
        podman(
            "run", "-d", "--pod", name, "--name", pod.container("bundles"), *HARDENED,
            "-v", f"{pod.bundles}:/bundles:ro", BUNDLE_SERVER_IMAGE,
        )  # fmt: skip
        start_opa(pod, root)
        started = time.monotonic()
        podman(
            "run", "-d", "--pod", name, "--name", pod.container("gateway"), *HARDENED,
            "--tmpfs", "/tmp:rw,size=64m,mode=1777", "-v", f"{pod.data}:/data",
            "-v", f"{root / 'secrets'}:/run/secrets:ro",
            "-e", f"AEGIS_GITEA_URL={simulator.url}",
            "-e", "AEGIS_GITEA_TOKEN_FILE=/run/secrets/gitea-token",
            "-e", "AEGIS_OPA_URL=http://127.0.0.1:8181",
            "-e", "AEGIS_ALLOW_INSECURE_BIND=true",  # the pod's port is published on the host's loopback only
            "-e", "AEGIS_ALLOWED_HOSTS=127.0.0.1",
            GATEWAY_IMAGE, "serve",
        )  # fmt: skip
        wait_ready(pod)
        print(f"gateway ready {time.monotonic() - started:.2f}s after its container started", file=sys.stderr)
        yield pod
    finally:
        for role in ("gateway", "opa", "bundles"):
            logs = podman("logs", f"{name}-{role}", check=False).stderr[-3000:]
            print(f"--- {role}\n{logs}", file=sys.stderr)
        podman("pod", "rm", "--force", "--time", "0", name, check=False)
        if simulator is not None:
            simulator.stop()


def aegis_in_image(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """A one-off `aegis` command of the gateway image on a data directory, as an operator runs one."""
    return podman("run", "--rm", *HARDENED, "--network=none", "-v", f"{data}:/data", GATEWAY_IMAGE, *args)


def start_opa(pod: Pod, root: Path) -> None:
    """OPA on the pod's loopback only; its bundle persists on a volume of its own (an emptyDir in the
    chart), so that a restarted OPA decides with the last bundle before it reaches the bundle server."""
    (root / "persist").mkdir(exist_ok=True)
    os.chown(root / "persist", 65532, 65532)
    podman(
        "run", "-d", "--pod", pod.name, "--name", pod.container("opa"), *HARDENED, "--user", "65532:65532",
        "-v", f"{root / 'persist'}:/persist", "-v", f"{root / 'config'}:/config:ro", OPA_IMAGE,
        "run", "--server", "--addr", "127.0.0.1:8181", "--config-file", "/config/opa.json",
        "--skip-version-check", "--log-level", "error",
    )  # fmt: skip


def bridge_gateway() -> str:
    """The host's address on podman's default network, where the pod reaches the simulator."""
    network = json.loads(podman("network", "inspect", "podman").stdout)[0]
    subnets = network.get("subnets") or [
        {"gateway": item["gateway"]} for item in network["plugins"][0]["ipam"]["ranges"][0]
    ]
    return str(subnets[0]["gateway"])


def await_ready(base_url: str, *, timeout_s: float = READY_TIMEOUT_S) -> httpx.Response | None:
    """The gateway's /readyz answer once it is 200, or the last one (None: it never answered)."""
    deadline = time.monotonic() + timeout_s
    answer = None
    while time.monotonic() < deadline:
        try:
            answer = httpx.get(f"{base_url}/readyz", timeout=5)
            if answer.status_code == 200:
                break
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return answer


def wait_ready(pod: Pod) -> None:
    answer = await_ready(pod.url)
    assert answer is not None and answer.status_code == 200, "the gateway's pod did not become ready"


def test_the_gateway_runs_as_a_non_root_user_on_a_read_only_root(pod: Pod) -> None:
    gateway = pod.container("gateway")
    assert uids_of(gateway) == ["10001"] * 4  # real, effective, saved, file system
    assert uids_of(pod.container("opa")) == ["65532"] * 4
    attempt = podman("exec", gateway, "python3", "-c", "open('/etc/aegis', 'w')", check=False)
    assert attempt.returncode != 0 and "Read-only file system" in attempt.stderr
    shell = podman("exec", gateway, "sh", "-c", "true", check=False)
    assert shell.returncode != 0  # no shell in the image
    assert podman("healthcheck", "run", gateway, check=False).returncode == 0


def uids_of(container: str) -> list[str]:
    """The user ids of the container's main process, as the host's kernel sees them."""
    pid = podman("inspect", "--format", "{{.State.Pid}}", container).stdout.strip()
    status = Path(f"/proc/{pid}/status").read_text().splitlines()
    return next(line.split()[1:] for line in status if line.startswith("Uid:"))


def test_a_read_is_allowed_and_a_denied_path_names_its_line(pod: Pod) -> None:
    assert pod.call("README.md")["isError"] is False
    denied = pod.call("src/secrets/token.txt")
    assert denied["isError"] is True
    assert "repo.acme/app.paths.deny[0] (policy.yaml:5)" in denied["content"][0]["text"]


def test_the_audit_log_on_the_volume_verifies(pod: Pod) -> None:
    pod.call("README.md")
    verified = podman(
        "run", "--rm", "-v", f"{pod.data}:/data:ro", GATEWAY_IMAGE, "audit", "verify", "/data/audit.jsonl"
    )
    assert "OK" in verified.stdout or "entries" in verified.stdout, verified.stdout


def test_a_new_signed_bundle_decides_once_the_sidecar_has_it(pod: Pod) -> None:
    before = pod.ready().json()["bundle_revision"]
    pod.publish(STRICTER)
    deadline = time.monotonic() + 30
    while pod.ready().json()["bundle_revision"] == before and time.monotonic() < deadline:
        time.sleep(0.5)
    assert pod.ready().json()["bundle_revision"] != before
    denied = pod.call("README.md")
    assert denied["isError"] is True and "repo.acme/app.paths.deny[1]" in denied["content"][0]["text"]
    pod.publish(POLICY)


def test_opa_stopped_means_not_ready_and_every_call_denied(pod: Pod, tmp_path: Path) -> None:
    podman("stop", "--time", "5", pod.container("opa"))
    try:
        assert pod.ready().status_code == 503
        refused = pod.call("README.md")
        assert refused["isError"] is True
        assert refused["structuredContent"]["reasons"][0]["rule"] == "opa.unavailable"
    finally:
        podman("start", pod.container("opa"))
    wait_ready(pod)


def test_sigterm_stops_the_gateway_cleanly_within_its_grace_period(pod: Pod) -> None:
    gateway = pod.container("gateway")
    started = time.monotonic()
    podman("stop", "--time", "10", gateway)
    took = time.monotonic() - started
    state = json.loads(podman("inspect", gateway).stdout)[0]["State"]
    assert took < 10 and state["ExitCode"] == 0, (took, state)
    verified = podman(
        "run", "--rm", "-v", f"{pod.data}:/data:ro", GATEWAY_IMAGE, "audit", "verify", "/data/audit.jsonl"
    )
    assert verified.returncode == 0


def test_the_image_runs_its_own_opa_in_managed_mode(tmp_path: Path) -> None:
    """Without a sidecar, the gateway runs the static OPA the image carries."""
    require_images()
    (tmp_path / "policy.yaml").write_text(POLICY)
    (tmp_path / "policy.yaml").chmod(0o644)
    data = tmp_path / "data"
    data.mkdir()
    os.chown(data, 10001, 10001)
    aegis_in_image(data, "keys", "create", "--name", "m")
    port = free_port()
    name = f"aegis-managed-{secrets.token_hex(4)}"
    podman(
        "run", "-d", "--name", name, *HARDENED, "--tmpfs", "/tmp:rw,size=64m,mode=1777",
        "-p", f"127.0.0.1:{port}:8080", "-v", f"{data}:/data",
        "-v", f"{tmp_path}/policy.yaml:/config/policy.yaml:ro",
        "-e", "AEGIS_POLICY=/config/policy.yaml", "-e", "AEGIS_GITEA_URL=http://127.0.0.1:9",
        "-e", "AEGIS_GITEA_TOKEN=unused", "-e", "AEGIS_ALLOW_INSECURE_BIND=true", GATEWAY_IMAGE, "serve",
    )  # fmt: skip
    try:
        ready = await_ready(f"http://127.0.0.1:{port}")
        assert ready is not None and ready.json()["checks"]["opa"] == "ready", podman("logs", name).stderr
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)
