"""Handlers for the version, repository listing and lookup, and branch endpoints.

Example::

    Route("/api/v1/repos/{owner}/{repo}", get_repo)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from ._access import require_signed
from ._context import Call, json_response, open_call
from ._errors import ApiError
from ._git import ObjectReader, list_refs
from ._pagination import ListOptions, form_int
from ._refs import is_valid_ref_pattern
from ._render import repo_json
from ._render_git import branch_json
from ._store import Repo

__all__ = [
    "GITEA_VERSION",
    "get_branch",
    "get_repo",
    "get_version",
    "list_branches",
    "list_my_repos",
    "search_repos",
]

GITEA_VERSION: Final = "1.26.4"

_SORT_KEYS: Final[dict[str, Callable[[Repo], Any]]] = {
    "alpha": lambda repo: (repo.owner.lower(), repo.name.lower(), repo.id),
    "created": lambda repo: (repo.created_at, repo.id),
    "updated": lambda repo: (repo.updated_at, repo.id),
    "size": lambda repo: (repo.size, repo.id),
    "git_size": lambda repo: (repo.size, repo.id),
    "lfs_size": lambda repo: repo.id,
    "id": lambda repo: repo.id,
    "stars": lambda repo: repo.id,
    "forks": lambda repo: repo.id,
}


async def get_version(request: Request) -> Response:
    open_call(request)
    return json_response({"version": GITEA_VERSION})


def _repo_page(
    call: Call, repos: list[Repo], options: ListOptions
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    data = []
    for repo in options.slice(repos):
        permission = call.permission(repo)
        assert permission is not None
        data.append(repo_json(call.site, call.metadata, repo, permission, call.doer))
    headers = call.list_headers(total=len(repos), page_size=options.size, raw_page=options.raw_page)
    return data, headers


def _sorted(call: Call, repos: list[Repo]) -> list[Repo]:
    mode = call.query.get("sort", "")
    if not mode:
        return sorted(repos, key=_SORT_KEYS["alpha"])
    order = call.query.get("order", "") or "asc"
    if order not in ("asc", "desc"):
        raise ApiError(422, f'Invalid sort order: "{order}"')
    if mode not in _SORT_KEYS:
        raise ApiError(422, f'Invalid sort mode: "{mode}"')
    return sorted(repos, key=_SORT_KEYS[mode], reverse=order == "desc")


def _involves(repo: Repo, user_id: int, call: Call, *, exclusive: bool) -> bool:
    owner = call.metadata.user(repo.owner)
    if owner is not None and owner.id == user_id:
        return True
    if exclusive:
        return False
    logins = {login.lower() for login in repo.collaborators}
    return any(user.id == user_id and user.login.lower() in logins for user in call.metadata.users)


def _searched(call: Call, repo: Repo) -> bool:
    """The search filters: ``q`` (name, or description with ``includeDesc``), ``is_private``, ``uid``."""
    if "is_private" in call.query and repo.private != call.flag("is_private", default=False):
        return False
    keyword = call.query.get("q", "").strip().lower()
    in_description = call.flag("includeDesc", default=False) and keyword in repo.description.lower()
    if keyword and keyword not in repo.name.lower() and not in_description:
        return False
    uid = form_int(call.query, "uid")
    return uid <= 0 or _involves(repo, uid, call, exclusive=call.flag("exclusive", default=False))


async def search_repos(request: Request) -> Response:
    """``GET /repos/search``: the repositories the caller can see, matching ``q`` and the filters."""
    call = open_call(request)
    call.require_scope("repository")
    options = ListOptions.from_query(call.query)
    include_private = call.principal is not None and call.flag("private", default=True)
    if call.principal is not None and call.principal.public_only:
        include_private = False
    repos = [
        repo
        for repo in call.metadata.repos
        if call.permission(repo) is not None
        and (include_private or not repo.private)
        and _searched(call, repo)
    ]
    data, headers = _repo_page(call, _sorted(call, repos), options)
    return json_response({"ok": True, "data": data}, headers=headers)


async def list_my_repos(request: Request) -> Response:
    """``GET /user/repos``: what the caller owns or collaborates on (read:user and read:repository needed)."""
    call = open_call(request)
    call.require_scope("user")
    principal = require_signed(call.principal)
    call.require_scope("repository")
    login = principal.user.login.lower()
    repos = [
        repo
        for repo in call.metadata.repos
        if repo.owner.lower() == login or login in {name.lower() for name in repo.collaborators}
    ]
    if principal.public_only:
        repos = [repo for repo in repos if not repo.private]
    data, headers = _repo_page(call, _sorted(call, repos), ListOptions.from_query(call.query))
    return json_response(data, headers=headers)


async def get_repo(request: Request) -> Response:
    call = open_call(request)
    repo, permission = call.repo("repository")
    return json_response(repo_json(call.site, call.metadata, repo, permission, call.doer))


async def list_branches(request: Request) -> Response:
    """``GET /repos/{owner}/{repo}/branches``: newest head commit first, then by name (Gitea's order)."""
    call = open_call(request)
    repo, permission = call.repo("repository")
    options = ListOptions.from_query(call.query)
    git_dir = call.git_dir(repo)
    refs = [] if repo.empty else await list_refs(git_dir, "refs/heads/")
    refs.sort(key=lambda ref: (-ref[2], ref[0]))
    data = []
    async with ObjectReader.open(git_dir) as objects:
        for name, sha, _ in options.slice(refs):
            commit = await objects.commit(sha)
            if commit is not None:
                data.append(branch_json(call.site, call.metadata, repo, name, commit, permission))
    headers = call.list_headers(total=len(refs), page_size=options.size, raw_page=options.raw_page)
    return json_response(data, headers=headers)


async def get_branch(request: Request) -> Response:
    call = open_call(request)
    repo, permission = call.repo("repository")
    name = request.path_params["branch"]
    commit = None
    if is_valid_ref_pattern(name) and not repo.empty:
        async with ObjectReader.open(call.git_dir(repo)) as objects:
            commit = await objects.commit(f"refs/heads/{name}")
    if commit is None:
        raise ApiError.not_found(errors=[f"branch does not exist [name: {name}]"])
    return json_response(branch_json(call.site, call.metadata, repo, name, commit, permission))
