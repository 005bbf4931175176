"""Path globs: the documented semantics, validation, and agreement between Python and OPA."""

from __future__ import annotations

import random
import re

import pytest
from policy_compiler import glob_matches, glob_to_regex
from policy_compiler._glob import glob_problem

from tests.policy_compiler.opa_run import opa_eval

# (glob, path, matches): the semantics docs/policy.md documents.
SEMANTICS = [
    # a glob matches the whole path, case-sensitively
    ("README.md", "README.md", True),
    ("README.md", "docs/README.md", False),
    ("README.md", "readme.md", False),
    ("README.md", "README.md.bak", False),
    # '*' matches any run of characters, '/' included (fnmatch, as the legacy format)
    ("src/*", "src/main.py", True),
    ("src/*", "src/a/b/c.py", True),
    ("src/*", "src", False),
    ("src/*", "srcx/main.py", False),
    ("src/secrets/*", "src/secrets/prod/key.pem", True),
    ("*.pem", "key.pem", True),
    ("*.pem", "deploy/key.pem", True),
    ("*.pem", "key.pem.txt", False),
    ("*", "anything/at/all", True),
    # '?' matches exactly one character, '/' included
    ("a?c", "abc", True),
    ("a?c", "a/c", True),
    ("a?c", "ac", False),
    ("a?c", "abbc", False),
    # a '**' segment also matches zero directories
    ("src/**", "src", True),
    ("src/**", "src/a", True),
    ("src/**", "src/a/b", True),
    ("src/**", "srcx", False),
    ("src/**", "srcx/a", False),
    ("**/.env", ".env", True),
    ("**/.env", "a/b/.env", True),
    ("**/.env", "a/b/x.env", False),
    ("**/.env", ".env.local", False),
    ("**/.env.*", ".env.local", True),
    ("a/**/b", "a/b", True),
    ("a/**/b", "a/x/b", True),
    ("a/**/b", "a/x/y/b", True),
    ("a/**/b", "ab", False),
    ("a/**/b", "a/xb", False),
    ("**", "x", True),
    ("**/x/**", "x", True),
    ("**/x/**", "p/x/q", True),
    ("a/**/**/b", "a/b", True),
    ("a**b", "a/x/b", True),
    # everything else is literal
    ("a.b", "axb", False),
    ("a+b (1).txt", "a+b (1).txt", True),
    ("a+b (1).txt", "aab (1).txt", False),
    ("^$|.x", "^$|.x", True),
    ("café/*", "café/menu", True),
    ("日本/*.md", "日本/a.md", True),
]


@pytest.mark.parametrize(("glob", "path", "matches"), SEMANTICS, ids=[f"{g} ~ {p}" for g, p, _ in SEMANTICS])
def test_glob_semantics(glob: str, path: str, matches: bool) -> None:
    assert glob_matches(glob, path) is matches


REGEXES = [
    ("src/*", "(?s)^src/.*$"),
    ("src/**", "(?s)^src(?:/.*)?$"),
    ("**/.env", "(?s)^(?:.*/)?\\.env$"),
    ("a/**/b", "(?s)^a/(?:.*/)?b$"),
    ("**", "(?s)^.*$"),
    ("a***b?", "(?s)^a.*b.$"),
    ("my_file-1.txt", "(?s)^my_file-1\\.txt$"),
]


@pytest.mark.parametrize(("glob", "regex"), REGEXES, ids=[glob for glob, _ in REGEXES])
def test_glob_regex_is_anchored_and_minimal(glob: str, regex: str) -> None:
    assert glob_to_regex(glob) == regex


BAD_GLOBS = [
    ("", "empty path glob"),
    ("x" * 1025, "path glob longer than 1024 characters"),
    ("/etc/passwd", "path glob '/etc/passwd' is absolute; globs are relative to the repository root"),
    ("src/", "path glob 'src/' ends with '/'; write 'src/**' for a directory and its contents"),
    ("a//b", "path glob 'a//b' has an empty segment ('//')"),
    ("a/./b", "path glob 'a/./b' has a '.' segment; paths are normalized and never contain one"),
    ("a/../b", "path glob 'a/../b' has a '..' segment; paths are normalized and never contain one"),
    ("a\\b", "path glob 'a\\\\b' contains a backslash; paths use '/'"),
    ("a\x00b", "path glob 'a\\x00b' contains a control character"),
    ("a\nb", "path glob 'a\\nb' contains a control character"),
    ("a\x7fb", "path glob 'a\\x7fb' contains a control character"),
    ("[ab]", "path glob '[ab]': '[', ']', '{' and '}' are not supported; list each path instead"),
    ("{a,b}", "path glob '{a,b}': '[', ']', '{' and '}' are not supported; list each path instead"),
]


@pytest.mark.parametrize(("glob", "message"), BAD_GLOBS, ids=[repr(glob[:20]) for glob, _ in BAD_GLOBS])
def test_bad_glob_rejected(glob: str, message: str) -> None:
    assert glob_problem(glob) == message
    with pytest.raises(ValueError, match=re.escape(message)):
        glob_to_regex(glob)


def _random_pairs(count: int) -> list[tuple[str, str]]:
    rng = random.Random(20261121)  # noqa: S311 (test data, fixed seed: the same cases every run)
    glob_alphabet = ["a", "b", ".", "*", "**", "?", "/", "-", "_", " ", "+", "(", ")", "$", "^", "|", "é"]
    path_alphabet = ["a", "b", ".", "/", "-", "_", " ", "+", "(", ")", "$", "^", "|", "é", "*", "?", "\n"]

    def text(low: int, high: int) -> str:
        return "".join(rng.choice(path_alphabet) for _ in range(rng.randint(low, high)))

    def instance(glob: str) -> str:  # a path the glob probably matches: wildcards filled in
        return re.sub(r"\*+|\?", lambda m: text(1, 1) if m.group() == "?" else text(0, 4), glob)

    pairs: list[tuple[str, str]] = []
    while len(pairs) < count:
        glob = "".join(rng.choice(glob_alphabet) for _ in range(rng.randint(1, 8)))
        if glob_problem(glob) is None:
            pairs.append((glob, instance(glob) if rng.random() < 0.5 else text(1, 10)))
    return pairs


def test_python_and_opa_agree_on_every_glob(opa: str) -> None:
    pairs = [(glob, path) for glob, path, _ in SEMANTICS] + _random_pairs(3000)
    cases = [[glob_to_regex(glob), path] for glob, path in pairs]
    got = opa_eval(opa, "[regex.match(c[0], c[1]) | some c in input.cases]", {"cases": cases})
    want = [glob_matches(glob, path) for glob, path in pairs]
    disagreements = [pair for pair, a, b in zip(pairs, want, got, strict=True) if a != b]
    assert disagreements == []
    assert 500 < sum(want) < len(want) - 500  # the cases exercise both matches and misses
