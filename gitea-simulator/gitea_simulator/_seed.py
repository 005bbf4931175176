"""Seeding a state directory: real bare git repositories with fixed history, metadata and a token.

Seeding refuses a directory that is not empty, so it never mixes with or overwrites existing state.

Example::

    seed = seed_demo(Path("/tmp/gitea-state"))
    seed.user    # "aegis-bot"
    seed.repos   # ["acme/app", "acme/infra", "acme/private-notes", "other/secret"]
    add_token(Path("/tmp/gitea-state"), user="aegis-bot", scopes=["read:issue"])
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ._access import normalize_scopes, token_digest
from ._demo import (
    DEMO_REPOS,
    DEMO_SCOPES,
    DEMO_USER,
    DEMO_USERS,
    Change,
    CommitSpec,
    Executable,
    RepoSpec,
    Symlink,
)
from ._errors import SimulatorError
from ._git import GIT_ENV
from ._store import META_FILE, Metadata, MetadataStore, Repo, Token, write_metadata

__all__ = ["DEMO_TOKEN_FILE", "DemoSeed", "add_token", "read_demo_token", "seed_demo", "write_secret"]

DEMO_TOKEN_FILE: Final = "demo-token"  # noqa: S105 - a file name
_SEED_TIMEOUT_SECONDS: Final = 60.0


@dataclass(frozen=True, slots=True)
class DemoSeed:
    """What ``seed_demo`` made: the API token (hidden from ``repr``), its user and the repositories."""

    token: str = field(repr=False)
    user: str
    repos: list[str]


def _git(
    git_dir: Path | None,
    *args: str,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
    cwd: Path | None = None,
) -> str:
    prefix = ["git"] if git_dir is None else ["git", "--git-dir", str(git_dir)]
    try:
        result = subprocess.run(
            [*prefix, *args],
            input=input_text,
            capture_output=True,
            text=True,
            env={**GIT_ENV, **(env or {})},
            cwd=cwd,
            timeout=_SEED_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise SimulatorError(f"git {args[0]} timed out while seeding") from exc
    if result.returncode != 0:
        raise SimulatorError(f"git {args[0]} failed while seeding: {result.stderr.strip()}")
    return result.stdout.strip()


class _RepoBuilder:
    """Builds a bare repository commit by commit from one working tree and one index."""

    def __init__(self, git_dir: Path, work: Path):
        self.git_dir = git_dir
        self.work = work
        self.heads: dict[str, str] = {}
        self.commits: list[str] = []
        self.gitlinks: dict[str, str] = {}
        self._env = {"GIT_INDEX_FILE": str(work.parent / "index"), "GIT_WORK_TREE": str(work)}
        _git(None, "init", "--bare", "--quiet", "--template=", "-b", "main", str(git_dir))

    def _apply(self, path: str, change: Change) -> None:
        target = self.work / path
        if target.is_symlink() or target.exists():
            target.unlink()
        if change is None:
            return
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(change, Symlink):
            target.symlink_to(change.target)
        elif isinstance(change, Executable):
            target.write_bytes(change.content)
            target.chmod(0o755)
        else:
            target.write_bytes(change)
            target.chmod(0o644)

    def _checkout(self, sha: str) -> None:
        """Make the working tree and the index those of commit ``sha``."""
        shutil.rmtree(self.work)
        self.work.mkdir()
        _git(self.git_dir, "read-tree", sha, env=self._env)
        _git(self.git_dir, "checkout-index", "--all", "--force", env=self._env, cwd=self.work)

    def _parent(self, spec: CommitSpec) -> str | None:
        """The commit ``spec`` goes on top of: the previous one, or the head of ``spec.start``."""
        previous = self.commits[-1] if self.commits else None
        if spec.branch in self.heads and self.heads[spec.branch] != previous:
            raise SimulatorError(f"commit on {spec.branch} must follow the branch's last commit")
        if not spec.start:
            return previous
        if spec.branch in self.heads or spec.start not in self.heads:
            raise SimulatorError(f"{spec.branch} must be a new branch starting from an existing one")
        start = self.heads[spec.start]
        if start != previous:
            self._checkout(start)
        return start

    def commit(self, spec: CommitSpec) -> str:
        parent = self._parent(spec)
        for path, change in spec.changes.items():
            self._apply(path, change)
        self.gitlinks.update(spec.gitlinks)
        _git(self.git_dir, "add", "--all", env=self._env, cwd=self.work)
        for path, sha in self.gitlinks.items():
            _git(self.git_dir, "update-index", "--add", "--cacheinfo", f"160000,{sha},{path}", env=self._env)
        tree = _git(self.git_dir, "write-tree", env=self._env)
        parents = ["-p", parent] if parent else []
        name, email = spec.author
        identity = {
            "GIT_AUTHOR_NAME": name,
            "GIT_AUTHOR_EMAIL": email,
            "GIT_AUTHOR_DATE": spec.when,
            "GIT_COMMITTER_NAME": name,
            "GIT_COMMITTER_EMAIL": email,
            "GIT_COMMITTER_DATE": spec.when,
        }
        sha = _git(self.git_dir, "commit-tree", tree, *parents, env=identity, input_text=spec.message)
        _git(self.git_dir, "update-ref", f"refs/heads/{spec.branch}", sha)
        self.heads[spec.branch] = sha
        self.commits.append(sha)
        return sha

    def tag(self, name: str, sha: str, message: str, when: str, tagger: tuple[str, str]) -> None:
        identity = {
            "GIT_COMMITTER_NAME": tagger[0],
            "GIT_COMMITTER_EMAIL": tagger[1],
            "GIT_COMMITTER_DATE": when,
        }
        _git(self.git_dir, "tag", "-a", name, "-m", message, sha, env=identity)


def _build_repo(state_dir: Path, spec: RepoSpec) -> Repo:
    repo = Repo(
        id=spec.id,
        owner=spec.owner,
        name=spec.name,
        created_at=spec.created_at,
        updated_at=spec.updated_at,
        description=spec.description,
        private=spec.private,
        language=spec.language,
        collaborators=dict(spec.collaborators),
        labels=spec.labels,
        issues=spec.issues,
        releases=spec.releases,
    )
    git_dir = repo.git_dir(state_dir)
    git_dir.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="gitea-sim-seed-") as scratch:
        work = Path(scratch) / "work"
        work.mkdir()
        builder = _RepoBuilder(git_dir, work)
        for commit in spec.commits:
            builder.commit(commit)
        for tag in spec.tags:
            builder.tag(
                tag.name, builder.commits[tag.commit], tag.message, tag.when, spec.commits[tag.commit].author
            )
    _git(git_dir, "gc", "--quiet", "--prune=now")
    size = sum(path.stat().st_size for path in git_dir.rglob("*") if path.is_file())
    return dataclasses.replace(repo, size=size // 1024)


def write_secret(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` readable by its owner only (mode 0600, also when it already exists)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        os.fchmod(handle.fileno(), 0o600)
        handle.write(text)


def _new_token(metadata: Metadata, user: str, scopes: Iterable[str], name: str) -> tuple[str, Metadata]:
    if metadata.user(user) is None:
        raise SimulatorError(f"no user {user!r}")
    token = secrets.token_hex(20)
    record = Token(
        id=max((t.id for t in metadata.tokens), default=0) + 1,
        name=name,
        user=user,
        sha256=token_digest(token),
        scopes=normalize_scopes(scopes),
    )
    return token, dataclasses.replace(metadata, tokens=(*metadata.tokens, record))


def seed_demo(state_dir: Path) -> DemoSeed:
    """Create the demo instance in ``state_dir``, which must be missing or empty (else SimulatorError).

    The read token of ``aegis-bot`` (scopes read:issue, read:repository, read:user) is returned and also
    kept in ``<state_dir>/demo-token`` (mode 0600) so a restarted simulator can hand it out again.
    """
    if state_dir.exists() and any(state_dir.iterdir()):
        raise SimulatorError(f"refusing to seed {state_dir}: the directory is not empty")
    state_dir.mkdir(parents=True, exist_ok=True)
    try:
        repos = tuple(_build_repo(state_dir, spec) for spec in DEMO_REPOS)
        token, metadata = _new_token(
            Metadata(users=DEMO_USERS, repos=repos), DEMO_USER, DEMO_SCOPES, "aegis-demo"
        )
        write_secret(state_dir / DEMO_TOKEN_FILE, token + "\n")
        write_metadata(state_dir, metadata)
    except BaseException:
        for child in state_dir.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
        raise
    return DemoSeed(token=token, user=DEMO_USER, repos=[spec.full_name for spec in DEMO_REPOS])


def read_demo_token(state_dir: Path) -> str:
    """The token ``seed_demo`` made for this state directory."""
    try:
        return (state_dir / DEMO_TOKEN_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError as exc:
        raise SimulatorError(f"{state_dir} holds no demo token") from exc


def add_token(state_dir: Path, *, user: str, scopes: Iterable[str], name: str = "test") -> str:
    """Create another API token for ``user`` with ``scopes`` (Gitea scope names) and return it."""
    if not (state_dir / META_FILE).exists():
        raise SimulatorError(f"{state_dir} is not a simulator state directory")
    try:
        token, metadata = _new_token(MetadataStore(state_dir).current(), user, scopes, name)
    except ValueError as exc:
        raise SimulatorError(str(exc)) from exc
    write_metadata(state_dir, metadata)
    return token
