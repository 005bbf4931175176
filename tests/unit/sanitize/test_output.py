from __future__ import annotations

import copy
import doctest
import json
from typing import Any

import pytest

import gateway.sanitize
from gateway.sanitize import (
    TRUNCATION_SUMMARY_KEY,
    Finding,
    Sanitized,
    SecretMode,
    _output,
    _untrusted,
    sanitize_output,
)
from tests.unit.sanitize.fakes import GIT_SHA, GITEA_TOKEN, GITHUB_TOKEN, JWT, PASSWORD, private_key


def test_public_surface() -> None:
    assert set(gateway.sanitize.__all__) == {
        "DEFAULT_MAX_BYTES",
        "DEFAULT_MAX_ITEMS",
        "SECRET_KINDS",
        "TRUNCATION_SUMMARY_KEY",
        "Binary",
        "Clip",
        "Finding",
        "LocatedSecret",
        "Sanitized",
        "ScannedText",
        "SecretMode",
        "ascii_secret_kinds",
        "locate_secrets",
        "mark_untrusted",
        "sanitize_output",
        "scan_size",
        "scan_text",
    }
    assert all(hasattr(gateway.sanitize, name) for name in gateway.sanitize.__all__)


@pytest.mark.parametrize("module", [_output, _untrusted], ids=lambda module: module.__name__)
def test_docstring_examples_hold(module: object) -> None:
    assert doctest.testmod(module).failed == 0  # type: ignore[arg-type]


def _issues() -> dict[str, Any]:
    return {
        "issues": [
            {"number": 1, "title": "Login fails", "body": "Stack trace attached", "labels": ["bug"]},
            {"number": 2, "title": "CI", "body": f"Use GITEA_TOKEN={GITEA_TOKEN} in CI", "labels": []},
        ],
        "page": 1,
        "total": 2,
    }


def test_secrets_in_nested_values_are_masked_where_they_are() -> None:
    result = sanitize_output(_issues(), None, mode="mask")
    expected = _issues()
    expected["issues"][1]["body"] = "Use GITEA_TOKEN=[REDACTED:gitea_token] in CI"
    assert result == Sanitized(
        structured=expected,
        text=None,
        mode="mask",
        findings=(Finding("gitea_token", "/issues/1/body"),),
        stripped_chars=0,
        truncated_bytes=0,
        omitted_items=0,
    )
    assert not result.blocked


def test_the_input_is_not_changed() -> None:
    issues = _issues()
    sanitize_output(issues, "text", mode="mask")
    assert issues == _issues()


def test_text_is_sanitized_with_its_own_location() -> None:
    content = f"# deploy\n{private_key()}\n"
    result = sanitize_output({"path": "deploy.md", "content": content}, content, mode="mask")
    assert result.text == "# deploy\n[REDACTED:private_key]\n\n\n\n"  # the key's lines, kept as lines
    assert result.structured["content"] == result.text
    assert result.findings == (Finding("private_key", "/content"), Finding("private_key", "text"))


@pytest.mark.parametrize("mode", ["mask", "block"])
def test_both_modes_mask_and_only_block_blocks(mode: SecretMode) -> None:
    result = sanitize_output({"body": f"token: {GITHUB_TOKEN}"}, None, mode=mode)
    assert result.structured == {"body": "token: [REDACTED:github_token]"}
    assert result.blocked is (mode == "block")


def test_nothing_found_blocks_nothing() -> None:
    result = sanitize_output({"commits": [{"sha": GIT_SHA, "message": "Fix login"}]}, None, mode="block")
    assert (result.findings, result.blocked) == ((), False)


def test_secret_split_by_invisible_characters_is_caught() -> None:
    split = "\u200d".join(GITHUB_TOKEN[:10]) + "\u2063" + GITHUB_TOKEN[10:]
    result = sanitize_output({"body": f"oops {split}\u202e"}, None, mode="mask")
    assert result.structured == {"body": "oops [REDACTED:github_token]"}
    assert (result.stripped_chars, result.findings) == (11, (Finding("github_token", "/body"),))


def test_keys_are_sanitized_and_located_by_their_clean_name() -> None:
    structured = {"ti\u200btle": "x", f"{GITHUB_TOKEN}": 1, "nested": {"a/b~c": [JWT]}}
    result = sanitize_output(structured, None, mode="mask")
    assert result.structured == {
        "title": "x",
        "[REDACTED:github_token]": 1,
        "nested": {"a/b~c": ["[REDACTED:jwt]"]},
    }
    assert result.findings == (
        Finding("github_token", "/[REDACTED:github_token]"),
        Finding("jwt", "/nested/a~1b~0c/0"),
    )
    assert result.stripped_chars == 1


def test_keys_that_become_equal_are_told_apart() -> None:
    structured = {"name": 1, "na\u200bme": 2, "name~2": 3, "nam\u00ade": 4}
    result = sanitize_output(structured, None, mode="mask")
    assert result.structured == {"name": 1, "name~2": 2, "name~2~2": 3, "name~3": 4}


@pytest.mark.parametrize(
    ("structured", "masked", "location"),
    [
        pytest.param(
            {"password": PASSWORD}, {"password": "[REDACTED:assigned_secret]"}, "/password", id="value"
        ),
        pytest.param(
            {"config": {"api_keys": ["x", PASSWORD]}},
            {"config": {"api_keys": ["x", "[REDACTED:assigned_secret]"]}},
            "/config/api_keys/1",
            id="list-under-secret-name",
        ),
    ],
)
def test_a_value_under_a_secret_like_key_is_masked(
    structured: dict[str, Any], masked: dict[str, Any], location: str
) -> None:
    result = sanitize_output(structured, None, mode="mask")
    assert (result.structured, result.findings) == (masked, (Finding("assigned_secret", location),))


def test_scalars_pass_through() -> None:
    structured = {"a": None, "b": True, "c": 3, "d": 2.5, "e": [False, 0]}
    assert sanitize_output(structured, None, mode="mask").structured == structured


def test_strings_share_one_byte_budget_in_document_order() -> None:
    structured = {"title": "abcdef", "body": "ghijkl", "labels": ["x", ""], "state": "open"}
    result = sanitize_output(structured, "0123456789", mode="mask", max_bytes=8)
    assert result.structured == {
        "title": "abcdef",
        "body": "gh\n[... truncated by Aegis: 4 more bytes]",
        "labels": ["[... truncated by Aegis: 1 more bytes]", ""],
        "state": "[... truncated by Aegis: 4 more bytes]",
        TRUNCATION_SUMMARY_KEY: {"omitted_bytes": 9, "omitted_items": 0},
    }
    assert result.text == "01234567\n[... truncated by Aegis: 2 more bytes]"
    assert (result.truncated_bytes, result.omitted_items) == (11, 0)


def test_long_lists_keep_their_first_items() -> None:
    structured = {"entries": [{"path": f"f{index}"} for index in range(5)], "nested": [[1, 2, 3]]}
    result = sanitize_output(structured, None, mode="mask", max_items=2)
    assert result.structured == {
        "entries": [{"path": "f0"}, {"path": "f1"}],
        "nested": [[1, 2]],
        TRUNCATION_SUMMARY_KEY: {"omitted_bytes": 0, "omitted_items": 4},
    }
    assert result.omitted_items == 4


def test_secrets_are_masked_before_the_cut() -> None:
    text = f"GITEA_TOKEN={GITEA_TOKEN}"
    result = sanitize_output({}, text, mode="mask", max_bytes=len("GITEA_TOKEN=[REDACTED"))
    assert result.text == "GITEA_TOKEN=[REDACTED\n[... truncated by Aegis: 13 more bytes]"
    assert result.findings == (Finding("gitea_token", "text"),)


def test_no_truncation_adds_no_summary() -> None:
    result = sanitize_output({"entries": [1, 2]}, "ab", mode="mask", max_bytes=2, max_items=2)
    assert result.structured == {"entries": [1, 2]}
    assert (result.text, result.truncated_bytes, result.omitted_items) == ("ab", 0, 0)


def test_the_result_is_json() -> None:
    result = sanitize_output({"body": "caf\u00e9 \ud83d"}, None, mode="mask")
    assert json.loads(json.dumps(result.structured)) == {"body": "caf\u00e9 "}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        pytest.param({"mode": "off"}, "unknown secret mode 'off'", id="mode"),
        pytest.param({"mode": "mask", "max_bytes": -1}, "must not be negative", id="max-bytes"),
        pytest.param({"mode": "mask", "max_items": -1}, "must not be negative", id="max-items"),
    ],
)
def test_bad_settings_are_refused(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        sanitize_output({}, None, **kwargs)


@pytest.mark.parametrize(
    ("structured", "message"),
    [
        pytest.param({"when": object()}, "not JSON-compatible: object at /when", id="value"),
        pytest.param({"a": [(1, 2)]}, "not JSON-compatible: tuple at /a/0", id="tuple"),
        pytest.param({"a": {1: "x"}}, "not JSON-compatible: a int key at /a", id="key"),
    ],
)
def test_values_that_are_not_json_are_refused(structured: dict[str, Any], message: str) -> None:
    with pytest.raises(TypeError, match=message):
        sanitize_output(copy.deepcopy(structured), None, mode="mask")
