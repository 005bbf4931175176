"""Reading many files of a repository at a ref, for the tools that do (search_code, find_secrets).

The tree is listed at the commit the ref names, only the paths the policy lets the call show are kept
(one OPA query for them all), and each of those is read as the blob the listing named
(`/git/blobs/{sha}`), never as a path at a ref, which Gitea may resolve to another object: what is read
is exactly what the policy decided on. The walk is bounded in tree entries listed, files read, bytes read
and time; `Budget.stopped` names the first bound reached, so that a tool can say its result is partial.

    files = await allowed_files(call.gitea, call.resource, call.paths)
    budget = Budget(deadline=time.monotonic() + TIME_BUDGET_S)
    async with contextlib.aclosing(read_blobs(call.gitea, call.resource, files.small, budget)) as blobs:
        async for blob, raw in blobs:
            text = text_of(raw)  # None: binary
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncGenerator, Mapping, Sequence
from typing import Any

from gateway.errors import UpstreamError
from gateway.gitea import GiteaClient
from gateway.tools._spec import ShownFilter
from gateway.tools._text import decode_text
from gateway.tools._upstream import TREE_PAGE_ENTRIES, CommitAt, commit_at, read_blob, tree_page
from gateway.vocabulary import Resource

MAX_TREE_PAGES = 10
MAX_FILES_READ = 200
MAX_BYTES_READ = 8 << 20
MAX_FILE_BYTES = 1 << 20
TIME_BUDGET_S = 10.0
READ_CONCURRENCY = 4


@dataclasses.dataclass
class Budget:
    """What a walk may still spend; `stopped` names the first bound reached (`time`, `max_files`,
    `max_bytes`, or one the tool sets itself). Work in worker threads may read the deadline too."""

    deadline: float
    files: int = MAX_FILES_READ
    bytes: int = MAX_BYTES_READ
    stopped: str | None = None

    def out_of_time(self) -> bool:
        if self.stopped is None and time.monotonic() > self.deadline:
            self.stopped = "time"
        return self.stopped == "time"

    def admit(self, size: int) -> bool:
        if self.stopped is None and not self.out_of_time():
            if self.files <= 0:
                self.stopped = "max_files"
            elif size > self.bytes:
                self.stopped = "max_bytes"
        if self.stopped is not None:
            return False
        self.files -= 1
        self.bytes -= size
        return True


@dataclasses.dataclass(frozen=True)
class Blob:
    path: str
    size: int
    sha: str


@dataclasses.dataclass(frozen=True)
class AllowedFiles:
    """The files of the tree at `commit` (under the call's path, if it has one) that the call may read,
    how many were `withheld` by the policy, and whether the tree was listed in full (`complete`)."""

    commit: CommitAt
    readable: list[Blob]
    withheld: int
    complete: bool

    @property
    def small(self) -> list[Blob]:
        """The readable files of at most MAX_FILE_BYTES, the only ones read."""
        return [blob for blob in self.readable if blob.size <= MAX_FILE_BYTES]

    def summary(self, budget: Budget, found: Mapping[str, Any]) -> dict[str, Any]:
        """A tool's result: the commit walked, what the tool `found`, and whether the walk was complete or
        which bound stopped it."""
        stopped = budget.stopped or (None if self.complete else "max_tree_entries")
        return {
            "ref": self.commit.ref,
            "commit": self.commit.id,
            **found,
            "complete": stopped is None,
            "stopped_by": stopped,
        }


async def allowed_files(gitea: GiteaClient, resource: Resource, paths: ShownFilter) -> AllowedFiles:
    """The files of the tree at the resource's ref (under its path, if any) that `paths` (the call's
    filter, `ToolCall.paths`) lets the call show."""
    commit = await commit_at(gitea, resource)
    listed, complete = await _tree(gitea, resource, commit)
    allowed = await paths.allowed([blob.path for blob in listed])
    readable = [blob for blob in listed if blob.path in allowed]
    return AllowedFiles(commit, readable, len(listed) - len(readable), complete)


async def _tree(gitea: GiteaClient, resource: Resource, commit: CommitAt) -> tuple[list[Blob], bool]:
    """The files under the resource's path, and whether the tree was listed in full."""
    prefix = resource.path
    blobs: list[Blob] = []
    for page in range(1, MAX_TREE_PAGES + 1):
        tree = await tree_page(gitea, resource, commit, page=page)
        entries = [entry for entry in tree.get("tree") or [] if isinstance(entry, Mapping)]
        for entry in entries:
            path, size, sha = entry.get("path"), entry.get("size"), entry.get("sha")
            if entry.get("type") != "blob" or not isinstance(path, str) or not isinstance(size, int):
                continue
            if prefix and path != prefix and not path.startswith(prefix + "/"):
                continue
            if not isinstance(sha, str):
                raise UpstreamError("malformed")
            blobs.append(Blob(path, size, sha))
        if not tree.get("truncated") or len(entries) < TREE_PAGE_ENTRIES:
            return blobs, True
    return blobs, False


async def read_blobs(
    gitea: GiteaClient, resource: Resource, blobs: Sequence[Blob], budget: Budget
) -> AsyncGenerator[tuple[Blob, bytes], None]:
    """Each blob the budget admits with its content, in order, READ_CONCURRENCY at a time; stops at the
    first batch after the budget stopped (the caller may stop it too)."""
    for start in range(0, len(blobs), READ_CONCURRENCY):
        if budget.stopped is not None:
            return
        batch = [blob for blob in blobs[start : start + READ_CONCURRENCY] if budget.admit(blob.size)]
        contents = await asyncio.gather(*(read_blob(gitea, resource, blob.sha) for blob in batch))
        for blob, raw in zip(batch, contents, strict=True):
            yield blob, raw


def text_of(raw: bytes) -> str | None:
    """The file's text, decoded; None for a binary or oversized file."""
    decoded = decode_text(raw) if len(raw) <= MAX_FILE_BYTES else None
    return None if decoded is None else decoded.text
