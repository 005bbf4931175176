"""``GET /compare/{basehead}``: the commits a head has over a base (``repo.CompareDiff``).

``basehead`` is ``base...head`` or ``base..head`` (both compare from the merge base, as the API does) or a
head alone; an empty base is the default branch, and so are both sides of an empty ``basehead``. Each side
is a branch, a tag or any revision git resolves (Gitea's ``detectFullRef``). The head may name this
repository's owner (``owner:head``); heads in other repositories (forks) are not simulated.

Example::

    Route("/api/v1/repos/{owner}/{repo}/compare/{basehead:path}", compare)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ._context import json_response, open_call
from ._errors import ApiError
from ._git import Commit, ObjectReader
from ._git_write import merge_base
from ._refs import resolve_revision
from ._routes_commits import commit_documents, commit_options, rev_list
from ._store import Metadata, Repo

__all__ = ["compare"]

_UNPARSED = "ParseComparePathParams"


def _split(basehead: str) -> tuple[str, str, str]:
    """``parseCompareRouter``: (base, head's ``owner[/repo]``, head); 404 for more than one separator."""
    for separator in ("...", ".."):
        parts = basehead.split(separator)
        if len(parts) > 2:
            raise ApiError.not_found(_UNPARSED)
        if len(parts) == 2:
            base, head = parts
            break
    else:
        base, head = "", basehead
    owner, colon, ref = head.partition(":")
    return (base, owner, ref) if colon else (base, "", head)


def _require_same_repo(metadata: Metadata, repo: Repo, head_repo: str) -> None:
    """A head in another repository is a 404 here: its owner or repository is unknown, or it is a fork."""
    owner, _, name = head_repo.partition("/")
    if (not owner and not name) or (owner == repo.owner and name in ("", repo.name)):
        return
    if metadata.user(owner) is None:
        raise ApiError.not_found("GetUserByName")
    raise ApiError.not_found("GetRepositoryByOwnerAndName")


async def _resolve(objects: ObjectReader, name: str) -> Commit:
    commit = await resolve_revision(objects, name)
    if commit is None:
        raise ApiError.not_found(_UNPARSED)
    return commit


async def compare(request: Request) -> Response:
    """``GET /compare/{basehead}``: Compare, the head's commits since the merge base, newest first."""
    call = open_call(request)
    repo, _ = call.repo("repository")
    basehead = request.path_params["basehead"]
    base_name, head_repo, head_name = _split(basehead) if basehead else ("", "", repo.default_branch)
    _require_same_repo(call.metadata, repo, head_repo)
    base_ref, caret, _ = base_name.partition("^")
    git_dir = call.git_dir(repo)
    async with ObjectReader.open(git_dir) as objects:
        base = await _resolve(objects, base_ref or repo.default_branch)
        head = await _resolve(objects, head_name)
        if caret:
            raise ApiError.not_found("Unsupported compare")
        common = await merge_base(git_dir, base.sha, head.sha)
        if not common:
            raise ApiError(500, "")  # Gitea: GetCompareInfo fails without a merge base
        loaded = [await objects.commit(sha) for sha in await rev_list(git_dir, f"{common}..{head.sha}")]
    commits = [commit for commit in loaded if commit is not None]
    documents = await commit_documents(call, repo, git_dir, commits, commit_options(call, stat=True))
    return json_response({"total_commits": len(commits), "commits": documents})
