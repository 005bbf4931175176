"""The gateway's private temporary directory, and the removal of those that crashed gateways left.

Each directory holds a lock file the gateway keeps locked while it runs. A directory whose lock can be
taken belongs to no running gateway (the kernel drops the lock of a killed process), so it is removed
at the next start: no pid file that a reused pid could fool.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import stat
import tempfile
from pathlib import Path

PREFIX = "aegis-gw-"
MAKING_PREFIX = ".aegis-gw-making-"
LOCK_NAME = ".owner.lock"
log = logging.getLogger(__name__)


class ScratchDir:
    """A private (0700) temporary directory, locked for as long as it is open.

    Example:
        scratch = ScratchDir.create()
        ...  # use scratch.path
        scratch.remove()
    """

    def __init__(self, path: Path, lock_fd: int) -> None:
        self.path = path
        self._lock_fd = lock_fd

    @classmethod
    def create(cls, parent: Path | None = None) -> ScratchDir:
        """Made and locked under a name no cleanup looks at, then given its name: a starting gateway's
        cleanup never sees it unlocked."""
        making = Path(tempfile.mkdtemp(prefix=MAKING_PREFIX, dir=parent))
        fd = os.open(making / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        fcntl.flock(fd, fcntl.LOCK_EX)
        path = making.with_name(PREFIX + making.name.removeprefix(MAKING_PREFIX))
        os.rename(making, path)
        return cls(path, fd)

    def remove(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)
        os.close(self._lock_fd)


def remove_stale(parent: Path | None = None) -> list[Path]:
    """Remove the scratch directories under `parent` (default: the system's) that no live gateway holds."""
    removed = []
    for candidate in Path(parent or tempfile.gettempdir()).glob(f"{PREFIX}*"):
        if _ours(candidate) and _unowned(candidate):
            shutil.rmtree(candidate, ignore_errors=True)
            removed.append(candidate)
    if removed:
        log.info("removed scratch directories of gateways that stopped", extra={"count": len(removed)})
    return removed


def _ours(candidate: Path) -> bool:
    """A real directory (no symlink) of this user: another user's are theirs to clean."""
    try:
        status = candidate.lstat()
    except OSError:
        return False
    return stat.S_ISDIR(status.st_mode) and status.st_uid == os.getuid()


def _unowned(directory: Path) -> bool:
    try:
        fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return False  # not one of ours, or not readable by us: left alone
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    else:
        return True
    finally:
        os.close(fd)
