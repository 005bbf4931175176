"""The bundle server of the compose profiles and the image checks: ETags OPA can poll with, and nothing
served from outside its directory."""

from __future__ import annotations

import http.server
import importlib.util
import threading
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from tests.processes import REPO_ROOT


def load_server() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "bundle_server", REPO_ROOT / "deploy" / "bundle-server" / "bundle_server.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "bundles"
    root.mkdir()
    (tmp_path / "secret.txt").write_text("outside\n")
    (root / "escape").symlink_to(tmp_path / "secret.txt")
    module = load_server()
    handler = type("Handler", (module.BundleHandler,), {"root": root.resolve()})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", root
    server.shutdown()
    server.server_close()


def test_a_bundle_has_an_etag_and_is_not_sent_again_while_it_matches(
    served: tuple[str, Path],
) -> None:
    url, root = served
    (root / "aegis.tar.gz").write_bytes(b"first")
    first = httpx.get(f"{url}/aegis.tar.gz")
    assert first.status_code == 200 and first.content == b"first"
    etag = first.headers["ETag"]
    again = httpx.get(f"{url}/aegis.tar.gz", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    (root / "aegis.tar.gz").write_bytes(b"second")
    changed = httpx.get(f"{url}/aegis.tar.gz", headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.content == b"second"
    assert changed.headers["ETag"] != etag


@pytest.mark.parametrize("path", ["/escape", "/../secret.txt", "/%2e%2e/secret.txt", "/", "/missing.tar.gz"])
def test_nothing_outside_the_directory_is_served(served: tuple[str, Path], path: str) -> None:
    url, _ = served
    with httpx.Client() as client:
        response = client.send(httpx.Request("GET", url, extensions={"target": path.encode()}))
    assert response.status_code == 404
    assert b"outside" not in response.content


def test_health(served: tuple[str, Path]) -> None:
    url, _ = served
    assert httpx.get(f"{url}/health").text == "ok\n"
