"""Handlers for commit listing and single commits.

Example::

    Route("/api/v1/repos/{owner}/{repo}/commits", list_commits)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from ._context import Call, json_response, open_call
from ._errors import ApiError
from ._git import Commit, ObjectReader, commit_changes, run_git
from ._pagination import ListOptions, add_page_headers
from ._refs import is_valid_ref_pattern
from ._render_git import CommitOptions, commit_json
from ._store import Repo

__all__ = ["commit_documents", "commit_options", "get_commit", "list_commits", "rev_list"]

COMMITS_RANGE_SIZE: Final = 50  # setting.Git.CommitsRangeSize


async def rev_list(git_dir: Path, *args: str) -> list[str]:
    """``git rev-list`` (pathspecs as git globs); 404 when git refuses the revisions."""
    code, stdout = await run_git(git_dir, "rev-list", *args, literal_pathspecs=False)
    if code != 0:
        raise ApiError.not_found()
    return stdout.decode("ascii").split()


async def commit_documents(
    call: Call, repo: Repo, git_dir: Path, commits: list[Commit], options: CommitOptions
) -> list[dict[str, Any]]:
    """The Commit JSON of each commit, with the files and stats ``options`` ask for."""
    changes = (
        await commit_changes(git_dir, [commit.sha for commit in commits])
        if options.files or options.stat
        else {}
    )
    return [
        commit_json(call.site, call.metadata, repo, commit, options=options, changes=changes.get(commit.sha))
        for commit in commits
    ]


def commit_options(call: Call, *, stat: bool | None = None) -> CommitOptions:
    """``convert.ParseCommitOptions``: stats (unless ``stat`` decides), files and verification unless their
    flag is false."""
    return CommitOptions(
        stat=call.flag("stat", default=True) if stat is None else stat,
        files=call.flag("files", default=True),
        verification=call.flag("verification", default=True),
    )


async def list_commits(request: Request) -> Response:
    """``GET /commits``: newest first from ``sha`` (default branch), optionally only those touching ``path``.

    As in Gitea, ``limit`` sizes the page only without ``path``; with ``path`` a page is 50 commits while
    the paging headers still use ``limit``.
    """
    call = open_call(request)
    repo, _ = call.repo("repository")
    if repo.empty:
        raise ApiError(409, "Git Repository is empty.")
    options = ListOptions.from_query(call.query)
    page_size = options.size  # already <= 50, Gitea's CommitsRangeSize
    sha, path, exclude = (call.query.get(name, "") for name in ("sha", "path", "not"))
    git_dir = call.git_dir(repo)
    async with ObjectReader.open(git_dir) as objects:
        base = await objects.commit(sha or f"refs/heads/{repo.default_branch}")
        if base is None:
            raise ApiError.not_found()
        revisions = [base.sha]
        if exclude:
            excluded = await objects.commit(exclude)
            if excluded is None:
                raise ApiError.not_found()
            revisions.append(f"^{excluded.sha}")
        pathspec = ["--", path] if path else []
        [count] = await rev_list(git_dir, "--count", *revisions, *pathspec)
        total = int(count)
        if path and total == 0:
            raise ApiError.not_found("FileCommitsCount")
        fetch = COMMITS_RANGE_SIZE if path else page_size
        shas = await rev_list(
            git_dir, f"--skip={(options.page - 1) * fetch}", f"--max-count={fetch}", *revisions, *pathspec
        )
        loaded = [await objects.commit(commit_id) for commit_id in shas]
        commits = [commit for commit in loaded if commit is not None]
    headers = call.list_headers(total=total, page_size=page_size, raw_page=options.raw_page)
    add_page_headers(headers, options, total=total, with_total=True)
    documents = await commit_documents(call, repo, git_dir, commits, commit_options(call))
    return json_response(documents, headers=headers)


async def get_commit(request: Request) -> Response:
    """``GET /git/commits/{sha}``: a commit by id or any ref name; 422 for a name that cannot be a ref."""
    call = open_call(request)
    repo, _ = call.repo("repository")
    identifier = request.path_params["sha"]
    if not is_valid_ref_pattern(identifier):
        raise ApiError(422, f"no valid ref or sha: {identifier}")
    git_dir = call.git_dir(repo)
    async with ObjectReader.open(git_dir) as objects:
        commit = await objects.commit(identifier)
    if commit is None:
        raise ApiError.not_found(identifier)
    [document] = await commit_documents(call, repo, git_dir, [commit], commit_options(call))
    return json_response(document)
