"""Child processes that cannot outlive the gateway."""

from __future__ import annotations

import contextlib
import ctypes
import signal

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    """Run in a child before exec (`preexec_fn`): the kernel sends it SIGTERM when its parent dies, however
    the parent dies (uvicorn re-raises SIGTERM after shutdown, so `finally` blocks cannot be relied on)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
