"""The Starlette application serving Gitea's API v1 from a state directory.

Example::

    app = create_app(Path("/tmp/gitea-state"))
    app.state.requests        # every request received, in order (RecordedRequest)
"""

from __future__ import annotations

import logging
from pathlib import Path

from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ._context import SimulatorState, json_response, site_of
from ._errors import ApiError, SimulatorError
from ._hook_delivery import DEFAULT_DELIVER_TIMEOUT, HookSender
from ._recorder import RecordedRequest, RequestRecorder
from ._routes_branch_writes import create_branch
from ._routes_commits import get_commit, list_commits
from ._routes_compare import compare
from ._routes_diffs import get_commit_diff, get_pull_diff
from ._routes_file_writes import create_file, delete_file, update_file
from ._routes_files import get_blob, get_contents, get_contents_ext, get_raw, get_tree
from ._routes_hooks import (
    create_repo_hook,
    create_system_hook,
    delete_repo_hook,
    delete_system_hook,
    get_repo_hook,
    get_system_hook,
    list_hook_deliveries,
    list_repo_hooks,
    list_system_hooks,
)
from ._routes_issue_writes import create_comment, create_issue, edit_issue
from ._routes_issues import get_issue, list_issues
from ._routes_labels import add_issue_labels, clear_issue_labels, delete_issue_label, list_labels
from ._routes_pull_writes import create_pull
from ._routes_pulls import get_pull, list_pull_files, list_pulls
from ._routes_releases import list_releases, list_tags
from ._routes_repos import get_branch, get_repo, get_version, list_branches, list_my_repos, search_repos
from ._store import MetadataStore

__all__ = ["create_app"]

_log = logging.getLogger("gitea_simulator")


class _DiffTypeConvertor(Convertor[str]):
    """Gitea's ``{diffType:diff|patch}`` path segment."""

    regex = "diff|patch"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("diff_type", _DiffTypeConvertor())

_REPO = "/api/v1/repos/{owner}/{repo}"
_FILE = f"{_REPO}/contents/{{filepath:path}}"
_ISSUE = f"{_REPO}/issues/{{index}}"
_PULL = f"{_REPO}/pulls/{{index}}"
ROUTES = [
    Route("/api/v1/version", get_version),
    Route("/api/v1/repos/search", search_repos),
    Route("/api/v1/user/repos", list_my_repos),
    Route(_REPO, get_repo),
    Route(f"{_REPO}/branches", list_branches),
    Route(f"{_REPO}/branches", create_branch, methods=["POST"]),
    Route(f"{_REPO}/branches/{{branch:path}}", get_branch),
    Route(f"{_REPO}/git/trees/{{sha:path}}", get_tree),
    Route(f"{_REPO}/git/blobs/{{sha}}", get_blob),
    Route(f"{_REPO}/git/commits/{{sha}}.{{diff_type:diff_type}}", get_commit_diff),  # before {sha}
    Route(f"{_REPO}/git/commits/{{sha:path}}", get_commit),  # a ref's `/` arrives as %2F
    Route(f"{_REPO}/compare/{{basehead:path}}", compare),
    Route(f"{_REPO}/tags", list_tags),
    Route(f"{_REPO}/releases", list_releases),
    Route(f"{_REPO}/contents", get_contents),
    Route(f"{_REPO}/contents-ext/{{filepath:path}}", get_contents_ext),
    Route(_FILE, get_contents),
    Route(_FILE, create_file, methods=["POST"]),
    Route(_FILE, update_file, methods=["PUT"]),
    Route(_FILE, delete_file, methods=["DELETE"]),
    Route(f"{_REPO}/raw/{{filepath:path}}", get_raw),
    Route(f"{_REPO}/commits", list_commits),
    Route(f"{_REPO}/labels", list_labels),
    Route(f"{_REPO}/issues", list_issues),
    Route(f"{_REPO}/issues", create_issue, methods=["POST"]),
    Route(_ISSUE, get_issue),
    Route(_ISSUE, edit_issue, methods=["PATCH"]),
    Route(f"{_ISSUE}/comments", create_comment, methods=["POST"]),
    Route(f"{_ISSUE}/labels", add_issue_labels, methods=["POST"]),
    Route(f"{_ISSUE}/labels", clear_issue_labels, methods=["DELETE"]),
    Route(f"{_ISSUE}/labels/{{id}}", delete_issue_label, methods=["DELETE"]),
    Route(f"{_REPO}/pulls", list_pulls),
    Route(f"{_REPO}/pulls", create_pull, methods=["POST"]),
    Route(f"{_PULL}.{{diff_type:diff_type}}", get_pull_diff),  # before {index}
    Route(_PULL, get_pull),
    Route(f"{_PULL}/files", list_pull_files),
    Route(f"{_REPO}/hooks", list_repo_hooks),
    Route(f"{_REPO}/hooks", create_repo_hook, methods=["POST"]),
    Route(f"{_REPO}/hooks/{{id}}", get_repo_hook),
    Route(f"{_REPO}/hooks/{{id}}", delete_repo_hook, methods=["DELETE"]),
    Route("/api/v1/admin/hooks", list_system_hooks),
    Route("/api/v1/admin/hooks", create_system_hook, methods=["POST"]),
    Route("/api/v1/admin/hooks/{id}", get_system_hook),
    Route("/api/v1/admin/hooks/{id}", delete_system_hook, methods=["DELETE"]),
    Route("/_simulator/hook_deliveries", list_hook_deliveries),  # test-only, not Gitea's
]


async def _api_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return json_response(exc.body(site_of(request).swagger_url), status=exc.status)


async def _simulator_error(request: Request, exc: Exception) -> Response:
    _log.error("simulator failure on %s %s: %s", request.method, request.url.path, exc)
    return json_response({"message": "", "url": site_of(request).swagger_url}, status=500)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        return json_response(ApiError.not_found().body(site_of(request).swagger_url), status=404)
    body = {"message": exc.detail, "url": site_of(request).swagger_url}
    return json_response(body, status=exc.status_code, headers=exc.headers)


async def _internal_error(request: Request, exc: Exception) -> Response:
    """A bug: Gitea's production answer (empty message); the exception itself goes to the server log."""
    return json_response({"message": "", "url": site_of(request).swagger_url}, status=500)


def create_app(
    state_dir: Path, *, request_log: Path | None = None, hook_timeout: float = DEFAULT_DELIVER_TIMEOUT
) -> Starlette:
    """A Gitea 1.26 API simulator over ``state_dir`` (see ``seed_demo`` for its layout).

    The read endpoints and a set of writes (issues, comments, labels, branches, files, pull requests,
    webhooks) exist; anything else answers like Gitea does for an unknown route or method. Every request
    is recorded with the status answered in ``app.state.requests`` and, with ``request_log``, appended to
    that file. Webhooks are delivered by a worker thread within ``hook_timeout`` seconds each, and
    recorded in ``app.state.simulator.hooks.deliveries()``.
    """
    requests: list[RecordedRequest] = []
    app = Starlette(
        routes=ROUTES,
        middleware=[Middleware(RequestRecorder, sink=requests, log_file=request_log)],
        exception_handlers={
            ApiError: _api_error,
            SimulatorError: _simulator_error,
            HTTPException: _http_error,
            Exception: _internal_error,
        },
    )
    app.router.redirect_slashes = False
    app.state.requests = requests
    app.state.simulator = SimulatorState(
        state_dir=state_dir, store=MetadataStore(state_dir), hooks=HookSender(timeout=hook_timeout)
    )
    return app
