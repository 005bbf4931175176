"""Auth-failure throttling: a client address with `limit` failed authentications within a window is
refused (429) until the window closes, whatever key it presents next."""

from __future__ import annotations

from gateway.edge.limits import LimitBackend, WindowCount


class AuthFailureThrottle:
    def __init__(self, *, backend: LimitBackend, limit: int, window_s: float) -> None:
        self._backend = backend
        self._limit = limit
        self._window_s = window_s

    async def blocked_for(self, subject: str) -> float | None:
        """Seconds until `subject` may try again, or None when it is not throttled."""
        window = await self._backend.peek(_key(subject))
        return window.reset_in_s if window.count >= self._limit else None

    async def record_failure(self, subject: str) -> WindowCount:
        return await self._backend.count_event(_key(subject), self._window_s)


def _key(subject: str) -> str:
    return f"authfail:{subject}"
