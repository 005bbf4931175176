"""What git says about a pull request: its base and head commits, their merge base, diff and mergeability.

The head is the head branch while it exists, else ``refs/pull/N/head`` (what Gitea keeps of it).

Example::

    async with ObjectReader.open(git_dir) as objects:
        base_sha, head_sha = await pull_heads(objects, issue)
    state = await pull_git_state(git_dir, base_sha, head_sha)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ._git import ObjectReader
from ._git_write import DiffStat, diff_stat, merge_base, merges_cleanly
from ._store import Issue

__all__ = ["PullGitState", "pull_git_state", "pull_heads"]


@dataclass(frozen=True, slots=True)
class PullGitState:
    """Both heads, their merge base ("" when there is none), the diff from it and mergeability."""

    base_sha: str
    head_sha: str
    merge_base: str
    stat: DiffStat
    mergeable: bool

    @property
    def diff_base(self) -> str:
        """Where the pull request's diff starts: the merge base, else the base branch."""
        return self.merge_base or self.base_sha


async def pull_heads(objects: ObjectReader, issue: Issue) -> tuple[str, str]:
    """The commits of the pull request's base branch and head ("" for one that is gone)."""
    pull = issue.pull_request
    assert pull is not None
    base = await objects.commit(f"refs/heads/{pull.base}")
    head = await objects.commit(f"refs/heads/{pull.head}") or await objects.commit(
        f"refs/pull/{issue.number}/head"
    )
    return (base.sha if base else "", head.sha if head else "")


async def pull_git_state(git_dir: Path, base_sha: str, head_sha: str) -> PullGitState:
    """The merge base of the two commits, the diff stat from it to the head and whether they merge."""
    both = bool(base_sha and head_sha)
    common = await merge_base(git_dir, base_sha, head_sha) if both else ""
    return PullGitState(
        base_sha=base_sha,
        head_sha=head_sha,
        merge_base=common,
        stat=await diff_stat(git_dir, common, head_sha) if common else DiffStat(),
        mergeable=both and await merges_cleanly(git_dir, base_sha, head_sha),
    )
