"""Scan, then cut or encode: a Clip is cut only after its whole text was masked, a Binary is masked where
it holds ASCII text before it is base64-encoded (and marked as not fully scanned), and a secret spanning
lines leaves the line count unchanged."""

from __future__ import annotations

import base64

import pytest

from gateway.sanitize import Binary, Clip, Finding, SecretMode, sanitize_output, scan_size, scan_text
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
def test_binary_text_is_masked_encoded_and_counted_as_unscanned(mode: SecretMode, blocked: bool) -> None:
    """A file's bytes given as the result's text (get_file_contents returns them there, once)."""
    data = b"\x89PNG\x00\x01 key " + GITHUB_TOKEN.encode() + b" \xff\xfe"
    result = sanitize_output({"encoding": "base64"}, Binary(data), mode=mode)
    assert result.text is not None
    assert base64.b64decode(result.text) == data.replace(GITHUB_TOKEN.encode(), b"[REDACTED:github_token]")
    assert result.findings == (Finding("github_token", "text"),)
    assert (result.unscanned, result.blocked) == (1, blocked)
    assert scan_size({"encoding": "base64"}, Binary(data)) == len("encoding") + len("base64") + len(data)


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


def test_the_scan_size_counts_what_a_scan_reads() -> None:
    structured = {"message": Clip("m" * 100, 10), "content": Binary(b"\x00" * 50), "list": ["ab", {"cd": 1}]}
    assert (
        scan_size(structured, "text") == len("message") + 100 + len("content") + 50 + len("list") + 2 + 2 + 4
    )


def test_ascii_and_utf_16_secrets_in_binary_content_are_masked_in_their_encoding() -> None:
    line = f"token = {GITHUB_TOKEN}\n"
    for codec in ("utf-16-le", "utf-16-be"):
        data = b"\x00\x01binary\xff" + line.encode(codec) + b"\xfe\x00"
        result = sanitize_output({"content": Binary(data)}, None, mode="mask")
        decoded = base64.b64decode(result.structured["content"])
        assert (
            GITHUB_TOKEN.encode(codec) not in decoded and GITHUB_TOKEN[4:].encode(codec)[:20] not in decoded
        )
        assert "token = [REDACTED:github_token]".encode(codec) in decoded, codec
        assert {finding.kind for finding in result.findings} == {"github_token"}


def test_a_key_body_without_its_begin_line_is_masked_but_a_certificate_is_not() -> None:
    body = [
        f"MIIEowIBAAKCAQEA{index:02d}zR4c0Vh7b2kQy8tXq1s9Lm3Wn5Pd7Rf2Gh4Jk6Lp8Qr0St2U" for index in range(8)
    ]
    hunk = f"@@ -3,7 +3,7 @@ {body[0]}\n" + "".join(f" {line}\n" for line in body[1:4]) + f"-{body[4]}\n+xx\n"
    scanned = scan_text(f"diff --git a/k.txt b/k.txt\n{hunk}")
    assert scanned.kinds == ("private_key",) and not any(line[20:] in scanned.text for line in body)
    assert scanned.text.count("\n") == hunk.count("\n") + 1
    certificate = "-----BEGIN CERTIFICATE-----\n" + "\n".join(body) + "\nAB==\n-----END CERTIFICATE-----\n"
    assert scan_text(certificate).kinds == ()
    assert scan_text(body[0] + "\n").kinds == ()  # one line is not yet a key body


def test_utf_16_text_with_latin_1_letters_is_one_run() -> None:
    data = b"\x00\xff" + f"password=Gr\u00fc\u00dfeS3cr3tW0rd!2024 {GITHUB_TOKEN[:4]}\n".encode("utf-16-le")
    result = sanitize_output({"content": Binary(data)}, None, mode="mask")
    assert "S3cr3tW0rd".encode("utf-16-le") not in base64.b64decode(result.structured["content"])
