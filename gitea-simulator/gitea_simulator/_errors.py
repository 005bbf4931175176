"""Errors answered to clients in Gitea's JSON error shape, and the simulator's own failures.

Gitea answers errors in two shapes: ``APIError`` ``{"message", "url"}`` (401, 403, 422, 400, 500) and the
``APIErrorNotFound`` map ``{"errors", "message", "url"}`` where ``errors`` is null or a list of strings.

Example::

    raise ApiError.not_found("GetContentsOrList", errors=["object does not exist [id: , rel_path: x]"])
"""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "SimulatorError"]


class SimulatorError(Exception):
    """The simulator cannot do what it was asked: a bad state directory, a failed git command, bad seed."""


class ApiError(Exception):
    """A Gitea API error answer; raised by handlers and turned into a JSON response at one boundary."""

    def __init__(
        self, status: int, message: str, *, errors: list[str] | None = None, with_errors: bool = False
    ):
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message
        self.errors = errors
        self.with_errors = with_errors

    @classmethod
    def not_found(cls, message: str = "not found", *, errors: list[str] | None = None) -> ApiError:
        """Gitea's ``ctx.APIErrorNotFound(...)``: status 404 and an ``errors`` member (null when empty)."""
        return cls(404, message, errors=errors, with_errors=True)

    def body(self, swagger_url: str) -> dict[str, Any]:
        if self.with_errors:
            return {"errors": self.errors, "message": self.message, "url": swagger_url}
        return {"message": self.message, "url": swagger_url}
