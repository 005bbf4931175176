"""Handlers that create, update and delete one file with a real commit (``repo.CreateFile`` etc. in Gitea).

Each change follows ``files.ChangeRepoFiles``: the base branch must exist, the path is cleaned and must
not name ``.git``, a new branch must not exist yet, an update or delete must name the current blob
``sha``, and the commit (authored and committed by the caller, now) moves the branch with ``update-ref``
against the commit it was built on; if another writer moved the branch meanwhile, the change is rebuilt
on the new head (a few times, then 409). ``force_push`` is refused: this simulator never rewrites history.
``PUT`` without a ``sha`` creates the file, as Gitea 1.26 does. Each commit is a ``push`` webhook event
(after a ``create`` for a ``new_branch``, before ``synchronized`` for the pull requests it heads).

Example::

    Route("/api/v1/repos/{owner}/{repo}/contents/{filepath:path}", create_file, methods=["POST"])
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from ._access import require_unarchived
from ._bind import Field, Form, FormSpec, bind
from ._contents import file_document
from ._context import Call, json_response, open_call
from ._errors import ApiError
from ._git import Commit, ObjectReader
from ._git_write import ZERO_SHA, Identity, IndexEntry, build_tree, commit_tree, update_ref, write_blob
from ._gobase64 import std_decode
from ._hook_events import branch_pushed
from ._paths import clean_tree_path
from ._refs import RefCommit
from ._render_git import UNSIGNED, file_commit_json
from ._store import Repo, User
from ._writes import now, write_lock

__all__ = ["create_file", "delete_file", "update_file"]

_FILE_OPTIONS: Final = (
    Field("message", "Message", "string"),
    Field("branch", "BranchName", "string", ("GitRefName", "MaxSize(100)")),
    Field("new_branch", "NewBranchName", "string", ("GitRefName", "MaxSize(100)")),
    Field("author", "Author", "any"),
    Field("committer", "Committer", "any"),
    Field("dates", "Dates", "any"),
    Field("signoff", "Signoff", "bool"),
    Field("force_push", "ForcePush", "bool"),
)
CREATE_FILE = FormSpec("CreateFileOptions", (*_FILE_OPTIONS, Field("content", "ContentBase64", "string")))
UPDATE_FILE = FormSpec(
    "UpdateFileOptions",
    (
        *_FILE_OPTIONS,
        Field("sha", "SHA", "string"),
        Field("content", "ContentBase64", "string"),
        Field("from_path", "FromPath", "string", ("MaxSize(500)",)),
    ),
)
DELETE_FILE = FormSpec("DeleteFileOptions", (*_FILE_OPTIONS, Field("sha", "SHA", "string", ("Required",))))
_ATTEMPTS: Final = 3
_YOU_ARE: Final = "you\u2019re"  # Gitea's texts use a typographic apostrophe
_VERBS: Final = {"create": "Add", "update": "Update", "delete": "Delete"}  # locale repo.editor.*


@dataclass(frozen=True, slots=True)
class _Change:
    operation: str  # create | update | delete
    raw_path: str  # as given, for Gitea's default message and error texts
    path: str  # cleaned
    content: bytes = b""
    sha: str = ""


def _git_identity(user: User) -> Identity:
    """``User.NewGitSig``: the full name (else the login) and the e-mail (else the placeholder)."""
    name = user.full_name.replace("\n", "").replace("<", "").replace(">", "").strip() or user.login
    return Identity(name=name, email=user.email or f"{user.login.lower()}@noreply.localhost", when=now())


async def _old_entry(objects: ObjectReader, head: Commit, change: _Change) -> str:
    """The mode the change keeps, after checking ``sha`` against the file's current blob."""
    if change.operation == "create":
        return "100644"
    entry = await objects.entry(head, change.path)
    if entry is None:
        raise ApiError(404, f"object does not exist [id: , rel_path: {change.path}]")
    if change.sha != entry.sha:
        raise ApiError(422, f"sha does not match [given: {change.sha}, expected: {entry.sha}]")
    return "100755" if entry.mode == "100755" else "100644"


async def _check_target(objects: ObjectReader, head: Commit, change: _Change) -> None:
    """No file or link may stand where a directory of the path goes, nor a directory at the path."""
    parts = change.path.split("/")
    for index in range(len(parts)):
        sub = "/".join(parts[: index + 1])
        entry = await objects.entry(head, sub)
        if entry is None:
            return
        where = f"[path: {sub}]"
        if index < len(parts) - 1:
            if not entry.is_dir:
                raise ApiError(422, f"a file exists where {_YOU_ARE} trying to create a subdirectory {where}")
        elif entry.is_symlink:
            raise ApiError(
                422, f"a symbolic link exists where {_YOU_ARE} trying to create a subdirectory {where}"
            )
        elif entry.is_dir:
            raise ApiError(422, f"a directory exists where {_YOU_ARE} trying to create a file {where}")
        elif change.operation == "create":
            raise ApiError(422, f"repository file already exists [path: {change.path}]")


async def _commit(
    git_dir: Path, objects: ObjectReader, head: Commit, change: _Change, message: str, author: User
) -> str:
    """A commit on ``head`` making the change (not on any branch yet), after Gitea's checks."""
    mode = await _old_entry(objects, head, change)
    blob = None
    if change.operation != "delete":
        await _check_target(objects, head, change)
        blob = await write_blob(git_dir, change.content)
    tree = await build_tree(git_dir, head.sha, [IndexEntry(change.path, blob, mode)])
    return await commit_tree(git_dir, tree, [head.sha], message, _git_identity(author))


def _branches(repo: Repo, form: Form) -> tuple[str, str]:
    old = form.text("branch") or repo.default_branch
    return old, form.text("new_branch") or old


async def _apply(call: Call, repo: Repo, form: Form, change: _Change) -> dict[str, Any]:
    """``ChangeRepoFiles`` for one file: the FileResponse (its ``content`` None for a delete)."""
    author = call.signed().user
    old, new = _branches(repo, form)
    message = form.text("message") or f"{_VERBS[change.operation]} {change.raw_path}"
    message = message.strip() + "\n"
    git_dir = call.git_dir(repo)
    async with write_lock(), ObjectReader.open(git_dir) as objects:
        for _ in range(_ATTEMPTS):
            head = await objects.commit(f"refs/heads/{old}")
            if head is None:
                raise ApiError(404, f"branch does not exist [repo_id: {repo.id} name: {old}]")
            if not change.path:
                raise ApiError(422, f"path contains a malformed path component [path: {change.raw_path}]")
            if new != old and await objects.commit(f"refs/heads/{new}") is not None:
                raise ApiError(422, f"branch already exists [name: {new}]")
            sha = await _commit(git_dir, objects, head, change, message, author)
            before = head.sha if new == old else ZERO_SHA
            if await update_ref(git_dir, f"refs/heads/{new}", sha, before):
                break
        else:
            raise ApiError(409, f"branch {new} kept moving during the change; try again")
        await branch_pushed(call, repo, author, branch=new, before=before, after=sha)
        commit = await objects.commit(sha)
        assert commit is not None
        content = None
        entry = await objects.entry(commit, change.path)
        if entry is not None:
            ref = RefCommit(input_ref=new, kind="branch", name=new, commit=commit)
            content = await file_document(call, repo, objects, ref, change.path, entry)
    return {
        "content": content,
        "commit": file_commit_json(call.site, repo, commit),
        "verification": dict(UNSIGNED),
    }


async def _prepare(request: Request, spec: FormSpec) -> tuple[Call, Repo, Form]:
    """Scope, repository, token, body, permission, archive state and ``force_push``, in Gitea's order."""
    call = open_call(request)
    repo, permission = call.repo("repository")
    call.signed()
    form = await bind(request, spec)
    if not permission.push:
        raise ApiError(403, "user should have a permission to write to the target branch")
    require_unarchived(repo)
    if form.flag("force_push"):
        raise ApiError(422, "force push is not supported by this simulator")
    return call, repo, form


def _content(form: Form) -> bytes:
    try:
        return std_decode(form.text("content"))
    except ValueError as exc:
        raise ApiError(422, str(exc)) from None


def _change(request: Request, operation: str, **values: Any) -> _Change:
    raw = request.path_params["filepath"]
    return _Change(operation, raw, clean_tree_path(raw) or "", **values)


async def create_file(request: Request) -> Response:
    """``POST /contents/{filepath}``: 201 FileResponse; 422 when the file exists."""
    call, repo, form = await _prepare(request, CREATE_FILE)
    change = _change(request, "create", content=_content(form))
    return json_response(await _apply(call, repo, form, change), status=201)


async def update_file(request: Request) -> Response:
    """``PUT /contents/{filepath}``: 200 FileResponse; without ``sha`` a create (201), as in Gitea 1.26."""
    call, repo, form = await _prepare(request, UPDATE_FILE)
    sha = form.text("sha")
    from_path = form.text("from_path")
    if from_path and clean_tree_path(from_path) != clean_tree_path(request.path_params["filepath"]):
        raise ApiError(422, "from_path (moving a file) is not supported by this simulator")
    change = _change(request, "update" if sha else "create", content=_content(form), sha=sha)
    status = 200 if sha else 201
    return json_response(await _apply(call, repo, form, change), status=status)


async def delete_file(request: Request) -> Response:
    """``DELETE /contents/{filepath}``: 200 FileDeleteResponse (``content`` null)."""
    call, repo, form = await _prepare(request, DELETE_FILE)
    change = _change(request, "delete", sha=form.text("sha"))
    return json_response(await _apply(call, repo, form, change))
