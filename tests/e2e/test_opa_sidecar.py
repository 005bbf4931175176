"""AEGIS_OPA_URL: decisions from a separately run OPA, whose policy data the gateway verifies once per
bundle revision before it serves any call."""

from __future__ import annotations

import http.server
import io
import json
import subprocess
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from policy_compiler import build_bundle

from gateway.opa._client import BUNDLES_PATH
from tests.ports import free_port
from tests.processes import SIDECAR_NOT_ARCHIVED, Gateway, Simulator, start_gateway, wait_healthy

pytestmark = pytest.mark.e2e
POLICY = "defaults: {read: allow}\nrepositories:\n  acme/app:\n    paths: {deny: ['src/secrets/**']}\n"
CALL = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "tools/call",
    "params": {"name": "get_repository_info", "arguments": {"owner": "acme", "repo": "app"}},
}


def sidecar_gateway(workdir: Path, simulator: Simulator, url: str, *, wait_ready: bool = True) -> Gateway:
    """A gateway deciding with the sidecar at `url`."""
    return start_gateway(
        workdir,
        policy=POLICY,
        upstream=simulator,
        env={"AEGIS_OPA_URL": url},
        wait_ready=wait_ready,
        not_replayed=SIDECAR_NOT_ARCHIVED,
    )


def with_broken_regex(bundle: Path) -> Path:
    """The bundle with its path regex replaced by one that does not compile (data tampered after signing
    would look like this; a deny rule on it would silently never match)."""
    broken = bundle.with_name("broken.tar.gz")
    with tarfile.open(bundle) as source, tarfile.open(broken, "w:gz") as target:
        for member in source.getmembers():
            content = source.extractfile(member)
            data = content.read() if content else b""
            if member.name == "aegis/policy/data.json":
                policy = json.loads(data)
                entry = policy["repositories"]["acme/app"]["paths"]["deny"]["entries"][0]
                entry["regex"] = "(?s)^(unclosed$"
                data = json.dumps(policy).encode()
                member.size = len(data)
            target.addfile(member, io.BytesIO(data))
    return broken


def start_sidecar(opa_bin: str, bundle: Path, *, watch: bool = False) -> tuple[subprocess.Popen[bytes], str]:
    """`opa run --server` on a loopback port serving `bundle` (reloading it on change with `watch`)."""
    port = free_port()
    process = subprocess.Popen(
        [
            opa_bin,
            "run",
            "--server",
            *(["--watch"] if watch else []),
            "--addr",
            f"127.0.0.1:{port}",
            "--bundle",
            str(bundle),
            "--skip-version-check",
            "--log-level",
            "error",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if httpx.get(f"{url}/health").status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    return process, url


@pytest.fixture
def sidecar(tmp_path: Path, opa_bin: str, request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    """An OPA server on loopback serving the compiled POLICY (or its broken copy); yields URL and revision."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    bundle = build_bundle(policy, tmp_path / "bundle.tar.gz")
    served = with_broken_regex(bundle.path) if request.param == "broken" else bundle.path
    process, url = start_sidecar(opa_bin, served)
    yield url, bundle.revision
    process.terminate()
    process.wait(timeout=10)


@pytest.mark.parametrize("sidecar", ["valid"], indirect=True)
def test_valid_sidecar_bundle_serves_calls(
    sidecar: tuple[str, str], simulator: Simulator, tmp_path: Path
) -> None:
    url, revision = sidecar
    gateway = sidecar_gateway(tmp_path / "gw", simulator, url)
    try:
        ready = httpx.get(f"{gateway.base_url}/readyz").json()
        assert ready["status"] == "ready"
        assert ready["bundle_revision"].endswith(f"bundle.tar.gz={revision}")
        result = httpx.post(gateway.url, json=CALL, headers=gateway.auth).json()["result"]
        assert result["isError"] is False
    finally:
        gateway.stop()


@pytest.mark.parametrize("sidecar", ["broken"], indirect=True)
def test_sidecar_bundle_with_a_broken_regex_is_refused(
    sidecar: tuple[str, str], simulator: Simulator, tmp_path: Path
) -> None:
    url, _ = sidecar
    gateway = sidecar_gateway(tmp_path / "gw", simulator, url, wait_ready=False)
    try:
        wait_healthy(gateway)
        assert httpx.get(f"{gateway.base_url}/readyz").status_code == 503
        result = httpx.post(gateway.url, json=CALL, headers=gateway.auth).json()["result"]
        assert result["isError"] is True
        assert result["structuredContent"]["reasons"] == [
            {"rule": "opa.policy_invalid", "effect": "deny", "source": "gateway"}
        ]
    finally:
        gateway.stop()


def test_a_sidecar_that_loads_a_new_unverifiable_bundle_is_not_trusted(
    simulator: Simulator, tmp_path: Path, opa_bin: str
) -> None:
    """The sidecar swaps bundles on its own (--watch); the first decision under the new revision makes the
    gateway verify it again, and a bundle that fails verification decides nothing."""
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    served = tmp_path / "served.tar.gz"
    served.write_bytes(build_bundle(policy, tmp_path / "first.tar.gz").path.read_bytes())
    process, url = start_sidecar(opa_bin, served, watch=True)
    gateway = None
    try:
        gateway = sidecar_gateway(tmp_path / "gw", simulator, url)
        assert httpx.post(gateway.url, json=CALL, headers=gateway.auth).json()["result"]["isError"] is False
        policy.write_text(POLICY + "tools:\n  deny: [list_issues]\n")  # a new revision, then broken
        second = build_bundle(policy, tmp_path / "second.tar.gz")
        served.write_bytes(with_broken_regex(second.path).read_bytes())
        for _ in range(100):  # until OPA has loaded it
            result = httpx.post(gateway.url, json=CALL, headers=gateway.auth).json()["result"]
            if result["isError"]:
                break
            time.sleep(0.1)
        assert result["structuredContent"]["reasons"] == [
            {"rule": "opa.policy_unverified", "effect": "deny", "source": "gateway"}
        ]
        entry = json.loads(gateway.audit_log.read_text().splitlines()[-1])
        assert entry["bundle_revision"] == second.revision
    finally:
        if gateway is not None:
            gateway.stop()
        process.terminate()
        process.wait(timeout=10)


class OddBundlesProxy:
    """A sidecar as seen through a proxy that answers the bundles query with another shape."""

    def __init__(self, sidecar_url: str, bundles_answer: bytes) -> None:
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path.startswith(BUNDLES_PATH):
                    self._answer(200, bundles_answer)
                else:
                    self._answer(*proxy.forward("GET", self.path, b""))

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                self._answer(*proxy.forward("POST", self.path, body))

            def _answer(self, status: int, body: bytes) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._sidecar_url = sidecar_url
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def forward(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        headers = {"content-type": "application/json"}
        response = httpx.request(method, self._sidecar_url + path, content=body, headers=headers)
        return response.status_code, response.content

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.mark.parametrize("sidecar", ["valid"], indirect=True)
@pytest.mark.parametrize(
    "answer",
    [
        pytest.param(b'{"result": ["bundle"]}', id="a-list"),
        pytest.param(b'{"result": {"bundle": {"manifest": "r1"}}}', id="manifest-a-string"),
        pytest.param(b'{"result": {"bundle": {"manifest": {"revision": 7}}}}', id="revision-a-number"),
        pytest.param(b"[]", id="not-an-object"),
    ],
)
def test_a_sidecar_answering_an_odd_bundles_shape_is_not_ready(
    sidecar: tuple[str, str], simulator: Simulator, tmp_path: Path, answer: bytes
) -> None:
    proxy = OddBundlesProxy(sidecar[0], answer)
    gateway = sidecar_gateway(tmp_path / "gw", simulator, proxy.url, wait_ready=False)
    try:
        wait_healthy(gateway)
        ready = httpx.get(f"{gateway.base_url}/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["opa"] == "not ready"
    finally:
        gateway.stop()
        proxy.close()
