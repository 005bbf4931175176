"""Cleaning repository paths the way Gitea does before it looks them up in a tree.

Example::

    clean_tree_path("src/../src/main.py")   # "src/main.py"
    clean_tree_path(".git/config")          # None: Gitea refuses any ".git" component
    clean_tree_path("")                     # "": the root
"""

from __future__ import annotations

import posixpath

__all__ = ["clean_tree_path", "go_path_clean"]


def go_path_clean(name: str) -> str:
    """Go's ``path.Clean``: lexical cleaning, ``..`` kept where it climbs above the start."""
    cleaned = posixpath.normpath(name) if name else "."
    return "/" + cleaned.lstrip("/") if cleaned.startswith("//") else cleaned


def clean_tree_path(name: str) -> str | None:
    """Gitea's ``CleanGitTreePath`` check: relative and cleaned, ``""`` for the root.

    None where Gitea raises ``ErrFilenameInvalid``: a ``.git`` component, or a non-empty path that
    cleans to nothing (``"/"``, ``"a/.."``).
    """
    cleaned = go_path_clean("/" + name).lstrip("/")
    if any(part.lower() == ".git" for part in cleaned.split("/")) or (name and not cleaned):
        return None
    return cleaned
