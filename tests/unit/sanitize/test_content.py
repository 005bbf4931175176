"""Scan, then cut or encode: a Clip is cut only after its whole text was masked, a Binary is masked where
it holds ASCII text before it is base64-encoded (and marked as not fully scanned), and a secret spanning
lines leaves the line count unchanged."""

from __future__ import annotations

import base64

import pytest

from gateway.sanitize import Binary, Clip, Finding, SecretMode, sanitize_output, scan_text
from tests.unit.sanitize.fakes import GITHUB_TOKEN, private_key


def test_a_secret_straddling_the_cut_is_masked_whole_first() -> None:
    message = "x" * 30 + GITHUB_TOKEN + " tail"
    result = sanitize_output({"message": Clip(message, 40)}, None, mode="mask")
    cut = result.structured["message"]
    assert cut.startswith("x" * 30 + "[REDACTED:") and GITHUB_TOKEN[4:14] not in cut
    masked = "x" * 30 + "[REDACTED:github_token] tail"
    assert cut == masked[:40] + f"[... cut by Aegis: {len(masked) - 40} more characters]"
    assert result.findings == (Finding("github_token", "/message"),)


def test_a_clip_shorter_than_its_limit_is_the_masked_text() -> None:
    result = sanitize_output({"body": Clip(f"see {GITHUB_TOKEN}", 4000)}, None, mode="mask")
    assert result.structured == {"body": "see [REDACTED:github_token]"}


def test_a_secret_cut_out_of_view_still_blocks() -> None:
    result = sanitize_output({"body": Clip("x" * 100 + GITHUB_TOKEN, 10)}, None, mode="block")
    assert result.structured["body"].startswith("x" * 10) and result.blocked


def test_binary_content_is_masked_where_it_holds_ascii_then_encoded() -> None:
    data = b"\x89PNG\x00\x01 key " + GITHUB_TOKEN.encode() + b" \xff\xfe"
    result = sanitize_output({"content": Binary(data)}, None, mode="mask")
    decoded = base64.b64decode(result.structured["content"])
    assert decoded == data.replace(GITHUB_TOKEN.encode(), b"[REDACTED:github_token]")
    assert result.findings == (Finding("github_token", "/content"),)
    assert (result.unscanned, result.blocked) == (1, False)


@pytest.mark.parametrize(("mode", "blocked"), [("mask", False), ("block", True)])
def test_binary_content_cannot_be_cleared_under_block(mode: SecretMode, blocked: bool) -> None:
    result = sanitize_output({"content": Binary(b"\x00\x01\x02")}, None, mode=mode)
    assert result.findings == () and result.unscanned == 1 and result.blocked is blocked


def test_the_byte_budget_cuts_the_encoded_content_after_masking() -> None:
    data = GITHUB_TOKEN.encode() + b"\x00" * 100
    result = sanitize_output({"content": Binary(data)}, None, mode="mask", max_bytes=20)
    assert result.findings == (Finding("github_token", "/content"),) and result.truncated_bytes > 0
    assert result.structured["content"].startswith(base64.b64encode(b"[REDACTED:git").decode()[:16])


def test_a_masked_key_keeps_the_lines_after_it_in_place() -> None:
    text = f"line 1\n{private_key()}\nline {2 + private_key().count(chr(10)) + 1}\n"
    scanned = scan_text(text)
    assert scanned.kinds == ("private_key",) and scanned.text.count("\n") == text.count("\n")
    last = scanned.text.splitlines()[-1]
    assert last == f"line {len(scanned.text.splitlines())}"


def test_invisible_characters_go_before_secrets_are_looked_for() -> None:
    split = GITHUB_TOKEN[:8] + "\u200b" + GITHUB_TOKEN[8:]
    assert scan_text(f"t {split}") == scan_text(f"t {GITHUB_TOKEN}").__class__(
        "t [REDACTED:github_token]", ("github_token",), 1
    )


def test_findings_a_tool_made_itself_count_and_block() -> None:
    found = (Finding("github_token", "/results"),)
    assert sanitize_output({"results": []}, None, mode="block", found=found).blocked
    masked = sanitize_output({"results": []}, None, mode="mask", found=found)
    assert masked.findings == found and not masked.blocked
