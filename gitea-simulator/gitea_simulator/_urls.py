"""The URLs and time strings Gitea puts in its answers, built the way Gitea builds them.

``Site`` is the instance's base URL (Gitea's ``AppURL``), taken from the request the simulator serves.

Example::

    site = Site("http://127.0.0.1:3000/")
    site.repo_api_url(repo)   # "http://127.0.0.1:3000/api/v1/repos/acme/app"
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final
from urllib.parse import quote, quote_plus, urlsplit

from ._store import Repo

__all__ = ["ZERO_TIME", "Site", "format_time", "path_escape", "path_escape_segments", "query_escape"]

ZERO_TIME: Final = "0001-01-01T00:00:00Z"
_SEGMENT_SAFE: Final = "$&+:=@"


def path_escape(segment: str) -> str:
    """Go's ``url.PathEscape``."""
    return quote(segment, safe=_SEGMENT_SAFE)


def path_escape_segments(path: str) -> str:
    """Gitea's ``util.PathEscapeSegments``: each segment escaped, slashes kept."""
    return "/".join(path_escape(segment) for segment in path.split("/"))


def query_escape(value: str) -> str:
    """Go's ``url.QueryEscape``."""
    return quote_plus(value, safe="")


def format_time(when: datetime) -> str:
    """Go's RFC 3339 rendering of a time: ``Z`` for a zero offset, ``+hh:mm`` otherwise."""
    text = when.isoformat(timespec="seconds")
    return text[:-6] + "Z" if when.utcoffset() == timedelta(0) else text


@dataclass(frozen=True, slots=True)
class Site:
    app_url: str  # ends with "/"

    @property
    def host(self) -> str:
        return urlsplit(self.app_url).hostname or "localhost"

    @property
    def swagger_url(self) -> str:
        return f"{self.app_url}api/swagger"

    def user_html_url(self, login: str) -> str:
        return f"{self.app_url}{path_escape(login)}"

    def repo_html_url(self, repo: Repo) -> str:
        return f"{self.app_url}{path_escape(repo.owner)}/{path_escape(repo.name)}"

    def repo_api_url(self, repo: Repo) -> str:
        return f"{self.app_url}api/v1/repos/{path_escape(repo.owner)}/{path_escape(repo.name)}"

    def avatar_url(self) -> str:
        return f"{self.app_url}assets/img/avatar_default.png"
