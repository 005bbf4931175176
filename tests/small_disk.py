"""A real filesystem that runs out of space on demand: a small tmpfs mounted for one test."""

from __future__ import annotations

import dataclasses
import errno
import os
import subprocess
from pathlib import Path

FILLER = ".filler"


@dataclasses.dataclass(frozen=True)
class SmallDisk:
    path: Path

    def fill(self, leave: int = 0) -> None:
        """Take every free byte but `leave` (rounded down to whole 4 KiB pages, as tmpfs counts)."""
        filler = self.path / FILLER
        with filler.open("ab") as handle:
            while True:
                stats = os.statvfs(self.path)
                free = stats.f_bavail * stats.f_frsize - leave
                if free <= 0:
                    return
                try:
                    handle.write(b"\0" * min(free, 1 << 20))
                    handle.flush()
                except OSError as exc:
                    if exc.errno != errno.ENOSPC:
                        raise
                    return

    def free(self) -> None:
        (self.path / FILLER).unlink(missing_ok=True)


def mount_small_disk(path: Path, size_kib: int = 1024) -> SmallDisk:
    """Mount a tmpfs of `size_kib` at `path` (needs root, as the test machines run); unmount() it."""
    path.mkdir(parents=True, exist_ok=True)
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kib}k,mode=0700", "tmpfs", str(path)],
        capture_output=True,
        text=True,
    )
    if mounted.returncode != 0:
        raise RuntimeError(f"cannot mount a tmpfs for the full-disk tests (root needed): {mounted.stderr}")
    return SmallDisk(path)


def unmount(disk: SmallDisk) -> None:
    subprocess.run(["umount", "--lazy", str(disk.path)], check=True)
