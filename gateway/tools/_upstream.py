"""How tools address Gitea: API paths built from the normalized resource only, and file content as
Gitea encodes it."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from gateway.core.normalize import Resource
from gateway.errors import UpstreamError
from gateway.gitea import GiteaClient
from gateway.gitea._client import api_path, file_path

TREE_PAGE_ENTRIES = 1000


def repo_path(resource: Resource, *rest: str) -> str:
    """`/api/v1/repos/{owner}/{name}/...`, each segment percent-encoded."""
    if resource.owner is None or resource.name is None:
        raise UpstreamError("rejected")
    return api_path("repos", resource.owner, resource.name, *rest)


def contents_path(resource: Resource) -> str:
    """`.../contents/{path}` of the resource's file, its `/` kept as separators."""
    return repo_path(resource, "contents") + "/" + file_path(resource.path or "")


async def ref_or_default_branch(gitea: GiteaClient, resource: Resource) -> str:
    """The call's ref, or the repository's default branch when it names none."""
    if resource.ref:
        return resource.ref
    branch = (await gitea.get_json(repo_path(resource))).get("default_branch")
    if not isinstance(branch, str) or not branch:
        raise UpstreamError("malformed")
    return branch


async def tree_page(
    gitea: GiteaClient, resource: Resource, ref: str, *, page: int, recursive: bool = True
) -> Mapping[str, Any]:
    """One page of TREE_PAGE_ENTRIES entries of the git tree at `ref` (Gitea's own largest page)."""
    params: dict[str, str | int] = {
        "recursive": "true" if recursive else "false",
        "page": page,
        "per_page": TREE_PAGE_ENTRIES,
    }
    tree = await gitea.get_json(repo_path(resource, "git", "trees", ref), params)
    if not isinstance(tree, Mapping):
        raise UpstreamError("malformed")
    return tree


async def read_blob(gitea: GiteaClient, resource: Resource, sha: str) -> bytes:
    """The content of the git blob `sha` of the resource's repository: exactly the object a tree listing
    named, where `/raw/{path}?ref=` would let Gitea resolve the ref and the path together (it takes the
    shortest prefix of `ref/path` that names a branch, so a branch `<ref>/<dir>` would answer instead)."""
    blob = await gitea.get_json(repo_path(resource, "git", "blobs", sha))
    content = blob.get("content") if isinstance(blob, Mapping) else None
    if not isinstance(content, str) or blob.get("sha") != sha:
        raise UpstreamError("malformed")
    return decode_base64(content)


def decode_base64(content: str) -> bytes:
    """Gitea's base64 file content; anything undecodable is a malformed answer."""
    try:
        return base64.b64decode(content, validate=False)
    except (binascii.Error, ValueError):
        raise UpstreamError("malformed") from None
