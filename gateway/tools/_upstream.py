"""How tools address Gitea: API paths built from the normalized resource only, and file content as
Gitea encodes it."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from gateway.errors import UpstreamError
from gateway.gitea import GiteaClient, decode_base64, repo_path
from gateway.vocabulary import Resource

TREE_PAGE_ENTRIES = 1000
NO_COMMIT_EXTRAS = {"stat": "false", "verification": "false", "files": "false"}
_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")


@dataclasses.dataclass(frozen=True)
class CommitAt:
    """The commit a call reads files at: its `ref` as the call named it (the default branch when it named
    none), and the full `id` of the commit that ref names."""

    ref: str
    id: str


async def commit_at(gitea: GiteaClient, resource: Resource) -> CommitAt:
    """The commit the call's ref names. Git resolves a name to any object, a tree included (a tree id, an
    abbreviated one, a tag of a tree), and the listing of a subtree would show every path under it as if
    at the top, where the policy judges other paths: only a commit is accepted (Gitea's
    `/git/commits/{ref}` peels tags and refuses other objects), and its tree is read by the commit's id."""
    ref = resource.ref or await _default_branch(gitea, resource)
    commit = await gitea.get_json(repo_path(resource, "git", "commits", ref), NO_COMMIT_EXTRAS)
    commit_id = commit.get("sha") if isinstance(commit, Mapping) else None
    if not isinstance(commit_id, str) or not _OBJECT_ID.fullmatch(commit_id):
        raise UpstreamError("malformed")
    return CommitAt(ref, commit_id)


async def _default_branch(gitea: GiteaClient, resource: Resource) -> str:
    branch = (await gitea.get_json(repo_path(resource))).get("default_branch")
    if not isinstance(branch, str) or not branch:
        raise UpstreamError("malformed")
    return branch


async def tree_page(
    gitea: GiteaClient, resource: Resource, commit: CommitAt, *, page: int, recursive: bool = True
) -> Mapping[str, Any]:
    """One page of TREE_PAGE_ENTRIES entries (Gitea's own largest page) of the root tree of `commit`;
    Gitea names a commit's tree by the commit's id, so an answer for any other tree is refused."""
    params: dict[str, str | int] = {
        "recursive": "true" if recursive else "false",
        "page": page,
        "per_page": TREE_PAGE_ENTRIES,
    }
    tree = await gitea.get_json(repo_path(resource, "git", "trees", commit.id), params)
    if not isinstance(tree, Mapping) or tree.get("sha") != commit.id:
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
