"""The index of glob lists: Rego, reading it, finds exactly the globs that match, and policy_valid
refuses an index that could hide one."""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from policy_compiler import build_bundle, glob_matches, glob_to_regex
from policy_compiler._glob_index import GLOB_CHUNK, glob_index, globs_to_regex, literal_first_segment
from policy_compiler._resources import rego_dir

from tests.policy_compiler.opa_run import opa_eval

HITS_QUERY = "[data.aegis.authz._glob_hits(c.list, c.path) | some c in input.cases]"
SEGMENTS = ["src", "docs", "a", "é", "café", "*", "**", "?", "x*", "*.md", "b?", ".env", "a+b (1)"]
PATHS = ["src/a.py", "docs/x.md", "a/b/.env", "café/é.md", "cafe/é.md", "x", "ab/c", "src", "docs", ".env"]


@pytest.mark.parametrize(
    ("glob", "segment"),
    [
        ("src/**", "src"),
        ("README.md", "README.md"),
        ("a+b (1).txt/x", "a+b (1).txt"),
        ("cafe\u0301/*", "caf\u00e9"),  # NFC, like the paths it is matched with
        ("*/docs/**", None),
        ("**/x", None),
        ("**", None),
        ("s?c/x", None),
        ("src*/x", None),
    ],
)
def test_literal_first_segment(glob: str, segment: str | None) -> None:
    assert literal_first_segment(glob) == segment


def _glob_list(globs: list[str]) -> dict[str, Any]:
    """A glob list as the compiler writes it (rule names left out: `_glob_hits` reads none)."""
    entries = [{"glob": glob, "regex": glob_to_regex(glob)} for glob in globs]
    return {"entries": entries, "index": glob_index(globs)}


def _random_globs(rng: random.Random, count: int) -> list[str]:
    return ["/".join(rng.choice(SEGMENTS) for _ in range(rng.randint(1, 3))) for _ in range(count)]


def _hits(globs: list[str], path: str) -> list[int]:
    return [i for i, glob in enumerate(globs) if glob_matches(glob, path)]


def _rego_hits(opa: str, cases: list[tuple[list[str], str]]) -> list[list[int]]:
    got = opa_eval(
        opa,
        HITS_QUERY,
        {"cases": [{"list": _glob_list(globs), "path": path} for globs, path in cases]},
        data=rego_dir(),
    )
    return [sorted(hits) for hits in got]


def test_rego_finds_every_matching_glob_through_the_index(opa: str) -> None:
    rng = random.Random(20261203)  # noqa: S311 (test data, fixed seed: the same cases every run)
    cases = [(_random_globs(rng, rng.choice([1, 5, 40, 90])), rng.choice(PATHS)) for _ in range(300)]
    got = _rego_hits(opa, cases)
    want = [_hits(globs, path) for globs, path in cases]
    assert got == want
    assert sum(1 for hits in want if len(hits) > 1) > 50  # several globs of one list match, often


@pytest.mark.parametrize(
    ("globs", "path", "hits"),
    [
        pytest.param(["*/generated/**", "src/**"], "lib/generated/x.py", [0], id="wildcard first segment"),
        pytest.param(["?rc/a.py", "src/b.py"], "src/a.py", [0], id="a ? in the first segment"),
        pytest.param(["**/.env", "src/.env"], "src/.env", [0, 1], id="a ** glob and a literal one"),
        pytest.param(["**/.env"], ".env", [0], id="** matching no directory"),
        pytest.param(
            ["src/**", "docs/**"], "docs/src/a.py", [1], id="a literal prefix and another directory"
        ),
        pytest.param(["src/**"], "srcx/a.py", [], id="a longer first segment"),
        pytest.param(["src*"], "src/a.py", [0], id="a * in the first segment crosses '/'"),
        pytest.param(["café/*", "cafe/*"], "café/menu.md", [0], id="unicode first segment"),
        pytest.param(
            [f"docs/{i}.md" for i in range(3 * GLOB_CHUNK)] + ["docs/**"],
            f"docs/{3 * GLOB_CHUNK - 1}.md",
            [3 * GLOB_CHUNK - 1, 3 * GLOB_CHUNK],
            id="many globs, the matches last",
        ),
        pytest.param(
            [f"**/*.part{i}" for i in range(3 * GLOB_CHUNK)] + ["**/*.md"],
            "docs/x.md",
            [3 * GLOB_CHUNK],
            id="many wildcard globs, the match last",
        ),
    ],
)
def test_rego_glob_hits(opa: str, globs: list[str], path: str, hits: list[int]) -> None:
    assert _hits(globs, path) == hits  # the case says what the globs mean
    assert _rego_hits(opa, [(globs, path)]) == [hits]


def test_chunks_hold_every_position_once() -> None:
    globs = _random_globs(random.Random(7), 500)  # noqa: S311 (test data)
    index = glob_index(globs)
    groups = [*index["by_segment"].values(), index["any_segment"]]  # type: ignore[attr-defined]
    chunks = [chunk for group in groups for chunk in group]
    positions = [i for chunk in chunks for i in chunk["entries"]]
    assert sorted(positions) == list(range(len(globs)))
    assert all(0 < len(chunk["entries"]) <= GLOB_CHUNK for chunk in chunks)
    assert all(chunk["entries"] == sorted(chunk["entries"]) for chunk in chunks)
    for segment, group in index["by_segment"].items():  # type: ignore[attr-defined]
        assert {literal_first_segment(globs[i]) for chunk in group for i in chunk["entries"]} == {segment}


def test_combined_regex_matches_where_a_glob_does(opa: str) -> None:
    rng = random.Random(11)  # noqa: S311 (test data)
    cases = [(_random_globs(rng, rng.randint(1, 12)), rng.choice(PATHS)) for _ in range(400)]
    want = [bool(_hits(globs, path)) for globs, path in cases]
    python = [re.fullmatch(globs_to_regex(globs), path) is not None for globs, path in cases]
    rego = opa_eval(
        opa,
        "[regex.match(c[0], c[1]) | some c in input.cases]",
        {"cases": [[globs_to_regex(globs), path] for globs, path in cases]},
    )
    assert python == want and rego == want
    assert 50 < sum(want) < len(want) - 50


def test_long_globs_make_a_valid_expression(opa: str) -> None:
    stem = "/".join(["d"] * 480)  # 959 characters: near the longest glob, 480 tokens deep
    globs = [f"{stem}/{i}*" for i in range(GLOB_CHUNK)]
    regex = globs_to_regex(globs)
    assert re.fullmatch(regex, f"{stem}/7x")
    assert opa_eval(opa, "regex.is_valid(input.regex)", {"regex": regex}) is True


def test_policy_with_many_path_rules_is_valid(
    opa: str, write_policy: Callable[[str], Path], tmp_path: Path
) -> None:
    allow = [f"docs{i}/**" if i % 2 else f"**/*.part{i}" for i in range(300)]
    policy = write_policy(
        f"version: 1\nrepositories:\n  acme/app:\n    paths: {{allow: {allow}, deny: {allow[:5]}}}\n"
    )
    bundle = build_bundle(policy, tmp_path / "bundle.tar.gz").path
    assert opa_eval(opa, "data.aegis.authz.policy_valid", {}, bundle=bundle) is True
