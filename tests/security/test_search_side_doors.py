"""search_code attacked as an agent with a collaborator's help would: through a ref that Gitea could
resolve together with a path, through excerpts cut around a secret, through private-key bodies, and by
counting the hits of regular expressions to recover a masked secret character by character.

Every file the attacks need is committed to this module's own simulator first (UpstreamWriter).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fuzz.client import CheckedClient
from tests.processes import SECRETS_DENIED_POLICY, Simulator
from tests.security.rpc import call_tool
from tests.security.upstream import UpstreamWriter
from tests.untrusted import untrusted_data

pytestmark = pytest.mark.e2e

POLICY = SECRETS_DENIED_POLICY  # acme/app src/secrets/** denied; secrets masked
BLOCKING_POLICY = SECRETS_DENIED_POLICY + "    secrets: {output: block}\n"
DENIED_LINE = "# Production settings for acme/app."  # the first line of the denied src/secrets/prod.env
TOKEN_BODY = "Zq7Lm2Rw9Xv4Tk1Pb8Nc5Hd3Jf6Gs0Ay2UeW"  # 36 characters: ghp_ + this is a GitHub token
TOKEN = "ghp_" + TOKEN_BODY
KEY_LINES = (
    "MIIEowIBAAKCAQEAzR4c0Vh7b2kQy8tXq1s9Lm3Wn5Pd7Rf2Gh4Jk6Lp8Qr0St2U",
    "vW4xY6zA8bC0dE2fG4hI6jK8lM0nO2pQ4rS6tU8vW0xY2zA4bC6dE8fG0hI2jK4",
    "lM6nO8pQ0rS2tU4vW6xY8zA0bC2dE4fG6hI8jK0lM2nO4pQ6rS8tU0vW2xY4zA6",
)
PRIVATE_KEY = "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(KEY_LINES) + "\n-----END RSA PRIVATE KEY-----\n"
# The hit (NEEDLE) 43 characters after the token starts: an excerpt opening 40 characters before the hit
# would start three characters into the token, past the `ghp` that makes it recognizable.
LONG_LINE = "a = 1  # " + TOKEN + "..." + "NEEDLE" + "c" * 200 + "\n"
SETTINGS = f'GITHUB_TOKEN = "{TOKEN}"\nTIMEOUT = 30\n'


@pytest.fixture(scope="module")
def planted(upstream: Simulator) -> Iterator[UpstreamWriter]:
    """The files the attacks search, on main of acme/app."""
    writer = UpstreamWriter(upstream)
    writer.add_file("src/long_line.py", LONG_LINE.encode())
    writer.add_file("src/deploy_notes.md", f"Deploy key:\n\n{PRIVATE_KEY}\nRotate yearly.\n".encode())
    writer.add_file("src/settings.py", SETTINGS.encode())
    yield writer
    writer.close()


def search(client: CheckedClient, **arguments: Any) -> dict[str, Any]:
    document = call_tool(client, "search_code", {"owner": "acme", "repo": "app", **arguments})
    result: dict[str, Any] = document["result"]
    assert result["isError"] is False, result
    return result


def shown(result: dict[str, Any]) -> str:
    return json.dumps(result, ensure_ascii=False)


def test_a_branch_named_after_ref_and_directory_does_not_redirect_search(
    planted: UpstreamWriter, client: CheckedClient
) -> None:
    """Gitea reads `/raw/x/src/...?ref=C` from branch `C/x` when one exists: search must read exactly the
    file it listed at C (an allowed path), never what that branch holds at the rest of the path (the
    denied src/secrets/prod.env)."""
    commit = planted.add_file(
        "x/src/secrets/prod.env", b"decoy, nothing secret\n", new_branch="attacker", message="Decoy"
    )
    planted.create_branch(f"{commit}/x", start="main")
    for query in ("Production settings", "DEMO DATA", "decoy"):
        result = search(client, ref=commit, query=query)
        assert DENIED_LINE not in shown(result), query
        paths = {hit["path"] for hit in result["structuredContent"]["results"]}
        assert paths <= {"x/src/secrets/prod.env"}, query
    decoy = search(client, ref=commit, query="decoy")["structuredContent"]["results"]
    assert [(hit["path"], hit["excerpt"]) for hit in decoy] == [
        ("x/src/secrets/prod.env", "decoy, nothing secret")
    ]


def test_reading_a_file_at_that_commit_returns_the_listed_file(
    planted: UpstreamWriter, client: CheckedClient
) -> None:
    commit = planted.add_file("y/src/secrets/prod.env", b"second decoy\n", new_branch="attacker-2")
    planted.create_branch(f"{commit}/y", start="main")
    arguments = {"owner": "acme", "repo": "app", "filepath": "y/src/secrets/prod.env", "ref": commit}
    result = call_tool(client, "get_file_contents", arguments)["result"]
    assert untrusted_data(result["content"][0]["text"]) == "second decoy\n"


@pytest.mark.parametrize("tool", ["get_file_tree", "search_code", "find_secrets"])
@pytest.mark.parametrize("form", ["tree-id", "abbreviated-tree-id", "tag-of-a-tree"])
def test_a_ref_naming_a_tree_cannot_move_denied_files_to_the_top(
    planted: UpstreamWriter, client: CheckedClient, tool: str, form: str
) -> None:
    """Git resolves a tree id, an abbreviation of one or a tag of one as readily as a commit: the listing
    of src/secrets would show prod.env at the top level, where no rule denies it."""
    tree = planted.object_id("main:src/secrets")
    ref = {"tree-id": tree, "abbreviated-tree-id": tree[:6], "tag-of-a-tree": f"tree-tag-{tool}"}[form]
    if form == "tag-of-a-tree":
        planted.tag(ref, commit=tree, message="a tag of a tree")
    arguments = {
        "owner": "acme",
        "repo": "app",
        "ref": ref,
        **({"query": "DEMO"} if tool == "search_code" else {}),
    }
    result = call_tool(client, tool, arguments)["result"]
    assert result["isError"] is True and "prod.env" not in shown(result), result
    assert DENIED_LINE not in shown(result) and "not found" in result["content"][0]["text"]


def test_an_excerpt_never_shows_the_rest_of_a_secret_cut_at_its_start(
    planted: UpstreamWriter, client: CheckedClient
) -> None:
    result = search(client, query="NEEDLE", path_prefix="src")
    hits = result["structuredContent"]["results"]
    assert [hit["path"] for hit in hits] == ["src/long_line.py"]
    assert TOKEN_BODY[:12] not in shown(result) and TOKEN_BODY[-12:] not in shown(result)


@pytest.mark.parametrize("line", KEY_LINES, ids=["first", "second", "third"])
def test_a_private_key_body_line_is_never_found_or_shown(
    planted: UpstreamWriter, client: CheckedClient, line: str
) -> None:
    result = search(client, query=line[10:40], path_prefix="src")
    assert result["structuredContent"]["results"] == []
    assert line[10:40] not in shown(result)


def test_the_key_is_masked_in_the_lines_around_it(planted: UpstreamWriter, client: CheckedClient) -> None:
    result = search(client, query="key", path_prefix="src/deploy_notes.md", ignore_case=True)
    excerpts = [hit["excerpt"] for hit in result["structuredContent"]["results"]]
    assert excerpts == ["Deploy key:", "[REDACTED:private_key]"]
    assert not any(line[:20] in shown(result) for line in KEY_LINES)


def test_regex_hits_say_nothing_about_a_masked_secret(planted: UpstreamWriter, client: CheckedClient) -> None:
    """One character at a time, a regex that matches only the true prefix would recover the token."""
    for guess in (TOKEN_BODY[:1], TOKEN_BODY[:6], "Q", "Qx81"):
        result = search(client, query=f"ghp_{guess}", regex=True, path_prefix="src")
        assert result["structuredContent"]["results"] == [], guess
    masked = search(client, query="GITHUB_TOKEN", path_prefix="src")["structuredContent"]["results"]
    assert [hit["excerpt"] for hit in masked] == ['GITHUB_TOKEN = "[REDACTED:github_token]"']


def test_under_block_files_holding_secrets_are_not_searched(
    planted: UpstreamWriter, blocking_client: CheckedClient
) -> None:
    """With `secrets: block` the files whose scan found a secret are left out whole: a hit in one would
    otherwise block the result, and whether it is blocked would tell a true guess from a false one."""
    answers = [
        search(blocking_client, query=f"ghp_{guess}", regex=True, path_prefix="src")["structuredContent"]
        for guess in (TOKEN_BODY[:3], "Qx8")
    ]
    assert answers[0] == answers[1]
    assert answers[0]["results"] == [] and answers[0]["files_withheld_for_secrets"] == 3
    clean = search(blocking_client, query="TIMEOUT", path_prefix="src")["structuredContent"]
    assert clean["results"] == [] and clean["files_withheld_for_secrets"] == 3
    assert search(blocking_client, query="def ", path_prefix="src")["structuredContent"]["results"]
