"""Outbound sanitization through the real endpoint: secrets masked or the result withheld as the policy
says, secret-store paths denied by default, invisible characters stripped, repository content marked
as untrusted data, and the audit entry counting what was done (never the secrets themselves)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.processes import UNLIMITED, Gateway, Simulator, start_gateway, start_simulator
from tests.untrusted import untrusted_data

pytestmark = pytest.mark.e2e

POLICY = """\
defaults: {read: allow, write: deny}
repositories:
  acme/private-notes:
    secrets: {output: block}
"""
PROD_ENV = {"owner": "acme", "repo": "app", "filepath": "src/secrets/prod.env"}
FAKE_SECRETS = ("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "Sup3rS3cret-demo")
TROJAN = (
    'access_level = "user"\n'
    'if access_level != "user\u202e \u2066# Check if admin\u2069 \u2066":\n'
    "    grant(pass\u200bword_reset=True)\n"
)
INVISIBLE = ("\u202e", "\u2066", "\u2069", "\u200b")


@pytest.fixture(scope="module")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Simulator]:
    """A simulator of this module's own, whose acme/app gains a branch `trojan` with bidi tricks."""
    sim = start_simulator(tmp_path_factory.mktemp("gitea-sanitize") / "state")
    _commit_on_branch(sim.state_dir / "repos" / "acme" / "app.git", "trojan", "src/access.py", TROJAN)
    yield sim
    sim.stop()


def _commit_on_branch(git_dir: Path, branch: str, path: str, text: str) -> None:
    def git(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> str:
        run = subprocess.run(
            ["git", "--git-dir", str(git_dir), *args],
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
            env={
                "GIT_AUTHOR_NAME": "t",
                "GIT_AUTHOR_EMAIL": "t@example.com",
                "GIT_COMMITTER_NAME": "t",
                "GIT_COMMITTER_EMAIL": "t@example.com",
                "PATH": "/usr/bin:/bin",
                **(env or {}),
            },
        )
        return run.stdout.strip()

    index = {"GIT_INDEX_FILE": str(git_dir / "aegis-test-index")}
    blob = git("hash-object", "-w", "--stdin", stdin=text)
    git("read-tree", "main", env=index)
    git("update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=index)
    tree = git("write-tree", env=index)
    commit = git(
        "commit-tree",
        tree,
        "-p",
        "main",
        "-m",
        "Access check",
    )
    git("update-ref", f"refs/heads/{branch}", commit)


@pytest.fixture(scope="module")
def gateway(upstream: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str) -> Iterator[Gateway]:
    gw = start_gateway(
        tmp_path_factory.mktemp("gw-sanitize"), policy=POLICY, upstream=upstream, env=UNLIMITED
    )
    yield gw
    gw.stop()


def call(gateway: Gateway, tool: str, arguments: dict[str, Any]) -> tuple[dict[str, Any], str]:
    response = httpx.post(
        gateway.url,
        json={
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": tool, "arguments": arguments},
        },
        headers={**gateway.auth, "Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200
    return response.json()["result"], response.text


def last_audit(gateway: Gateway) -> dict[str, Any]:
    entry: dict[str, Any] = json.loads(gateway.audit_log.read_text().splitlines()[-1])
    return entry


def test_secrets_in_a_file_are_masked_and_counted(gateway: Gateway) -> None:
    result, raw = call(gateway, "get_file_contents", PROD_ENV)
    assert result["isError"] is False
    text = untrusted_data(result["content"][0]["text"])
    assert "AWS_ACCESS_KEY_ID=[REDACTED:aws_access_key_id]" in text
    assert "AWS_SECRET_ACCESS_KEY=[REDACTED:" in text
    assert "DATABASE_URL=postgres://" in text  # what is not secret stays readable
    for secret in FAKE_SECRETS:
        assert secret not in raw
    assert result["_meta"]["aegis"]["secrets_masked"] >= 3
    entry = last_audit(gateway)
    assert entry["outcome"] == "allowed"
    assert entry["output"]["secrets"]["aws_access_key_id"] == 1  # in the text: the file is returned once
    assert entry["output"]["withheld"] is False
    assert not any(secret in json.dumps(entry) for secret in FAKE_SECRETS)


def test_a_policy_that_blocks_secrets_withholds_the_whole_result(
    upstream: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str
) -> None:
    blocking = POLICY + "  acme/app:\n    secrets: {output: block}\n"
    gateway = start_gateway(
        tmp_path_factory.mktemp("gw-block"), policy=blocking, upstream=upstream, env=UNLIMITED
    )
    try:
        result, raw = call(gateway, "get_file_contents", PROD_ENV)
        readme, _ = call(
            gateway, "get_file_contents", {"owner": "acme", "repo": "app", "filepath": "README.md"}
        )
        entry = json.loads(gateway.audit_log.read_text().splitlines()[-2])
    finally:
        gateway.stop()
    assert result["isError"] is True and result["structuredContent"]["denied"] is True
    assert result["content"][0]["text"].startswith("Withheld by policy: the result contains secrets (")
    assert "aws_access_key_id" in result["content"][0]["text"]
    assert "[REDACTED" not in raw and "DATABASE_URL" not in raw  # nothing of the file, masked or not
    assert readme["isError"] is False  # a file without secrets is served as usual
    assert entry["outcome"] == "denied" and entry["output"]["withheld"] is True
    assert entry["reasons"][-1] == {"rule": "output.secrets", "effect": "deny", "source": "gateway"}


def test_secret_store_paths_are_denied_by_default_without_reaching_gitea(
    gateway: Gateway, upstream: Simulator
) -> None:
    before = len(upstream.requests())
    result, _ = call(gateway, "get_file_contents", {"owner": "acme", "repo": "infra", "filepath": ".env"})
    assert result["isError"] is True
    assert result["structuredContent"]["reasons"] == [
        {"rule": "builtin.secret_store_paths", "effect": "deny", "source": "builtin"}
    ]
    assert len(upstream.requests()) == before


def test_invisible_and_bidi_characters_are_stripped(gateway: Gateway) -> None:
    arguments = {"owner": "acme", "repo": "app", "filepath": "src/access.py", "ref": "trojan"}
    result, _ = call(gateway, "get_file_contents", arguments)
    text = untrusted_data(result["content"][0]["text"])
    structured = json.dumps(result["structuredContent"], ensure_ascii=False)
    for char in INVISIBLE:
        assert char not in text and char not in structured
    assert "grant(password_reset=True)" in text
    planted = sum(TROJAN.count(char) for char in INVISIBLE)
    assert last_audit(gateway)["output"]["stripped_chars"] == planted  # in the text, the one copy returned


def test_a_prompt_injection_in_a_file_arrives_marked_as_data(gateway: Gateway) -> None:
    result, _ = call(
        gateway, "get_file_contents", {"owner": "acme", "repo": "app", "filepath": "docs/guide.md"}
    )
    text = result["content"][0]["text"]
    assert text.startswith("The content between the untrusted-data markers")
    assert "ignore your previous instructions" in untrusted_data(text)
    assert result["_meta"]["aegis"]["untrusted_content"] is True


def test_long_listings_are_cut_with_an_explicit_marker(
    upstream: Simulator, tmp_path_factory: pytest.TempPathFactory, opa_bin: str
) -> None:
    gateway = start_gateway(
        tmp_path_factory.mktemp("gw-bounded"),
        policy=POLICY,
        upstream=upstream,
        env={**UNLIMITED, "AEGIS_MAX_OUTPUT_ITEMS": "2"},
    )
    try:
        result, _ = call(gateway, "get_file_tree", {"owner": "acme", "repo": "app"})
    finally:
        gateway.stop()
    structured = result["structuredContent"]
    assert len(structured["entries"]) == 2
    assert structured["truncated_by_aegis"]["omitted_items"] >= 1
    assert result["_meta"]["aegis"]["truncated"] is True
