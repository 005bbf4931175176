"""Auth-failure throttling: a client address with `limit` failed authentications within a window is
refused (429) until the window closes, whatever key it presents next."""

from __future__ import annotations

from gateway.edge.limits import LimitBackend, WindowCount


class AuthFailureThrottle:
    def __init__(self, *, backend: LimitBackend, limit: int, window_s: float) -> None:
        self._backend = backend
        self._limit = limit
        self._window_s = window_s

    async def blocked_for(self, client_ip: str) -> float | None:
        """Seconds until `client_ip` may try again, or None when it is not throttled."""
        window = await self._backend.peek(_key(client_ip))
        return window.reset_in_s if window.count >= self._limit else None

    async def record_failure(self, client_ip: str) -> WindowCount:
        return await self._backend.count_event(_key(client_ip), self._window_s)


def _key(client_ip: str) -> str:
    return f"authfail:{client_ip}"
