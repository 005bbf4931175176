"""A repository file's contents document: metadata, content, symlink target or submodule URL, last commit.

Shared by ``GET /contents`` and the file writes, which answer with the file as it is after the commit.

Example::

    document = await file_document(call, repo, objects, ref, "src/main.py", entry)
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any, Final

from ._context import Call
from ._git import Commit, ObjectReader, TreeEntry, last_commit_sha
from ._refs import RefCommit
from ._render_git import MAX_BLOB_SIZE, contents_json
from ._store import Repo

__all__ = ["CONTENTS_INCLUDES", "Includes", "entry_extras", "file_document"]

_SYMLINK_TARGET_MAX: Final = 1024


async def _submodule_urls(objects: ObjectReader, commit: Commit) -> dict[str, str]:
    """``path -> url`` from the commit's ``.gitmodules`` (the subset of git-config syntax it uses)."""
    found = await objects.read(f"{commit.sha}:.gitmodules")
    if found is None:
        return {}
    urls: dict[str, str] = {}
    path = url = ""
    for line in [*found[1].decode("utf-8", errors="replace").splitlines(), "[end]"]:
        line = line.strip()
        if line.startswith("["):
            if path and url:
                urls[path] = url
            path = url = ""
            continue
        key, _, value = line.partition("=")
        if key.strip() == "path":
            path = value.strip()
        elif key.strip() == "url":
            url = value.strip()
    return urls


async def entry_extras(objects: ObjectReader, commit: Commit, path: str, entry: TreeEntry) -> dict[str, Any]:
    """The symlink target or submodule URL of an entry, as Gitea reads them."""
    if entry.is_symlink:
        found = await objects.read(entry.sha)
        target = found[1][:_SYMLINK_TARGET_MAX].decode("utf-8", errors="replace") if found else ""
        return {"target": target}
    if entry.is_submodule:
        return {"submodule_url": (await _submodule_urls(objects, commit)).get(path)}
    return {}


@dataclass(frozen=True, slots=True, kw_only=True)
class Includes:
    """What a contents answer holds beside an entry's metadata (``GetContentsOrListOptions``): ``GET
    /contents`` asks for the content of a single file and the last commit's metadata; ``GET
    /contents-ext`` for what its ``includes`` name, nothing by default."""

    file_content: bool = False
    commit_metadata: bool = False
    commit_message: bool = False


CONTENTS_INCLUDES: Final = Includes(file_content=True, commit_metadata=True)


async def file_document(
    call: Call,
    repo: Repo,
    objects: ObjectReader,
    ref: RefCommit,
    path: str,
    entry: TreeEntry,
    includes: Includes = CONTENTS_INCLUDES,
) -> dict[str, Any]:
    """``getFileContentsByEntryInternal`` of one non-directory entry, with what ``includes`` names."""
    history = None
    if includes.commit_metadata or includes.commit_message:
        history = asyncio.create_task(last_commit_sha(call.git_dir(repo), ref.commit.sha, path))
    try:
        [entry] = await objects.with_sizes([entry])
        content = None
        if includes.file_content and entry.is_regular and entry.size <= MAX_BLOB_SIZE:
            found = await objects.read(entry.sha)
            content = found[1] if found else None
        extra = await entry_extras(objects, ref.commit, path, entry)
    finally:
        last_sha = await history if history is not None else None
    last_commit = await objects.commit(last_sha) if last_sha else None
    return contents_json(
        call.site,
        repo,
        ref,
        path,
        entry,
        last_commit=last_commit if includes.commit_metadata else None,
        last_message=last_commit.message if last_commit and includes.commit_message else None,
        content=content,
        **extra,
    )
