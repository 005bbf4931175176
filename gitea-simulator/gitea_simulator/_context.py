"""What every handler needs about the request it serves: metadata, caller, site URL, JSON and byte answers.

Example::

    call = open_call(request)
    repo, permission = call.repo("repository")      # write scope checked for POST, PUT, PATCH, DELETE
    return json_response(repo_json(call.site, call.metadata, repo, permission, call.doer))
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from ._access import (
    Permission,
    Principal,
    authenticate,
    repo_permission,
    require_scope,
    require_signed,
    require_unarchived,
    visible_repo,
)
from ._hook_delivery import HookSender
from ._pagination import list_headers
from ._store import Metadata, MetadataStore, Repo, User
from ._urls import Site

__all__ = [
    "JSON_MEDIA_TYPE",
    "WRITE_METHODS",
    "Call",
    "SimulatorState",
    "bytes_response",
    "json_response",
    "open_call",
    "site_of",
]

JSON_MEDIA_TYPE = "application/json;charset=utf-8"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})  # Gitea asks these for write scopes


@dataclass(frozen=True, slots=True)
class SimulatorState:
    """Held in ``app.state.simulator``: where the state lives, its metadata store, the webhook sender."""

    state_dir: Path
    store: MetadataStore
    hooks: HookSender


def site_of(request: Request) -> Site:
    return Site(str(request.base_url))


def json_response(data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return Response(body, status_code=status, headers=dict(headers or {}), media_type=JSON_MEDIA_TYPE)


def _sniffed_media_type(data: bytes) -> str:
    """Text when the first KiB has no NUL and the whole is UTF-8, else binary (close to Go's sniffing)."""
    if b"\0" in data[:1024]:
        return "application/octet-stream"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain; charset=utf-8"


def bytes_response(data: bytes, *, headers: Mapping[str, str] | None = None) -> Response:
    """Raw bytes (a file, a diff) with the media type Gitea's content sniffing gives them."""
    return Response(data, headers=dict(headers or {}), media_type=_sniffed_media_type(data))


def _first_values(request: Request) -> dict[str, str]:
    """Go's ``FormString``: the first value of each query parameter."""
    values: dict[str, str] = {}
    for key, value in request.query_params.multi_items():
        values.setdefault(key, value)
    return values


@dataclass(frozen=True, slots=True)
class Call:
    request: Request
    state_dir: Path
    store: MetadataStore
    metadata: Metadata
    principal: Principal | None
    site: Site
    query: Mapping[str, str]
    hooks: HookSender

    @property
    def doer(self) -> User | None:
        return self.principal.user if self.principal else None

    def require_scope(self, *categories: str) -> None:
        require_scope(self.principal, *categories, write=self.request.method in WRITE_METHODS)

    def signed(self) -> Principal:
        """Gitea's ``reqToken``: the caller, or 401 for an anonymous request."""
        return require_signed(self.principal)

    def writable_repo(self, category: str) -> tuple[Repo, Permission, Principal]:
        """A write route's first checks, in Gitea's order: the scope and the repository (``repo``), a
        signed-in caller (``reqToken``), a repository that is not archived (``mustNotBeArchived``)."""
        repo, permission = self.repo(category)
        principal = self.signed()
        require_unarchived(repo)
        return repo, permission, principal

    def repo(self, category: str) -> tuple[Repo, Permission]:
        """The repository of the route's ``{owner}/{repo}``, after the scope check Gitea does first."""
        self.require_scope(category)
        repo = visible_repo(
            self.metadata,
            self.request.path_params["owner"],
            self.request.path_params["repo"],
            self.principal,
            category,
        )
        permission = repo_permission(repo, self.principal)
        assert permission is not None
        return repo, permission

    def permission(self, repo: Repo) -> Permission | None:
        return repo_permission(repo, self.principal)

    def git_dir(self, repo: Repo) -> Path:
        return repo.git_dir(self.state_dir)

    def flag(self, name: str, *, default: bool) -> bool:
        """Go's ``FormBool`` (``strconv.ParseBool``), or ``default`` when the parameter is absent or empty."""
        raw = self.query.get(name, "")
        if not raw:
            return default
        return raw in ("1", "t", "T", "TRUE", "true", "True")

    def optional_flag(self, name: str) -> bool | None:
        """Go's ``FormOptionalBool``: None when the parameter is absent or empty, else its ``flag`` value
        (false when it does not parse, as Gitea ignores the parse error)."""
        return self.flag(name, default=False) if self.query.get(name, "") else None

    def values(self, name: str) -> list[str]:
        """Go's ``FormStrings``: every value of a repeated query parameter, in order."""
        return self.request.query_params.getlist(name)

    def list_headers(self, *, total: int, page_size: int, raw_page: int) -> dict[str, str]:
        return list_headers(
            str(self.request.url),
            app_url=self.site.app_url,
            total=total,
            page_size=page_size,
            raw_page=raw_page,
        )


def open_call(request: Request) -> Call:
    """Authenticate the request (401 for an unknown token) against the metadata as it is now on disk."""
    state: SimulatorState = request.app.state.simulator
    metadata = state.store.current()
    query = _first_values(request)
    principal = authenticate(metadata, request.headers, query)
    return Call(
        request=request,
        state_dir=state.state_dir,
        store=state.store,
        metadata=metadata,
        principal=principal,
        site=site_of(request),
        query=query,
        hooks=state.hooks,
    )
