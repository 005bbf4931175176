"""Secrets in places the scanner used to miss: files that are not UTF-8, binary files, and long texts that
were cut before they were scanned (commit and tag messages, pull request bodies, release notes).

The secrets are committed to this module's own simulator first (UpstreamWriter); every check reads the
whole answer the agent receives, decoded every way the agent could decode it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fuzz.client import CheckedClient
from tests.processes import Simulator
from tests.security.rpc import call_tool
from tests.security.upstream import UpstreamWriter
from tests.untrusted import untrusted_data

pytestmark = pytest.mark.e2e

POLICY = "defaults: {read: allow, write: deny}\n"
BLOCKING_POLICY = POLICY + "secrets: {output: block}\n"
TOKEN_BODY = "Pm4Kx8Wq2Zr6Tn0Bv3Ly7Hc1Jd5Fs9Ga2EuQ"  # 36 characters
TOKEN = "ghp_" + TOKEN_BODY
CONFIG = f"Café settings\nGITHUB_TOKEN={TOKEN}\nRETRIES=3\n"
TEXT_FILES = {
    "src/config_utf16.txt": ("utf-16", CONFIG.encode("utf-16")),  # with a byte order mark
    "src/config_utf16le.txt": ("utf-16-le", CONFIG.encode("utf-16-le")),  # without one
    "src/config_utf32.txt": ("utf-32", CONFIG.encode("utf-32")),
    "src/config_latin1.txt": ("iso-8859-1", CONFIG.encode("latin-1")),
    "src/config_cp1252.txt": ("windows-1252", ("\u201cquoted\u201d " + CONFIG).encode("cp1252")),
    # UTF-16 without a mark whose first character has a NUL low byte, as U+4E00 has
    "src/config_cjk16.txt": ("utf-16-le", ("\u4e00 " + CONFIG).encode("utf-16-le")),
    # UTF-8 with control characters, and the token split by a zero-width space
    "src/config_controls.txt": (
        "utf-8",
        ("a\x01b\x01\n" + CONFIG.replace(TOKEN, TOKEN[:12] + "\u200b" + TOKEN[12:])).encode(),
    ),
}
# Content that decodes in no encoding but holds text: UTF-16 with a mark and a stray last byte, UTF-16
# with ASCII appended, and UTF-16 text inside binary data.
APPENDED = ("Notes\n".encode("utf-16") + f"GITHUB_TOKEN={TOKEN}\n".encode()).ljust(64, b" ")
NEARLY_TEXT = {
    "src/odd16.txt": CONFIG.encode("utf-16") + b"\n",
    "src/appended16.txt": APPENDED,  # ASCII appended to UTF-16: read as UTF-16, it would be other characters
    "src/strings16.bin": b"\x7fELF\x02\x01\x00\x00\xff" + CONFIG.encode("utf-16-be") + b"\x00\xfe",
}
KEY_BODY = [
    f"MIIEowIBAAKCAQEA{index:02d}zR4c0Vh7b2kQy8tXq1s9Lm3Wn5Pd7Rf2Gh4Jk6Lp8Qr0St2U" for index in range(30)
]


def key_file(body: list[str]) -> bytes:
    return (
        "-----BEGIN RSA PRIVATE KEY-----\n" + "\n".join(body) + "\n-----END RSA PRIVATE KEY-----\n"
    ).encode()


BINARY = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"token=" + TOKEN.encode() + b" \x00\xff\xfe"
PLAIN_BINARY = b"\x00\x01\x02\x03 no secret in here \xff"
LONG = 3970  # characters before the token: a cut at 4000 characters would split it
LONG_TEXT = "x" * LONG + TOKEN + " " + "t" * 100


@pytest.fixture(scope="module")
def planted(upstream: Simulator) -> Iterator[dict[str, Any]]:
    """The files and the long texts, committed to acme/app; returns what the tests need to find them."""
    writer = UpstreamWriter(upstream)
    for path, (_, content) in TEXT_FILES.items():
        writer.add_file(path, content)
    writer.add_file("src/image.bin", BINARY)
    writer.add_file("src/plain.bin", PLAIN_BINARY)
    for path, content in NEARLY_TEXT.items():
        writer.add_file(path, content)
    writer.add_file("docs/deploy_key.txt", key_file(KEY_BODY))
    changed = [line.replace("MIIE", "ZZZZ") if index == 15 else line for index, line in enumerate(KEY_BODY)]
    key_change = writer.update_file("docs/deploy_key.txt", key_file(changed))
    commit = writer.add_file("notes/long.txt", b"long\n", new_branch="long-message", message=LONG_TEXT)
    pull = writer.open_pull_request(head="long-message", title="Long body", body=LONG_TEXT)
    writer.tag("v9.0.0", commit=commit, message=LONG_TEXT)
    writer.add_release("v9.0.0", note=LONG_TEXT)
    yield {"commit": commit, "pull": pull, "key_change": key_change}
    writer.close()


def read_file(client: CheckedClient, path: str) -> dict[str, Any]:
    arguments = {"owner": "acme", "repo": "app", "filepath": path}
    result: dict[str, Any] = call_tool(client, "get_file_contents", arguments)["result"]
    return result


def every_reading(result: dict[str, Any]) -> str:
    """The answer as the agent could read it: its JSON, and any base64 content decoded as bytes, as
    Latin-1 and as UTF-16 in both byte orders."""
    readings = [json.dumps(result, ensure_ascii=False)]
    if (result.get("structuredContent") or {}).get("encoding") == "base64":
        raw = base64.b64decode(untrusted_data(result["content"][0]["text"]))
        readings += [
            raw.decode("latin-1"),
            raw.decode("utf-16-le", "replace"),
            raw.decode("utf-16-be", "replace"),
        ]
    return "\n".join(readings)


@pytest.mark.parametrize("path", sorted(TEXT_FILES))
def test_text_in_other_encodings_is_decoded_and_masked(
    planted: dict[str, Any], client: CheckedClient, path: str
) -> None:
    result = read_file(client, path)
    assert result["isError"] is False, result
    assert TOKEN_BODY[:12] not in every_reading(result)
    file = result["structuredContent"]
    assert (file["encoding"], file["charset"]) == ("utf-8", TEXT_FILES[path][0])
    text = untrusted_data(result["content"][0]["text"])
    assert "Café settings" in text and "GITHUB_TOKEN=[REDACTED:github_token]" in text
    assert result["_meta"]["aegis"]["secrets_masked"] >= 1


def test_binary_content_is_masked_where_it_holds_text_and_marked_unscanned(
    planted: dict[str, Any], client: CheckedClient
) -> None:
    result = read_file(client, "src/image.bin")
    assert result["isError"] is False, result
    assert TOKEN_BODY[:12] not in every_reading(result)
    file = result["structuredContent"]
    assert file["encoding"] == "base64" and "charset" not in file and "content" not in file
    data = base64.b64decode(untrusted_data(result["content"][0]["text"]))
    assert data == BINARY.replace(TOKEN.encode(), b"[REDACTED:github_token]")
    assert result["_meta"]["aegis"]["unscanned"] == 1
    assert any("binary" in block["text"] for block in result["content"][1:])


@pytest.mark.parametrize("path", sorted(NEARLY_TEXT))
def test_text_in_binary_content_is_masked_in_its_encoding(
    planted: dict[str, Any], client: CheckedClient, path: str
) -> None:
    result = read_file(client, path)
    assert result["isError"] is False and result["structuredContent"]["encoding"] == "base64", result
    assert TOKEN_BODY[:12] not in every_reading(result) and TOKEN_BODY[-12:] not in every_reading(result)
    assert result["_meta"]["aegis"]["secrets_masked"] >= 1 and result["_meta"]["aegis"]["unscanned"] == 1


def test_a_diff_inside_a_private_key_shows_none_of_its_lines(
    planted: dict[str, Any], client: CheckedClient
) -> None:
    """A hunk is an excerpt: changing one line of a key shows the lines around it, without BEGIN."""
    arguments = {"owner": "acme", "repo": "app", "sha": planted["key_change"]}
    result = call_tool(client, "get_commit_diff", arguments)["result"]
    assert result["isError"] is False, result
    assert [file["path"] for file in result["structuredContent"]["files"]] == ["docs/deploy_key.txt"]
    shown = every_reading(result)
    assert not [line for line in KEY_BODY if line[16:] in shown]
    assert "[REDACTED:private_key]" in shown


@pytest.mark.parametrize("path", ["src/config_utf16.txt", "src/config_latin1.txt", "src/image.bin"])
def test_under_block_a_secret_in_any_encoding_withholds_the_file(
    planted: dict[str, Any], blocking_client: CheckedClient, path: str
) -> None:
    result = read_file(blocking_client, path)
    assert result["isError"] is True and result["structuredContent"]["denied"] is True, result
    assert "github_token" in result["content"][0]["text"]
    assert TOKEN_BODY[:12] not in every_reading(result)


def test_under_block_binary_content_that_cannot_be_scanned_is_withheld(
    planted: dict[str, Any], blocking_client: CheckedClient
) -> None:
    result = read_file(blocking_client, "src/plain.bin")
    assert result["isError"] is True and result["structuredContent"]["denied"] is True, result
    assert "cannot be fully scanned" in result["content"][0]["text"]


def long_text_calls(planted: dict[str, Any]) -> dict[str, dict[str, Any]]:
    app = {"owner": "acme", "repo": "app"}
    return {
        "list_commits": {**app, "ref": "long-message", "limit": 1},
        "compare_refs": {**app, "base": "main", "head": "long-message"},
        "get_pull_request": {**app, "index": planted["pull"]},
        "list_tags": {**app},
        "list_releases": {**app},
    }


@pytest.mark.parametrize(
    "tool", ["list_commits", "compare_refs", "get_pull_request", "list_tags", "list_releases"]
)
def test_long_texts_are_scanned_whole_before_they_are_cut(
    planted: dict[str, Any], client: CheckedClient, tool: str
) -> None:
    result = call_tool(client, tool, long_text_calls(planted)[tool])["result"]
    assert result["isError"] is False, result
    shown = every_reading(result)
    assert TOKEN_BODY[:12] not in shown and "ghp_" not in shown
    assert "x" * LONG + "[REDACTED:github_token]" in shown
