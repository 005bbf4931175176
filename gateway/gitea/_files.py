"""Gitea's files as the gateway reads and writes them: API paths built from a normalized resource, file
content as Gitea encodes it, and the one-commit file write that both a write tool and a rollback make.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any

from gateway.errors import Kind, Refused, UpstreamError
from gateway.gitea._client import GiteaClient, api_path, file_path
from gateway.vocabulary import Resource


def repo_path(resource: Resource, *rest: str) -> str:
    """`/api/v1/repos/{owner}/{name}/...`, each segment percent-encoded."""
    if resource.owner is None or resource.name is None:
        raise UpstreamError("rejected")
    return api_path("repos", resource.owner, resource.name, *rest)


def contents_path(resource: Resource) -> str:
    """`.../contents/{path}` of the resource's file, its `/` kept as separators."""
    return repo_path(resource, "contents") + "/" + file_path(resource.path or "")


def contents_ext_path(resource: Resource) -> str:
    """`.../contents-ext/{path}` of the resource's file: its metadata (or a directory's entries) without
    its content, which Gitea adds only when asked (`includes=file_content`)."""
    return repo_path(resource, "contents-ext") + "/" + file_path(resource.path or "")


def decode_base64(content: str) -> bytes:
    """Gitea's base64 file content; anything undecodable is a malformed answer."""
    try:
        return base64.b64decode(content, validate=False)
    except (binascii.Error, ValueError):
        raise UpstreamError("malformed") from None


async def commit_file(
    gitea: GiteaClient, resource: Resource, *, content: bytes | None, replacing: str | None, message: str
) -> tuple[str | None, str]:
    """One commit on the resource's branch: create the file (`replacing` None), update the blob
    `replacing`, or delete it (`content` None). Returns the new blob sha (None after a delete) and the
    commit sha. Gitea refuses an update or delete whose `replacing` is no longer the file's blob."""
    body: dict[str, Any] = {"message": message, "branch": resource.branch}
    if replacing is not None:
        body["sha"] = replacing
    if content is None:
        method = "DELETE"
    else:
        method = "POST" if replacing is None else "PUT"
        body["content"] = base64.b64encode(content).decode("ascii")
    raw = await gitea.send_json(method, contents_path(resource), body)
    new_sha = ((raw or {}).get("content") or {}).get("sha")
    commit_sha = ((raw or {}).get("commit") or {}).get("sha")
    if not isinstance(commit_sha, str) or not (new_sha is None or isinstance(new_sha, str)):
        raise UpstreamError("malformed")
    return new_sha, commit_sha


async def current_file(gitea: GiteaClient, resource: Resource) -> tuple[str | None, bytes | None]:
    """The blob sha and content of the resource's file on its branch, or (None, None) when absent. Refused
    (a conflict) when the path is not a regular file, or Gitea does not return all of it."""
    try:
        current = await gitea.get_json(contents_path(resource), {"ref": resource.branch or ""})
    except UpstreamError as exc:
        if exc.kind == "not_found":
            return None, None
        raise
    if not isinstance(current, dict) or current.get("type") != "file":
        raise Refused(f"{resource.path} is not a regular file", Kind.CONFLICT)
    sha = current.get("sha")
    if not isinstance(sha, str):
        raise UpstreamError("malformed")
    content = decode_base64(current.get("content") or "")
    if git_blob_sha(content, like=sha) != sha:
        # Gitea leaves `content` empty for blobs over its API size limit: a snapshot of it would be wrong.
        raise Refused(
            f"Gitea did not return the whole of {resource.path}, so its content cannot be kept for rollback;"
            " it is not overwritten",
            Kind.CONFLICT,
        )
    return sha, content


def git_blob_sha(content: bytes, *, like: str) -> str:
    """The git object id of a blob of `content`: SHA-1, or SHA-256 when `like` has 64 characters."""
    digest = hashlib.sha256 if len(like) == 64 else hashlib.sha1
    return digest(b"blob %d\x00" % len(content) + content).hexdigest()
