"""Group commit: who waits for which entry to reach the disk, and the fsync that gets it there.

Appends write their line at once (on the event loop, so the chain's order is the order of the calls)
and then wait. One fsync, in a worker thread, covers every entry written before it began; entries
written while it runs wait for the next one. So the event loop never blocks on the disk, concurrent
calls share fsyncs, and every call is still answered only once its entry is durable.
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import dataclasses
import os

from gateway.errors import AuditWriteError


@dataclasses.dataclass(frozen=True)
class Head:
    """The last entry written (or made durable): its seq, its hash, and the file's size after it."""

    seq: int
    entry_hash: str
    size: int


@dataclasses.dataclass
class _Waiter:
    seq: int
    event: str
    done: asyncio.Future[None]


class Durability:
    """The entries written but not yet fsynced, each with the append waiting for it."""

    def __init__(self, durable: Head) -> None:
        self.durable = durable
        # Bumped when the entries after the durable head are taken back: an fsync begun before then says
        # nothing about the file as it is now, and an entry written before then is gone.
        self.generation = 0
        self._waiting: collections.deque[_Waiter] = collections.deque()
        self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="audit-fsync")

    @property
    def pending(self) -> bool:
        return bool(self._waiting)

    def expect(self, seq: int, event: str) -> asyncio.Future[None]:
        """A future that resolves when entry `seq` is durable, or fails when it is lost."""
        done = asyncio.get_running_loop().create_future()
        self._waiting.append(_Waiter(seq, event, done))
        return done

    def reached(self, head: Head) -> None:
        """Everything up to `head` is on disk: release the appends waiting for it."""
        if head.seq > self.durable.seq:
            self.durable = head
        self._release()

    def rebase(self, head: Head) -> None:
        """`head` is the durable head from now on: the chain goes on in a new file (or one cut under
        the writer) whose start is on disk."""
        self.durable = head
        self._release()

    def _release(self) -> None:
        while self._waiting and self._waiting[0].seq <= self.durable.seq:
            done = self._waiting.popleft().done
            if not done.done():  # a cancelled append: its entry is on disk all the same
                done.set_result(None)

    def lose(self, error: AuditWriteError) -> collections.Counter[str]:
        """Fail every waiting append (their entries are being cut away); returns their events, counted."""
        self.generation += 1
        lost: collections.Counter[str] = collections.Counter()
        while self._waiting:
            waiter = self._waiting.popleft()
            lost[waiter.event] += 1
            if not waiter.done.done():
                waiter.done.set_exception(error)
        return lost

    async def fsync(self, fd: int) -> None:
        """fsync the file open at `fd` in the worker thread, through a descriptor of its own so that a
        rotation may close `fd` meanwhile. The descriptor is opened anew rather than duplicated: a
        duplicate shares its file's record of write errors already reported, and an error reported to
        an fsync on `fd` would then not be reported to this one. Raises OSError."""
        own = os.open(f"/proc/self/fd/{fd}", os.O_RDONLY | os.O_CLOEXEC)
        try:
            await asyncio.get_running_loop().run_in_executor(self._executor, os.fsync, own)
        finally:
            os.close(own)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
