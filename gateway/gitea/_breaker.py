"""A circuit breaker around Gitea: when it keeps failing, calls fail fast instead of piling up.

Closed, calls pass and `failure_threshold` consecutive failures (timeouts, connection errors, 5xx)
open it. Open, every call fails at once with UpstreamError("circuit_open") for `cooldown_s`. Then one
trial call passes (half-open): its success closes the circuit, its failure opens it again. A call that
failed for a shortage of the gateway's own (no file descriptor or memory for a socket) says nothing
about Gitea and changes nothing.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator

from gateway.errors import UpstreamError

DEFAULT_FAILURE_THRESHOLD = 5
DEFAULT_COOLDOWN_S = 30.0
# Kinds that say Gitea itself is unwell; a 404 or 403 is a healthy answer.
HEALTH_FAILURES = frozenset({"timeout", "unavailable"})
# Kinds that happened on our side before Gitea was reached: no verdict either way.
LOCAL_FAILURES = frozenset({"gateway_overloaded"})


class CircuitBreaker:
    def __init__(
        self,
        *,
        failure_threshold: int = DEFAULT_FAILURE_THRESHOLD,
        cooldown_s: float = DEFAULT_COOLDOWN_S,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[bool], None] = lambda is_open: None,
    ) -> None:
        self._threshold = failure_threshold
        self._cooldown_s = cooldown_s
        self._clock = clock
        self._on_change = on_change
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_in_flight = False

    @property
    def is_open(self) -> bool:
        return self._opened_at is not None

    @contextlib.contextmanager
    def guard(self) -> Iterator[None]:
        """Around one upstream call: refuses it while open, and records how it ended."""
        trial = self._admit()
        try:
            yield
        except UpstreamError as exc:
            if exc.kind in LOCAL_FAILURES:
                self._no_verdict(trial)
            else:
                self._record(healthy=exc.kind not in HEALTH_FAILURES)
            raise
        except BaseException:  # cancelled: no verdict on Gitea
            self._no_verdict(trial)
            raise
        else:
            self._record(healthy=True)

    def _admit(self) -> bool:
        if self._opened_at is None:
            return False
        if self._trial_in_flight or self._clock() - self._opened_at < self._cooldown_s:
            raise UpstreamError("circuit_open")
        self._trial_in_flight = True
        return True

    def _no_verdict(self, trial: bool) -> None:
        """The call said nothing about Gitea; a trial slot it held must not stay taken."""
        if trial:
            self._trial_in_flight = False

    def _record(self, *, healthy: bool) -> None:
        self._trial_in_flight = False
        if healthy:
            self._failures = 0
            if self._opened_at is not None:
                self._opened_at = None
                self._on_change(False)
            return
        self._failures += 1
        if self._opened_at is not None or self._failures >= self._threshold:
            was_open = self._opened_at is not None
            self._opened_at = self._clock()
            if not was_open:
                self._on_change(True)
