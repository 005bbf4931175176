"""Handlers for repository content: contents (file or directory), raw files, git trees and git blobs.

Example::

    Route("/api/v1/repos/{owner}/{repo}/contents/{filepath:path}", get_contents)
"""

from __future__ import annotations

import asyncio
import base64
import posixpath
import re
from email.utils import formatdate
from typing import Any, Final

from starlette.requests import Request
from starlette.responses import Response

from ._contents import CONTENTS_INCLUDES, Includes, entry_extras, file_document
from ._context import Call, bytes_response, json_response, open_call
from ._errors import ApiError
from ._git import Commit, ObjectReader, TreeEntry, last_commit_sha, last_commit_shas, ls_tree
from ._pagination import form_int
from ._paths import clean_tree_path, go_path_clean
from ._refs import RefCommit, resolve_legacy_ref, resolve_ref_commit
from ._render_git import MAX_BLOB_SIZE, contents_json
from ._store import Repo
from ._urls import path_escape

__all__ = ["get_blob", "get_contents", "get_contents_ext", "get_raw", "get_tree"]

DEFAULT_GIT_TREES_PER_PAGE: Final = 1000  # setting.API.DefaultGitTreesPerPage
_OBJECT_ID_LENGTHS: Final = (40, 64)  # SHA-1 and SHA-256 (git.DefaultFeatures().SupportedObjectFormats)
_NOT_HEX: Final = re.compile(rb"[^0-9a-fA-F]")
# `lfs_metadata` adds nothing here: the simulator stores no LFS objects.
_INCLUDE_OPTIONS: Final = ("file_content", "lfs_metadata", "commit_metadata", "commit_message")


async def _commits(objects: ObjectReader, shas: set[str]) -> dict[str, Commit]:
    commits = {}
    for sha in sorted(shas):
        commit = await objects.commit(sha)
        if commit is not None:
            commits[sha] = commit
    return commits


async def _list_directory(
    call: Call,
    repo: Repo,
    objects: ObjectReader,
    ref: RefCommit,
    path: str,
    entry: TreeEntry,
    includes: Includes,
) -> list[dict[str, Any]]:
    """Every entry of the directory, never with content (``GetContentsOrList``)."""
    git_dir = call.git_dir(repo)
    entries = await objects.tree(entry.sha) or []
    history = None
    if includes.commit_metadata or includes.commit_message:
        names = [e.name for e in entries]
        history = asyncio.create_task(last_commit_shas(git_dir, ref.commit.sha, path, names))
    try:
        entries = await objects.with_sizes(entries)
        extras = []
        for child in entries:
            child_path = posixpath.join(path, child.name)
            extras.append(await entry_extras(objects, ref.commit, child_path, child))
    finally:
        last_shas = await history if history is not None else {}
    last = await _commits(objects, set(last_shas.values()))
    documents = []
    for child, extra in zip(entries, extras, strict=True):
        last_commit = last.get(last_shas.get(child.name, ""))
        documents.append(
            contents_json(
                call.site,
                repo,
                ref,
                posixpath.join(path, child.name),
                child,
                last_commit=last_commit if includes.commit_metadata else None,
                last_message=last_commit.message if last_commit and includes.commit_message else None,
                **extra,
            )
        )
    return documents


async def _contents_or_list(
    call: Call, repo: Repo, path_param: str, includes: Includes
) -> dict[str, Any] | list[dict[str, Any]]:
    """``GetContentsOrList``: a file's document, or a directory's entries (a list), at ``?ref=``."""
    ref_name = call.query.get("ref", "").strip() or repo.default_branch
    async with ObjectReader.open(call.git_dir(repo)) as objects:
        ref = await resolve_ref_commit(objects, ref_name)
        path = clean_tree_path(path_param)
        if path is None:
            raise ApiError(500, "")  # Gitea: ErrFilenameInvalid is not a "not exist" error
        entry = await objects.entry(ref.commit, path)
        if entry is None:
            raise ApiError.not_found(
                "GetContentsOrList", errors=[f"object does not exist [id: , rel_path: {path}]"]
            )
        if entry.is_dir:
            return await _list_directory(call, repo, objects, ref, path, entry, includes)
        return await file_document(call, repo, objects, ref, path, entry, includes)


async def get_contents(request: Request) -> Response:
    """``GET /contents/{filepath}`` and ``GET /contents``: a file's metadata and content, or a directory."""
    call = open_call(request)
    repo, _ = call.repo("repository")
    path = request.path_params.get("filepath", "")
    return json_response(await _contents_or_list(call, repo, path, CONTENTS_INCLUDES))


async def get_contents_ext(request: Request) -> Response:
    """``GET /contents-ext/{filepath}`` (``GetContentsExt``): ``{"file_contents": {...}}`` or
    ``{"dir_contents": [...]}``, with only the metadata unless ``includes`` names more; ``.`` or ``/`` is
    the root. An unknown include is a 400, before the ref is resolved."""
    call = open_call(request)
    repo, _ = call.repo("repository")
    path = request.path_params["filepath"]
    names = [name for name in call.query.get("includes", "").split(",") if name]
    for name in names:
        if name not in _INCLUDE_OPTIONS:
            raise ApiError(400, f'unknown include option "{name}"')
    includes = Includes(
        file_content="file_content" in names,
        commit_metadata="commit_metadata" in names,
        commit_message="commit_message" in names,
    )
    found = await _contents_or_list(call, repo, "" if path in (".", "/") else path, includes)
    if isinstance(found, list):  # `omitempty`: an empty listing is no member at all
        return json_response({"dir_contents": found} if found else {})
    return json_response({"file_contents": found})


async def _raw_blob(objects: ObjectReader, ref: RefCommit, tree_path: str) -> tuple[TreeEntry, bytes]:
    path = go_path_clean(tree_path) if tree_path else ""
    entry = None
    if path != "." and path != ".." and not path.startswith(("../", "/")):
        entry = await objects.entry(ref.commit, path)
    if entry is None:
        raise ApiError.not_found()
    if entry.is_dir or entry.is_submodule:
        raise ApiError.not_found("getBlobForEntry")
    found = await objects.read(entry.sha)
    if found is None:
        raise ApiError.not_found()
    return entry, found[1]


async def get_raw(request: Request) -> Response:
    """``GET /raw/{filepath}``: the file's bytes; ``?ref=`` or a ``{ref}/`` path prefix picks the commit."""
    call = open_call(request)
    repo, _ = call.repo("repository")
    if repo.empty:
        raise ApiError.not_found()
    git_dir = call.git_dir(repo)
    async with ObjectReader.open(git_dir) as objects:
        ref, tree_path = await resolve_legacy_ref(
            objects, request.path_params["filepath"], call.query.get("ref", "").strip(), repo.default_branch
        )
        history = asyncio.create_task(last_commit_sha(git_dir, ref.commit.sha, go_path_clean(tree_path)))
        try:
            entry, data = await _raw_blob(objects, ref, tree_path)
        finally:
            last_sha = await history
        last_commit = await objects.commit(last_sha) if last_sha else None
    headers = {
        "X-Gitea-Object-Type": "symlink" if entry.is_symlink else "file",
        "Content-Disposition": f"inline; filename*=UTF-8''{path_escape(entry.name)}",
        "X-Content-Type-Options": "nosniff",
        "Access-Control-Expose-Headers": "Content-Disposition",
        "ETag": f'"{entry.sha}"',
        "Cache-Control": "private, max-age=300",
    }
    if last_commit is not None:
        headers["Last-Modified"] = formatdate(last_commit.committer.when.timestamp(), usegmt=True)
    return bytes_response(data, headers=headers)


async def get_tree(request: Request) -> Response:
    """``GET /git/trees/{sha}``: a tree by commit, tree or tag id or any name git resolves; 400 otherwise."""
    call = open_call(request)
    repo, _ = call.repo("repository")
    sha = request.path_params["sha"]
    if not sha:
        raise ApiError(400, "sha not provided")
    git_dir = call.git_dir(repo)
    async with ObjectReader.open(git_dir) as objects:
        info = await objects.info(sha)
    if info is None or info.type not in ("commit", "tree", "tag"):
        raise ApiError(400, f"sha not found [{sha}]")
    entries = await ls_tree(git_dir, info.sha, recursive=call.flag("recursive", default=False))
    per_page = form_int(call.query, "per_page")
    if per_page <= 0 or per_page > DEFAULT_GIT_TREES_PER_PAGE:
        per_page = DEFAULT_GIT_TREES_PER_PAGE
    page = max(form_int(call.query, "page"), 1)
    api_url = call.site.repo_api_url(repo)
    start = per_page * (page - 1)
    tree: list[dict[str, Any]] | None = None
    truncated = False
    if start < len(entries):
        end = min(start + per_page, len(entries))
        truncated = end < len(entries)
        tree = [_git_entry(api_url, entry) for entry in entries[start:end]]
    return json_response(
        {
            "sha": info.sha,
            "url": f"{api_url}/git/trees/{path_escape(info.sha)}",
            "tree": tree,
            "truncated": truncated,
            "page": page,
            "total_count": len(entries),
        }
    )


def _git_entry(api_url: str, entry: TreeEntry) -> dict[str, Any]:
    if entry.is_dir:
        url = f"{api_url}/git/trees/{entry.sha}"
    elif entry.is_submodule:
        url = ""
    else:
        url = f"{api_url}/git/blobs/{entry.sha}"
    return {
        "path": entry.name,
        "mode": entry.mode,
        "type": entry.type,
        "size": entry.size,
        "sha": entry.sha,
        "url": url,
    }


async def get_blob(request: Request) -> Response:
    """``GET /git/blobs/{sha}``: one object by its full id, base64 encoded (``files.GetBlobBySHA``).

    Only a full object id is accepted (``git.NewIDFromString``): a name, a short id or a ref is a 400, as is
    an id no object has (the error of reading it). Content over ``DefaultMaxBlobSize`` is null."""
    call = open_call(request)
    repo, _ = call.repo("repository")
    sha = request.path_params["sha"]
    raw = sha.encode()  # Go measures and reports bytes
    if len(raw) not in _OBJECT_ID_LENGTHS:
        raise ApiError(400, f"length {len(raw)} has no matched object format: {sha}")
    bad = _NOT_HEX.search(raw)
    if bad is not None:
        byte = chr(bad.group()[0])
        raise ApiError(400, f"encoding/hex: invalid byte: U+{ord(byte):04X} {byte!r}")
    sha = sha.lower()
    async with ObjectReader.open(call.git_dir(repo)) as objects:
        found = await objects.read(sha) if len(sha) == 40 else None
    if found is None:
        raise ApiError(400, f"object does not exist [id: {sha}, rel_path: ]")
    info, data = found
    content = base64.b64encode(data).decode("ascii") if info.size <= MAX_BLOB_SIZE else None
    return json_response(
        {
            "content": content,
            "encoding": "base64" if content is not None else None,
            "url": f"{call.site.repo_api_url(repo)}/git/blobs/{sha}",
            "sha": sha,
            "size": info.size,
        }
    )
