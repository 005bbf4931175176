"""`--tree` specifications and the paths a tree gives."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.authoring.trees import TreeSpec, with_directories
from gateway.errors import ConfigError


@pytest.mark.parametrize(
    ("text", "want"),
    [
        ("Acme/App", TreeSpec(repo="acme/app", ref=None, directory=None)),
        ("acme/app@v1.2", TreeSpec(repo="acme/app", ref="v1.2", directory=None)),
        ("acme/app@feature/x=../co", TreeSpec(repo="acme/app", ref="feature/x", directory=Path("../co"))),
        ("acme/app=/srv/co@x", TreeSpec(repo="acme/app", ref=None, directory=Path("/srv/co@x"))),
    ],
    ids=["gitea", "gitea at a ref", "local at a ref", "local"],
)
def test_tree_specs(text: str, want: TreeSpec) -> None:
    assert TreeSpec.parse(text) == want


@pytest.mark.parametrize(
    "text", ["acme", "acme/app/x", "acme/app@", "acme/app@--output=x", "https://g/acme/app"]
)
def test_bad_tree_specs_are_refused(text: str) -> None:
    with pytest.raises(ConfigError, match="expected owner/repo, owner/repo@ref or owner/repo"):
        TreeSpec.parse(text)


def test_a_tree_gives_its_files_and_every_directory_above_one() -> None:
    assert with_directories(["src/a/b.py", "README.md", "src/c.py"]) == (
        "README.md",
        "src",
        "src/a",
        "src/a/b.py",
        "src/c.py",
    )
