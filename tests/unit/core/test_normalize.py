from __future__ import annotations

import pytest

from gateway.core.normalize import normalize_name, normalize_path, normalize_pathspec, normalize_ref
from gateway.errors import InvalidToolCall


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("src/main.py", "src/main.py"),
        ("docs/", "docs"),
        ("Cafe\u0301.md", "Caf\u00e9.md"),
        (".env", ".env"),
        ("a/.hidden/b", "a/.hidden/b"),
        ("dir/file..txt", "dir/file..txt"),
    ],
)
def test_paths_normalize_to_one_form(raw: str, normalized: str) -> None:
    assert normalize_path("filepath", raw) == normalized


@pytest.mark.parametrize(
    "raw",
    [
        "/etc/passwd",
        "../x",
        "a/../b",
        "a/./b",
        "a//b",
        "a\\b",
        "a\x00b",
        "a\nb",
        "a\u202eb",
        "a\u200bb",
        ".",
        "",
        "x" * 4097,
        "a/%2e%2e/b",
        "a%2fb",
        "a/ .. /b",
        "\u2024\u2024/x",
        "\uff0e\uff0e/x",
        "a\uff0fb",
        "a\u2215b",
        "a\u2044b",
        "a?b",
        "a#b",
        "main~1",
        "a^",
        "a@{0}",
    ],
)
def test_dangerous_paths_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidToolCall, match="'filepath'"):
        normalize_path("filepath", raw)


@pytest.mark.parametrize("ref", ["main", "feature/login", "v1.2.3", "0123abcd" * 5, "release-2026.11"])
def test_git_refs_pass(ref: str) -> None:
    assert normalize_ref("ref", ref) == ref


@pytest.mark.parametrize(
    "ref",
    [
        "main..dev",
        "-x",
        "a b",
        "a\tb",
        "a~1",
        "a^",
        "a:b",
        "a?b",
        "a*b",
        "a[b",
        "a\\b",
        "@",
        "a@{1}",
        "/main",
        "main/",
        "a//b",
        "x.lock",
        "a/.b",
        "%2e%2e",
        "a#b",
        "a&b=c",
        "",
        "x" * 256,
        "ma\u00efn",
    ],
)
def test_unsafe_refs_are_rejected(ref: str) -> None:
    with pytest.raises(InvalidToolCall, match="'ref' is not a valid git ref"):
        normalize_ref("ref", ref)


@pytest.mark.parametrize(("raw", "normalized"), [("ACME", "acme"), ("My.Repo-1_x", "my.repo-1_x")])
def test_names_are_lower_cased(raw: str, normalized: str) -> None:
    assert normalize_name("owner", raw) == normalized


@pytest.mark.parametrize("raw", [".", "..", "a/b", "a b", "repo.git", "x" * 101, "caf\u00e9", "app."])
def test_bad_names_are_rejected(raw: str) -> None:
    with pytest.raises(InvalidToolCall, match="'repo'"):
        normalize_name("repo", raw)


@pytest.mark.parametrize("raw", ["src/*", "src/?.py", "src/[ab].py", ":(exclude)src", ":!src", "a]b"])
def test_pathspec_magic_is_rejected(raw: str) -> None:
    with pytest.raises(InvalidToolCall, match="'path' must not contain"):
        normalize_pathspec("path", raw)


def test_plain_paths_are_valid_pathspecs() -> None:
    assert normalize_pathspec("path", "src/util/") == "src/util"
