"""Serialized changes: one process-wide lock around every write, metadata read fresh and saved atomically.

Every write handler runs its checks and changes under ``write_lock()`` (one ``asyncio.Lock`` per event
loop, shared by every app in the process), so two requests never interleave a read-modify-write of
``meta.json`` or of a branch. Git refs are also moved with their expected old value (see ``_git_write``),
which keeps writes by other processes from being lost.

Example::

    async with write_lock():
        metadata, repo = fresh_repo(call)
        save(call, metadata.with_repo(changed))
"""

from __future__ import annotations

import asyncio
import weakref
from datetime import UTC, datetime

from ._context import Call
from ._errors import ApiError
from ._store import Metadata, Repo, write_metadata
from ._urls import format_time

__all__ = ["fresh_repo", "now", "now_text", "save", "write_lock"]

_LOCKS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def write_lock() -> asyncio.Lock:
    """The process-wide write lock (per event loop, since an asyncio lock belongs to one loop)."""
    loop = asyncio.get_running_loop()
    lock = _LOCKS.get(loop)
    if lock is None:
        lock = _LOCKS[loop] = asyncio.Lock()
    return lock


def fresh_repo(call: Call) -> tuple[Metadata, Repo]:
    """The metadata as it is on disk now and the route's repository in it (404 if it is gone)."""
    metadata = call.store.current()
    params = call.request.path_params
    repo = metadata.repo(params["owner"], params["repo"])
    if repo is None:
        raise ApiError.not_found()
    return metadata, repo


def save(call: Call, metadata: Metadata) -> None:
    write_metadata(call.state_dir, metadata)


def now() -> datetime:
    """The current time in UTC, whole seconds (Gitea stores Unix seconds)."""
    return datetime.now(UTC).replace(microsecond=0)


def now_text() -> str:
    return format_time(now())
