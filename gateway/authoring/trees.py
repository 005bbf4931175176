"""The paths of a real repository tree, for `aegis policy diff --tree`: from the configured Gitea
(`owner/repo[@ref]`) or from a local git directory (`owner/repo[@ref]=DIR`).

Example:
    spec = TreeSpec.parse("acme/app@main=./checkout")
    paths = local_tree(spec.directory, spec.ref)  # ('README.md', 'src', 'src/a.py', ...): files, directories
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import subprocess
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path

from gateway.errors import ConfigError, UpstreamError
from gateway.gitea import GiteaClient, repo_path
from gateway.vocabulary import Resource

__all__ = ["GIT_TIMEOUT_S", "MAX_TREE_PAGES", "TreeSpec", "gitea_tree", "local_tree", "read_trees"]

GIT_TIMEOUT_S = 60
MAX_TREE_PAGES = 100  # of Gitea's 1,000 entries each
_TREE_PAGE_ENTRIES = 1000
_SPEC = re.compile(r"(?P<repo>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)(?:@(?P<ref>[^-=\s][^=\s]*))?(?:=(?P<dir>.+))?")


@dataclasses.dataclass(frozen=True, kw_only=True)
class TreeSpec:
    """A repository (lower-cased `owner/name`), the ref to read (None: the default branch, or HEAD of a
    local directory), and the local git directory to read it from (None: the configured Gitea)."""

    repo: str
    ref: str | None
    directory: Path | None

    @classmethod
    def parse(cls, text: str) -> TreeSpec:
        match = _SPEC.fullmatch(text)
        if match is None:
            raise ConfigError(f"--tree {text!r}: expected owner/repo, owner/repo@ref or owner/repo[@ref]=DIR")
        directory = Path(match["dir"]) if match["dir"] else None
        return cls(repo=match["repo"].lower(), ref=match["ref"], directory=directory)


def local_tree(directory: Path, ref: str | None) -> tuple[str, ...]:
    """Every file of the tree at `ref` (HEAD when None) of the local git `directory`, and every directory
    above one, sorted (`git ls-tree -r`)."""
    argv = ["git", "-C", str(directory), "ls-tree", "-r", "-z", "--name-only", ref or "HEAD"]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=GIT_TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ConfigError(f"--tree {directory}: cannot run git ({exc})") from exc
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip()
        raise ConfigError(f"--tree {directory}: git ls-tree failed: {said}")
    return with_directories(name.decode("utf-8", "replace") for name in done.stdout.split(b"\0") if name)


async def gitea_tree(gitea: GiteaClient, repo: str, ref: str | None) -> tuple[str, ...]:
    """Every file and directory of the tree at `ref` (the default branch when None) of `repo` on Gitea,
    sorted. Raises ConfigError when the tree is larger than MAX_TREE_PAGES pages."""
    owner, name = repo.split("/")
    resource = Resource(owner=owner, name=name)
    if ref is None:
        ref = _text(await gitea.get_json(repo_path(resource)), "default_branch")
    commit = _text(await gitea.get_json(repo_path(resource, "git", "commits", ref)), "sha")
    paths: list[str] = []
    for page in range(1, MAX_TREE_PAGES + 1):
        params: dict[str, str | int] = {"recursive": "true", "page": page, "per_page": _TREE_PAGE_ENTRIES}
        tree = await gitea.get_json(repo_path(resource, "git", "trees", commit), params)
        entries = tree.get("tree") if isinstance(tree, Mapping) else None
        if not isinstance(entries, list):
            raise UpstreamError("malformed")
        named = (entry.get("path") for entry in entries if isinstance(entry, Mapping))
        paths += [path for path in named if isinstance(path, str)]
        if not tree.get("truncated") or len(entries) < _TREE_PAGE_ENTRIES:
            return with_directories(paths)
    raise ConfigError(f"--tree {repo}: more than {MAX_TREE_PAGES * _TREE_PAGE_ENTRIES} entries")


def with_directories(files: Iterable[str]) -> tuple[str, ...]:
    """The paths, and every directory above one of them, sorted."""
    paths: set[str] = set()
    for file in files:
        parts = file.split("/")
        paths.update("/".join(parts[:end]) for end in range(1, len(parts) + 1))
    return tuple(sorted(paths))


def _text(document: object, key: str) -> str:
    value = document.get(key) if isinstance(document, Mapping) else None
    if not isinstance(value, str) or not value:
        raise UpstreamError("malformed")
    return value


def read_trees(specs: Sequence[TreeSpec], gitea: Callable[[], GiteaClient]) -> dict[str, tuple[str, ...]]:
    """The paths of each spec's tree by repository (several trees of one repository are merged); `gitea`
    makes the client for the specs without a directory, and is called only when there is one."""
    trees: dict[str, set[str]] = {}
    for spec in specs:
        if spec.directory is not None:
            trees.setdefault(spec.repo, set()).update(local_tree(spec.directory, spec.ref))
    remote = [spec for spec in specs if spec.directory is None]
    if remote:
        for spec, paths in zip(remote, asyncio.run(_gitea_trees(gitea(), remote)), strict=True):
            trees.setdefault(spec.repo, set()).update(paths)
    return {repo: tuple(sorted(paths)) for repo, paths in trees.items()}


async def _gitea_trees(gitea: GiteaClient, specs: Sequence[TreeSpec]) -> list[tuple[str, ...]]:
    try:
        return [await gitea_tree(gitea, spec.repo, spec.ref) for spec in specs]
    finally:
        await gitea.aclose()
