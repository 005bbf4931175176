"""Changes to bare git repositories through git plumbing, never a work tree and never a force update.

A commit is built from blobs (``hash-object -w``), a tree made in a temporary index (``GIT_INDEX_FILE``:
``read-tree`` of the parent, ``update-index --index-info``, ``write-tree``) and ``commit-tree``; refs move
with ``update-ref <ref> <new> <old>``, which fails when the ref is no longer ``old`` (or, for a new ref,
already exists), so a concurrent writer can never be overwritten.

Example::

    blob = await write_blob(git_dir, b"hello\\n")
    tree = await build_tree(git_dir, parent, [IndexEntry("docs/x.md", blob)])
    sha = await commit_tree(git_dir, tree, [parent], "Add docs/x.md", identity)
    moved = await update_ref(git_dir, "refs/heads/main", sha, parent)
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Final

from ._git import list_refs, run_checked, run_git

__all__ = [
    "ZERO_SHA",
    "DiffStat",
    "Identity",
    "IndexEntry",
    "build_tree",
    "commit_tree",
    "diff_stat",
    "merge_base",
    "merges_cleanly",
    "ref_names",
    "update_ref",
    "write_blob",
]

ZERO_SHA: Final = "0" * 40
_SHORTSTAT: Final = re.compile(r"(\d+) (file|insertion|deletion)")


@dataclass(frozen=True, slots=True)
class Identity:
    """Who authors and commits, and when (``when`` must carry a time zone)."""

    name: str
    email: str
    when: datetime


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """A path to set to a blob with ``mode``, or to remove when ``blob`` is None."""

    path: str
    blob: str | None
    mode: str = "100644"


async def write_blob(git_dir: Path, data: bytes) -> str:
    return (await run_checked(git_dir, "hash-object", "-w", "--stdin", input_data=data)).decode().strip()


async def build_tree(git_dir: Path, parent: str, entries: Sequence[IndexEntry]) -> str:
    """The tree of commit ``parent`` with ``entries`` applied, written through a throwaway index."""
    records = b"".join(
        f"{entry.mode if entry.blob else '0'} {entry.blob or ZERO_SHA}\t{entry.path}\0".encode(
            "utf-8", errors="surrogateescape"
        )
        for entry in entries
    )
    with tempfile.TemporaryDirectory(prefix="gitea-sim-index-") as scratch:
        env = {"GIT_INDEX_FILE": str(Path(scratch) / "index")}
        await run_checked(git_dir, "read-tree", parent, env=env)
        await run_checked(git_dir, "update-index", "-z", "--index-info", input_data=records, env=env)
        return (await run_checked(git_dir, "write-tree", env=env)).decode().strip()


def _git_date(when: datetime) -> str:
    offset = when.strftime("%z") or "+0000"
    return f"{int(when.timestamp())} {offset}"


async def commit_tree(
    git_dir: Path, tree: str, parents: Sequence[str], message: str, identity: Identity
) -> str:
    """A new commit object (not yet on any ref), authored and committed by ``identity``."""
    date = _git_date(identity.when)
    env = {
        "GIT_AUTHOR_NAME": identity.name,
        "GIT_AUTHOR_EMAIL": identity.email,
        "GIT_AUTHOR_DATE": date,
        "GIT_COMMITTER_NAME": identity.name,
        "GIT_COMMITTER_EMAIL": identity.email,
        "GIT_COMMITTER_DATE": date,
    }
    parent_args = [arg for parent in parents for arg in ("-p", parent)]
    stdout = await run_checked(
        git_dir, "commit-tree", tree, *parent_args, input_data=message.encode("utf-8"), env=env
    )
    return stdout.decode().strip()


async def update_ref(git_dir: Path, ref: str, new: str, old: str) -> bool:
    """Point ``ref`` at ``new`` only if it is ``old`` now (``ZERO_SHA``: only if it does not exist)."""
    code, _ = await run_git(git_dir, "update-ref", ref, new, old)
    return code == 0


async def ref_names(git_dir: Path) -> list[str]:
    """Every branch and tag ref (``refs/heads/x``, ``refs/tags/v1``), sorted as git lists them."""
    heads = await list_refs(git_dir, "refs/heads/")
    tags = await list_refs(git_dir, "refs/tags/")
    return sorted(
        [f"refs/heads/{name}" for name, _, _ in heads] + [f"refs/tags/{name}" for name, _, _ in tags]
    )


async def merge_base(git_dir: Path, first: str, second: str) -> str:
    """The best common ancestor of two commits, or "" when they share none."""
    code, stdout = await run_git(git_dir, "merge-base", first, second)
    return stdout.decode().strip() if code == 0 else ""


@dataclass(frozen=True, slots=True)
class DiffStat:
    files: int = 0
    additions: int = 0
    deletions: int = 0


async def diff_stat(git_dir: Path, start: str, end: str) -> DiffStat:
    """``git diff --shortstat start end``: files changed, lines added and deleted."""
    stdout = await run_checked(git_dir, "diff", "--shortstat", start, end)
    counts = {kind: int(count) for count, kind in _SHORTSTAT.findall(stdout.decode())}
    return DiffStat(counts.get("file", 0), counts.get("insertion", 0), counts.get("deletion", 0))


async def merges_cleanly(git_dir: Path, base: str, head: str) -> bool:
    """Whether ``head`` merges into ``base`` without conflicts (``git merge-tree --write-tree``)."""
    code, _ = await run_git(git_dir, "merge-tree", "--write-tree", base, head)
    return code == 0
