"""``POST /branches``: a new branch ref in the bare repository (``repo.CreateBranch`` in Gitea).

The start point is ``old_ref_name`` (a branch, tag or commit), else ``old_branch_name`` (a branch), else
the default branch. A name that is taken, or that clashes with a branch path (``a`` vs ``a/b``) or a tag,
is a 409; the ref is created with ``update-ref`` against the all-zero id, so it never replaces one.
As in Gitea, whose branch creation is a push, it is a ``create`` and a ``push`` webhook event.

Example::

    Route("/api/v1/repos/{owner}/{repo}/branches", create_branch, methods=["POST"])
"""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response

from ._access import require_unarchived
from ._bind import Field, Form, FormSpec, bind
from ._context import json_response, open_call
from ._errors import ApiError
from ._git import Commit, ObjectReader
from ._git_write import ZERO_SHA, ref_names, update_ref
from ._hook_events import branch_pushed
from ._render_git import branch_json
from ._store import Repo
from ._writes import write_lock

__all__ = ["create_branch"]

CREATE_BRANCH = FormSpec(
    "CreateBranchRepoOption",
    (
        Field("new_branch_name", "BranchName", "string", ("Required", "GitRefName", "MaxSize(100)")),
        Field("old_branch_name", "OldBranchName", "string", ("GitRefName", "MaxSize(100)")),
        Field("old_ref_name", "OldRefName", "string", ("GitRefName", "MaxSize(100)")),
    ),
)
_OLD_BRANCH_MISSING = "The old branch does not exist"


async def _start_point(objects: ObjectReader, repo: Repo, form: Form) -> Commit:
    """The commit the new branch starts at; 404 when the named ref does not exist."""
    old_ref, old_branch = form.text("old_ref_name"), form.text("old_branch_name")
    if old_ref:
        commit = await objects.commit(old_ref)
        if commit is None:
            raise ApiError(404, f"object does not exist [id: {old_ref}, rel_path: ]")
        return commit
    commit = await objects.commit(f"refs/heads/{old_branch or repo.default_branch}")
    if commit is None:
        raise ApiError(404, _OLD_BRANCH_MISSING)
    return commit


async def _check_name(git_dir: Path, name: str) -> None:
    """``checkBranchName``: the first ref (in git's order) that the new name would clash with is a 409."""
    for ref in await ref_names(git_dir):
        short = ref.removeprefix("refs/heads/")
        if ref.startswith("refs/heads/") and short == name:
            raise ApiError(409, "The branch already exists.")
        if ref.startswith("refs/heads/") and (short.startswith(f"{name}/") or name.startswith(f"{short}/")):
            raise ApiError(409, "The branch with the same name already exists.")
        if ref == f"refs/tags/{name}":
            raise ApiError(409, "The branch with the same tag already exists.")


async def create_branch(request: Request) -> Response:
    """``POST /branches``: 201 Branch."""
    call = open_call(request)
    repo, permission = call.repo("repository")
    principal = call.signed()
    if not permission.push:
        raise ApiError(403, "user should have a permission to write to a repo")
    require_unarchived(repo)
    form = await bind(request, CREATE_BRANCH)
    if repo.empty:
        raise ApiError(404, "Git Repository is empty.")
    name = form.text("new_branch_name")
    git_dir = call.git_dir(repo)
    async with write_lock(), ObjectReader.open(git_dir) as objects:
        start = await _start_point(objects, repo, form)
        await _check_name(git_dir, name)
        if not await update_ref(git_dir, f"refs/heads/{name}", start.sha, ZERO_SHA):
            raise ApiError(409, "The branch already exists.")
        await branch_pushed(call, repo, principal.user, branch=name, before=ZERO_SHA, after=start.sha)
    return json_response(branch_json(call.site, call.metadata, repo, name, start, permission), status=201)
