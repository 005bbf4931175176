"""Handlers for raw diffs and patches: a commit's (``repoDownloadCommitDiffOrPatch``) and a pull
request's (``repoDownloadPullDiffOrPatch``), the text git writes, sniffed like Gitea's answers.

Example::

    Route("/api/v1/repos/{owner}/{repo}/git/commits/{sha}.{diff_type:diff_type}", get_commit_diff)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ._context import bytes_response, open_call
from ._errors import ApiError
from ._git import ObjectReader, commit_diff, range_diff
from ._routes_pulls import path_pull, pull_state

__all__ = ["get_commit_diff", "get_pull_diff"]


async def get_commit_diff(request: Request) -> Response:
    """``GET /git/commits/{sha}.diff|.patch``: any revision git resolves; 404 naming it otherwise."""
    call = open_call(request)
    repo, _ = call.repo("repository")
    name = request.path_params["sha"]
    git_dir = call.git_dir(repo)
    async with ObjectReader.open(git_dir) as objects:
        commit = await objects.commit(name)
    if commit is None:
        raise ApiError.not_found(name)
    patch = request.path_params["diff_type"] == "patch"
    return bytes_response(await commit_diff(git_dir, commit, patch=patch))


async def get_pull_diff(request: Request) -> Response:
    """``GET /pulls/{index}.diff|.patch``: the pull request from its merge base to its head; ``binary``
    adds binary changes to a diff."""
    call = open_call(request)
    repo, _ = call.repo("repository")
    issue = path_pull(repo, request)
    state = await pull_state(call, repo, issue)
    data = await range_diff(
        call.git_dir(repo),
        state.diff_base,
        state.head_sha,
        patch=request.path_params["diff_type"] == "patch",
        binary=call.flag("binary", default=False),
    )
    return bytes_response(data)
