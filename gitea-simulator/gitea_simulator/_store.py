"""The simulator's metadata (what Gitea keeps in its database) in ``<state_dir>/meta.json``.

Users, API tokens (only their SHA-256 is stored, as Gitea stores a hash), repositories with their
labels, issues, pull requests and releases, issue comments, and webhooks. Git content lives in
``<state_dir>/repos/<owner>/<name>.git``. ``MetadataStore.current()`` re-reads the file whenever it
changed on disk, so edits show at once; ``write_metadata`` replaces it atomically.

Example::

    store = MetadataStore(state_dir)
    repo = store.current().repo("ACME", "App")   # names are case-insensitive
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Final, TypeVar

from ._errors import SimulatorError

__all__ = [
    "META_FILE",
    "REPOS_DIR",
    "Comment",
    "Hook",
    "Issue",
    "Label",
    "Metadata",
    "MetadataStore",
    "PullRequest",
    "Release",
    "Repo",
    "Token",
    "User",
    "write_metadata",
]

META_FILE: Final = "meta.json"
REPOS_DIR: Final = "repos"
_FORMAT: Final = 1

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class User:
    id: int
    login: str
    email: str
    full_name: str = ""
    kind: str = "user"  # "user" or "organization"
    is_admin: bool = False
    created: str = "2026-01-01T00:00:00Z"
    description: str = ""
    website: str = ""
    location: str = ""


@dataclass(frozen=True, slots=True)
class Token:
    id: int
    name: str
    user: str
    sha256: str
    scopes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Label:
    id: int
    name: str
    color: str
    description: str = ""
    exclusive: bool = False


@dataclass(frozen=True, slots=True)
class PullRequest:
    head: str
    base: str
    draft: bool = False
    merged: bool = False
    merged_at: str | None = None


@dataclass(frozen=True, slots=True)
class Issue:
    id: int
    number: int
    title: str
    user: str
    created_at: str
    updated_at: str
    body: str = ""
    state: str = "open"
    labels: tuple[str, ...] = ()
    comments: int = 0
    closed_at: str | None = None
    is_locked: bool = False
    content_version: int = 0
    pull_request: PullRequest | None = None

    @property
    def is_pull(self) -> bool:
        return self.pull_request is not None


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment on an issue or pull request; ``issue_id`` is the issue's global id."""

    id: int
    issue_id: int
    user: str
    body: str
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class Release:
    """A release of a tag (Gitea's ``repo_model.Release`` that is not a bare tag); drafts have no tag yet."""

    id: int
    tag_name: str
    target: str  # the branch or commit the tag is (or will be) made from
    title: str
    publisher: str
    created_at: str
    note: str = ""
    draft: bool = False
    prerelease: bool = False


@dataclass(frozen=True, slots=True)
class Repo:
    id: int
    owner: str
    name: str
    created_at: str
    updated_at: str
    description: str = ""
    website: str = ""
    private: bool = False
    empty: bool = False
    archived: bool = False
    default_branch: str = "main"
    language: str = ""
    size: int = 0
    collaborators: Mapping[str, str] = field(default_factory=dict)  # login -> read | write | admin
    labels: tuple[Label, ...] = ()
    issues: tuple[Issue, ...] = ()
    releases: tuple[Release, ...] = ()

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"

    def git_dir(self, state_dir: Path) -> Path:
        return state_dir / REPOS_DIR / self.owner.lower() / f"{self.name.lower()}.git"

    def issue(self, number: int) -> Issue | None:
        return next((issue for issue in self.issues if issue.number == number), None)

    def with_issue(self, issue: Issue) -> Repo:
        """This repository with ``issue`` replacing the one of the same number, or added after the others."""
        if self.issue(issue.number) is None:
            return replace(self, issues=(*self.issues, issue))
        return replace(self, issues=tuple(issue if i.number == issue.number else i for i in self.issues))


@dataclass(frozen=True, slots=True)
class Hook:
    """A webhook (Gitea's ``webhook_model.Webhook``) of one repository, or of every one (``repo_id`` 0:
    a system hook); ``events`` are the hook event types it is sent for (``modules/webhook/type.go``)."""

    id: int
    repo_id: int
    url: str
    events: tuple[str, ...]
    created_at: str
    updated_at: str
    type: str = "gitea"
    name: str = ""
    content_type: str = "json"
    secret: str = ""
    active: bool = False
    branch_filter: str = ""
    authorization_header: str = ""


@dataclass(frozen=True, slots=True)
class Metadata:
    users: tuple[User, ...] = ()
    tokens: tuple[Token, ...] = ()
    repos: tuple[Repo, ...] = ()
    comments: tuple[Comment, ...] = ()
    hooks: tuple[Hook, ...] = ()
    last_hook_id: int = 0  # Gitea's ids come from a sequence: a deleted hook's id is never given again

    def user(self, login: str) -> User | None:
        lowered = login.lower()
        return next((user for user in self.users if user.login.lower() == lowered), None)

    def user_by_email(self, email: str) -> User | None:
        lowered = email.lower()
        return next((user for user in self.users if user.email.lower() == lowered), None)

    def repo(self, owner: str, name: str) -> Repo | None:
        key = (owner.lower(), name.lower())
        return next((repo for repo in self.repos if (repo.owner.lower(), repo.name.lower()) == key), None)

    def token(self, sha256: str) -> Token | None:
        return next((token for token in self.tokens if token.sha256 == sha256), None)

    def label(self, label_id: int) -> Label | None:
        """Any repository's label by id (label ids are global, as in Gitea)."""
        return next((label for repo in self.repos for label in repo.labels if label.id == label_id), None)

    def with_repo(self, repo: Repo) -> Metadata:
        """This metadata with ``repo`` replacing the repository of the same id."""
        return replace(self, repos=tuple(repo if r.id == repo.id else r for r in self.repos))

    def to_json(self) -> dict[str, Any]:
        return {"format": _FORMAT, **asdict(self)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Metadata:
        if data.get("format") != _FORMAT:
            raise SimulatorError(f"unsupported metadata format {data.get('format')!r}")
        return cls(
            users=tuple(_build(User, item) for item in data.get("users", [])),
            tokens=tuple(_build(Token, item, scopes=tuple) for item in data.get("tokens", [])),
            repos=tuple(_repo(item) for item in data.get("repos", [])),
            comments=tuple(_build(Comment, item) for item in data.get("comments", [])),
            hooks=tuple(_build(Hook, item, events=tuple) for item in data.get("hooks", [])),
            last_hook_id=int(data.get("last_hook_id", 0)),
        )


def _build(cls: type[_T], data: Mapping[str, Any], **convert: Any) -> _T:
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    unknown = set(data) - names
    if unknown:
        raise SimulatorError(f"{cls.__name__}: unknown fields {sorted(unknown)}")
    values = {key: convert[key](value) if key in convert else value for key, value in data.items()}
    try:
        return cls(**values)
    except TypeError as exc:
        raise SimulatorError(f"{cls.__name__}: {exc}") from exc


def _issue(data: Mapping[str, Any]) -> Issue:
    def pull(value: Mapping[str, Any] | None) -> PullRequest | None:
        return None if value is None else _build(PullRequest, value)

    return _build(Issue, data, labels=tuple, pull_request=pull)


def _repo(data: Mapping[str, Any]) -> Repo:
    return _build(
        Repo,
        data,
        collaborators=dict,
        labels=lambda items: tuple(_build(Label, item) for item in items),
        issues=lambda items: tuple(_issue(item) for item in items),
        releases=lambda items: tuple(_build(Release, item) for item in items),
    )


def write_metadata(state_dir: Path, metadata: Metadata) -> None:
    """Replace ``meta.json`` atomically (readers see the old or the new file, never half of one)."""
    state_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(metadata.to_json(), indent=2, sort_keys=True) + "\n"
    handle, temp_name = tempfile.mkstemp(dir=state_dir, prefix=".meta-", suffix=".json")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as temp:
            temp.write(text)
        os.replace(temp_name, state_dir / META_FILE)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


class MetadataStore:
    """``meta.json`` as of the last change on disk (a missing file is an empty instance)."""

    def __init__(self, state_dir: Path):
        self._path = state_dir / META_FILE
        self._stamp: tuple[int, int, int] | None = None
        self._metadata = Metadata()

    def current(self) -> Metadata:
        try:
            stat = self._path.stat()
        except FileNotFoundError:
            self._stamp, self._metadata = None, Metadata()
            return self._metadata
        stamp = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if stamp != self._stamp:
            try:
                data = json.loads(self._path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise SimulatorError(f"cannot read {self._path}: {exc}") from exc
            self._metadata, self._stamp = Metadata.from_json(data), stamp
        return self._metadata
