"""find_secrets end to end, through the real gateway and OPA against the Gitea simulator: committed secrets
found by path and line and never shown, denied paths neither read nor shown but counted, a ref that Gitea
could resolve together with a path unable to make it read another object, and fingerprints that stay the
same across runs and tell secrets apart.

The files it scans are committed to this module's own simulator (UpstreamWriter; tests/security/conftest.py
gives each module its own simulator and gateway), so that the request log proves which objects were read.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fuzz.client import CheckedClient
from tests.processes import SECRETS_DENIED_POLICY, Gateway, Simulator
from tests.security.rpc import call_tool, upstream_requests
from tests.security.upstream import UpstreamWriter

pytestmark = pytest.mark.e2e

TOKEN = "ghp_" + "Zq7Lm2Rw9Xv4Tk1Pb8Nc5Hd3Jf6Gs0Ay2UeW"  # a GitHub token's shape: ghp_ and 36 characters
OTHER_TOKEN = "ghp_" + "Hd3Jf6Gs0Ay2UeWZq7Lm2Rw9Xv4Tk1Pb8Nc5"
DECOY_TOKEN = "ghp_" + "Xv4Tk1Pb8Nc5Hd3Jf6Gs0Ay2UeWZq7Lm2Rw9"
KEY_LINES = (
    "MIIEowIBAAKCAQEAzR4c0Vh7b2kQy8tXq1s9Lm3Wn5Pd7Rf2Gh4Jk6Lp8Qr0St2U",
    "vW4xY6zA8bC0dE2fG4hI6jK8lM0nO2pQ4rS6tU8vW0xY2zA4bC6dE8fG0hI2jK4",
    "lM6nO8pQ0rS2tU4vW6xY8zA0bC2dE4fG6hI8jK0lM2nO4pQ6rS8tU0vW2xY4zA6",
)
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(KEY_LINES) + "\n-----END RSA PRIVATE KEY-----\n"
NOTES = f"# Deploying\n\nThe deploy key:\n\n{PRIVATE_KEY}\nRotate it yearly.\n"  # the key on line 5
SETTINGS = f'"""Settings."""\nTIMEOUT = 30\nGITHUB_TOKEN = "{TOKEN}"\nBACKUP = "{OTHER_TOKEN}"\n'
DENIED = f"DEPLOY_TOKEN={TOKEN}\n"
EVERY_SECRET = (TOKEN[4:], OTHER_TOKEN[4:], DECOY_TOKEN[4:], *KEY_LINES)
POLICY = SECRETS_DENIED_POLICY  # acme/app src/secrets/** denied; secrets masked


@pytest.fixture(scope="module")
def planted(upstream: Simulator) -> Iterator[UpstreamWriter]:
    """The secrets the scans must find, and one on a denied path, on main of acme/app."""
    writer = UpstreamWriter(upstream)
    writer.add_file("docs/deploy_notes.md", NOTES.encode())
    writer.add_file("src/settings.py", SETTINGS.encode())
    writer.add_file("src/secrets/tokens.txt", DENIED.encode())
    yield writer
    writer.close()


def find(client: CheckedClient, **arguments: Any) -> tuple[dict[str, Any], str]:
    """The call's result and the whole JSON-RPC answer as text (everything the agent receives)."""
    document = call_tool(client, "find_secrets", {"owner": "acme", "repo": "app", **arguments})
    result: dict[str, Any] = document["result"]
    assert result["isError"] is False, result
    return result["structuredContent"], json.dumps(document, ensure_ascii=False)


def tree_blobs(simulator: Simulator, ref: str) -> dict[str, str]:
    """path -> blob sha of the tree at `ref`, asked of Gitea directly."""
    response = httpx.get(
        f"{simulator.url}/api/v1/repos/acme/app/git/trees/{ref}",
        params={"recursive": "true"},
        headers={"Authorization": f"token {simulator.token}"},
    )
    response.raise_for_status()
    return {entry["path"]: entry["sha"] for entry in response.json()["tree"] if entry["type"] == "blob"}


def blobs_read(served: list[dict[str, object]]) -> set[str]:
    return {str(r["path"]).rsplit("/", 1)[1] for r in served if "/git/blobs/" in str(r["path"])}


def test_committed_keys_and_tokens_are_found_by_path_and_line_and_never_shown(
    planted: UpstreamWriter, client: CheckedClient, gateway: Gateway, upstream: Simulator
) -> None:
    found, answer = find(client)
    blobs = tree_blobs(upstream, "main")
    located = {(f["path"], f["line"], f["kind"], f["blob_sha"]) for f in found["findings"]}
    assert {
        ("docs/deploy_notes.md", 5, "private_key", blobs["docs/deploy_notes.md"]),
        ("src/settings.py", 3, "github_token", blobs["src/settings.py"]),
        ("src/settings.py", 4, "github_token", blobs["src/settings.py"]),
    } <= located
    assert (found["ref"], found["complete"], found["stopped_by"]) == ("main", True, None)
    assert "[REDACTED" not in answer  # nothing to mask: the answer holds no secret
    assert not any(secret in answer for secret in EVERY_SECRET)
    entry = json.loads(gateway.audit_log.read_text().splitlines()[-1])
    assert (entry["tool"], entry["outcome"], entry["args"]) == ("find_secrets", "allowed", {})
    assert not any(secret in gateway.audit_log.read_text() for secret in EVERY_SECRET)


def test_a_denied_path_is_neither_read_nor_shown_and_is_counted(
    planted: UpstreamWriter, client: CheckedClient, upstream: Simulator
) -> None:
    denied_blob = tree_blobs(upstream, "main")["src/secrets/tokens.txt"]
    with upstream_requests(upstream) as served:
        found, answer = find(client, ref="main")
    assert denied_blob not in blobs_read(served) and blobs_read(served)
    assert "src/secrets" not in answer and denied_blob not in answer
    listed = tree_blobs(upstream, "main")
    withheld = sum(path.startswith("src/secrets/") for path in listed)
    assert withheld >= 2 and found["withheld_by_policy"] == withheld  # prod.env of the demo data too
    assert found["files_scanned"] + sum(found["files_skipped"].values()) == len(listed) - withheld


def test_a_branch_named_after_ref_and_directory_cannot_redirect_a_read(
    planted: UpstreamWriter, client: CheckedClient, upstream: Simulator
) -> None:
    """Gitea reads `/raw/x/src/...?ref=C` from branch `C/x` when one exists: the scan must read exactly the
    blobs it listed at C, never what that branch holds at the rest of the path (the denied
    src/secrets/tokens.txt)."""
    commit = planted.add_file(
        "x/src/secrets/tokens.txt", f"# decoy\nTOKEN={DECOY_TOKEN}\n".encode(), new_branch="attacker"
    )
    planted.create_branch(f"{commit}/x", start="main")
    listed = tree_blobs(upstream, commit)
    with upstream_requests(upstream) as served:
        found, _ = find(client, ref=commit)
    assert found["commit"] == commit
    decoy = [f for f in found["findings"] if f["path"] == "x/src/secrets/tokens.txt"]
    assert [(f["line"], f["kind"], f["blob_sha"]) for f in decoy] == [
        (2, "github_token", listed["x/src/secrets/tokens.txt"])
    ]
    allowed = {sha for path, sha in listed.items() if not path.startswith("src/secrets/")}
    assert blobs_read(served) <= allowed
    assert not any("/raw/" in str(r["path"]) or "/contents" in str(r["path"]) for r in served)


def test_fingerprints_are_stable_across_runs_and_differ_between_secrets(
    planted: UpstreamWriter, client: CheckedClient
) -> None:
    first, _ = find(client, ref="main")
    again, _ = find(client)
    assert first["findings"] == again["findings"]
    prints = {(f["path"], f["line"]): f["fingerprint"] for f in first["findings"]}
    token, other, key = (
        prints["src/settings.py", 3],
        prints["src/settings.py", 4],
        prints["docs/deploy_notes.md", 5],
    )
    assert len({token, other, key}) == 3


def test_the_tool_is_listed_as_read_only(client: CheckedClient) -> None:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode()
    tools = {tool["name"]: tool for tool in client.post(body, kind="tools/list").json()["result"]["tools"]}
    listed = tools["find_secrets"]
    assert listed["annotations"]["readOnlyHint"] is True and listed["annotations"]["destructiveHint"] is False
    assert listed["inputSchema"]["required"] == ["owner", "repo"]
