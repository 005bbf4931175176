"""Read-only access to bare git repositories through the ``git`` CLI (argv lists, never a shell).

Nothing is cached between calls: each request reads the repository as it is on disk. Objects are read
through one ``git cat-file --batch-command`` process per request (``ObjectReader``); history through
``git log`` / ``git rev-list``; every process has a finite timeout and is killed when it overruns.

Example::

    async with ObjectReader.open(git_dir) as objects:
        commit = await objects.commit("refs/heads/main")
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Final

from ._errors import SimulatorError

__all__ = [
    "GIT_ENV",
    "GIT_TIMEOUT_SECONDS",
    "Commit",
    "FileChange",
    "ObjectInfo",
    "ObjectReader",
    "Signature",
    "TagInfo",
    "TreeEntry",
    "commit_changes",
    "commit_diff",
    "diff_files",
    "last_commit_sha",
    "last_commit_shas",
    "list_refs",
    "ls_tree",
    "parse_commit",
    "range_diff",
    "run_checked",
    "run_git",
    "tag_infos",
]

GIT_TIMEOUT_SECONDS: Final = 10.0
_READ_CHUNK: Final = 65536
_SHA_RE: Final = re.compile(rb"^[0-9a-f]{40}$")


def _git_env() -> dict[str, str]:
    """A predictable environment: no user or system config, literal pathspecs, C locale."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    env.update(
        LC_ALL="C",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_CONFIG_GLOBAL=os.devnull,
        GIT_TERMINAL_PROMPT="0",
        GIT_LITERAL_PATHSPECS="1",
        GIT_NO_REPLACE_OBJECTS="1",
        GIT_OPTIONAL_LOCKS="0",
    )
    return env


GIT_ENV: Final = _git_env()
_GLOB_ENV: Final = {**GIT_ENV, "GIT_LITERAL_PATHSPECS": "0"}


async def _spawn(
    git_dir: Path,
    args: Sequence[str],
    *,
    stdin: bool,
    literal_pathspecs: bool = True,
    env: Mapping[str, str] | None = None,
) -> asyncio.subprocess.Process:
    base = GIT_ENV if literal_pathspecs else _GLOB_ENV
    return await asyncio.create_subprocess_exec(
        "git",
        "--git-dir",
        str(git_dir),
        *args,
        stdin=asyncio.subprocess.PIPE if stdin else asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
        env={**base, **env} if env else base,
    )


async def _reap(process: asyncio.subprocess.Process) -> None:
    """Kill the process if it still runs, and wait for asyncio to collect it."""
    if process.returncode is None:
        # Not process.kill(): Popen.send_signal() polls first, which can reap the child behind asyncio's
        # watcher (it then logs "Unknown child process" and reports 255).
        with suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
    await process.wait()


async def run_git(
    git_dir: Path,
    *args: str,
    input_data: bytes | None = None,
    literal_pathspecs: bool = True,
    env: Mapping[str, str] | None = None,
) -> tuple[int, bytes]:
    """Run one git command; its exit code and stdout. Raises SimulatorError on timeout.

    Pathspecs are literal unless ``literal_pathspecs`` is false (then git's glob magic applies, as in Gitea);
    ``env`` adds variables (an index file, an identity) to the fixed environment.
    """
    process = await _spawn(
        git_dir, args, stdin=input_data is not None, literal_pathspecs=literal_pathspecs, env=env
    )
    try:
        stdout, _ = await asyncio.wait_for(process.communicate(input_data), GIT_TIMEOUT_SECONDS)
    except TimeoutError as exc:
        raise SimulatorError(f"git {args[0]} timed out") from exc
    finally:
        await _reap(process)
    assert process.returncode is not None
    return process.returncode, stdout


async def run_checked(
    git_dir: Path, *args: str, input_data: bytes | None = None, env: Mapping[str, str] | None = None
) -> bytes:
    """``run_git`` that raises SimulatorError when git fails."""
    code, stdout = await run_git(git_dir, *args, input_data=input_data, env=env)
    if code != 0:
        raise SimulatorError(f"git {args[0]} exited with {code}")
    return stdout


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    sha: str
    type: str
    size: int


@dataclass(frozen=True, slots=True)
class TreeEntry:
    """One entry of a git tree; ``mode`` is six octal digits as Gitea prints it (``040000`` for trees)."""

    mode: str
    name: str
    sha: str
    size: int = 0

    @property
    def type(self) -> str:
        return {"040000": "tree", "160000": "commit"}.get(self.mode, "blob")

    @property
    def is_dir(self) -> bool:
        return self.mode == "040000"

    @property
    def is_submodule(self) -> bool:
        return self.mode == "160000"

    @property
    def is_symlink(self) -> bool:
        return self.mode == "120000"

    @property
    def is_regular(self) -> bool:
        return self.mode in ("100644", "100755", "100664")


@dataclass(frozen=True, slots=True)
class Signature:
    name: str
    email: str
    when: datetime


@dataclass(frozen=True, slots=True)
class Commit:
    sha: str
    tree: str
    parents: tuple[str, ...]
    author: Signature
    committer: Signature
    message: str


@dataclass(frozen=True, slots=True)
class FileChange:
    """A path a diff touched: git's status letter (``A``, ``D``, ``M``, ``T``, ``R``, ``C``), its line
    counts, and the path it had before for a rename or copy."""

    path: str
    code: str
    additions: int
    deletions: int
    previous_path: str = ""

    @property
    def status(self) -> str:
        """Gitea's word for a commit's file (``GetCommitFileStatus``): added, removed or modified."""
        return _STATUS_WORDS.get(self.code, "modified")


@dataclass(frozen=True, slots=True)
class TagInfo:
    """A tag as ``git for-each-ref`` reports it: its object (the commit itself for a lightweight tag),
    the commit it points to, its tagger (the committer for a lightweight tag) and its message."""

    name: str
    sha: str
    commit: str
    tagger: Signature
    message: str


def _parse_signature(value: str) -> Signature:
    ident, _, rest = value.rpartition(">")
    name, _, email = ident.partition("<")
    seconds_text, _, zone = rest.strip().partition(" ")
    offset = timedelta(0)
    if len(zone) == 5 and zone[0] in "+-" and zone[1:].isdigit():
        offset = timedelta(hours=int(zone[1:3]), minutes=int(zone[3:5]))
        if zone[0] == "-":
            offset = -offset
    seconds = int(seconds_text) if seconds_text.lstrip("-").isdigit() else 0
    when = datetime.fromtimestamp(seconds, timezone(offset))
    return Signature(name=name.strip(), email=email, when=when)


def parse_commit(sha: str, data: bytes) -> Commit:
    """Parse a raw commit object the way Gitea's ``CommitFromReader`` does."""
    head, _, message = data.partition(b"\n\n")
    tree = ""
    parents: list[str] = []
    author = committer = Signature("", "", datetime.fromtimestamp(0, UTC))
    for line in head.decode("utf-8", errors="replace").split("\n"):
        key, _, value = line.partition(" ")
        if key == "tree":
            tree = value
        elif key == "parent":
            parents.append(value)
        elif key == "author":
            author = _parse_signature(value)
        elif key == "committer":
            committer = _parse_signature(value)
    return Commit(
        sha=sha,
        tree=tree,
        parents=tuple(parents),
        author=author,
        committer=committer,
        message=message.decode("utf-8", errors="replace"),
    )


def parse_tree(data: bytes) -> list[TreeEntry]:
    """Parse a raw tree object: ``<mode> <name>\\0<20-byte id>`` repeated."""
    entries = []
    position = 0
    while position < len(data):
        space = data.index(b" ", position)
        nul = data.index(b"\0", space)
        mode = data[position:space].decode("ascii").rjust(6, "0")
        name = data[space + 1 : nul].decode("utf-8", errors="surrogateescape")
        sha = data[nul + 1 : nul + 21].hex()
        entries.append(TreeEntry(mode=mode, name=name, sha=sha))
        position = nul + 21
    return entries


class ObjectReader:
    """One ``git cat-file --batch-command`` process answering object lookups in turn."""

    def __init__(self, process: asyncio.subprocess.Process):
        self._process = process

    @classmethod
    @asynccontextmanager
    async def open(cls, git_dir: Path) -> AsyncIterator[ObjectReader]:
        process = await _spawn(git_dir, ["cat-file", "--batch-command"], stdin=True)
        try:
            yield cls(process)
        finally:
            # Nothing is left to read once the caller is done: stop the process rather than wait for it.
            await _reap(process)

    async def _command(self, command: str, name: str) -> ObjectInfo | None:
        if "\n" in name or "\0" in name or not name:
            return None
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None
        assert stdout is not None
        stdin.write(f"{command} {name}\n".encode())
        try:
            await asyncio.wait_for(stdin.drain(), GIT_TIMEOUT_SECONDS)
            header = await asyncio.wait_for(stdout.readline(), GIT_TIMEOUT_SECONDS)
        except (TimeoutError, ConnectionError) as exc:
            raise SimulatorError("git cat-file did not answer") from exc
        if not header:
            raise SimulatorError("git cat-file stopped")
        if header.endswith((b" missing\n", b" ambiguous\n")):
            return None
        sha, kind, size = header.decode("ascii").split()
        return ObjectInfo(sha=sha, type=kind, size=int(size))

    async def info(self, name: str) -> ObjectInfo | None:
        """The object ``name`` resolves to (any git revision syntax), or None when it does not exist."""
        return await self._command("info", name)

    async def read(self, name: str) -> tuple[ObjectInfo, bytes] | None:
        info = await self._command("contents", name)
        if info is None:
            return None
        stdout = self._process.stdout
        assert stdout is not None
        try:
            data = await asyncio.wait_for(stdout.readexactly(info.size + 1), GIT_TIMEOUT_SECONDS)
        except (TimeoutError, asyncio.IncompleteReadError) as exc:
            raise SimulatorError("git cat-file answer cut short") from exc
        return info, data[:-1]

    async def commit(self, name: str) -> Commit | None:
        found = await self.read(f"{name}^{{commit}}")
        if found is None:
            return None
        info, data = found
        return parse_commit(info.sha, data)

    async def tree(self, name: str) -> list[TreeEntry] | None:
        found = await self.read(name)
        if found is None or found[0].type != "tree":
            return None
        return parse_tree(found[1])

    async def entry(self, commit: Commit, path: str) -> TreeEntry | None:
        """The tree entry at ``path`` in ``commit``; the root tree itself for the empty path."""
        if not path:
            return TreeEntry(mode="040000", name="", sha=commit.tree)
        parent, _, name = path.rpartition("/")
        entries = await self.tree(f"{commit.sha}:{parent}" if parent else commit.tree)
        if entries is None:
            return None
        return next((entry for entry in entries if entry.name == name), None)

    async def with_sizes(self, entries: list[TreeEntry]) -> list[TreeEntry]:
        """The entries with blob sizes filled in (trees and submodules keep size 0, as in Gitea)."""
        sized = []
        for entry in entries:
            if entry.type == "blob":
                info = await self.info(entry.sha)
                entry = TreeEntry(entry.mode, entry.name, entry.sha, info.size if info else 0)
            sized.append(entry)
        return sized


async def ls_tree(git_dir: Path, treeish: str, *, recursive: bool) -> list[TreeEntry]:
    """``git ls-tree -l`` of a resolved object id; with ``recursive``, trees and their content (``-r -t``)."""
    args = ["ls-tree", "-l", "-z", "--full-tree"]
    if recursive:
        args += ["-r", "-t"]
    stdout = await run_checked(git_dir, *args, treeish)
    entries = []
    for record in stdout.split(b"\0"):
        if not record:
            continue
        meta, _, path = record.partition(b"\t")
        mode, _kind, sha, size = meta.decode("ascii").split()
        entries.append(
            TreeEntry(
                mode=mode.rjust(6, "0"),
                name=path.decode("utf-8", errors="surrogateescape"),
                sha=sha,
                size=int(size) if size.isdigit() else 0,
            )
        )
    return entries


async def list_refs(git_dir: Path, prefix: str) -> list[tuple[str, str, int]]:
    """``(short name, object id, committer time)`` of every ref under ``prefix`` (``refs/heads/``)."""
    stdout = await run_checked(
        git_dir,
        "for-each-ref",
        "--format=%(refname)%00%(objectname)%00%(committerdate:unix)",
        prefix,
    )
    refs = []
    for line in stdout.decode("utf-8", errors="surrogateescape").splitlines():
        refname, sha, when = line.split("\0")
        refs.append((refname.removeprefix(prefix), sha, int(when or 0)))
    return refs


async def last_commit_sha(git_dir: Path, commit: str, path: str) -> str | None:
    """The newest commit reachable from ``commit`` that touched ``path``."""
    code, stdout = await run_git(git_dir, "log", "-1", "--format=%H", commit, "--", path)
    sha = stdout.strip().decode("ascii")
    return sha if code == 0 and sha else None


async def last_commit_shas(git_dir: Path, commit: str, base: str, names: Sequence[str]) -> dict[str, str]:
    """For each entry ``name`` of directory ``base``, the newest commit that touched it.

    One ``git log --name-only`` walk, stopped as soon as every entry is placed.
    """
    wanted = set(names)
    found: dict[str, str] = {}
    if not wanted:
        return found
    prefix = f"{base}/" if base else ""
    args = ["log", "--format=%x1e%H", "--name-only", "-z", "--no-renames", commit]
    if base:
        args += ["--", base]
    process = await _spawn(git_dir, args, stdin=False)
    stdout = process.stdout
    assert stdout is not None
    current = ""
    pending = b""
    try:
        async with asyncio.timeout(GIT_TIMEOUT_SECONDS):
            while wanted - found.keys():
                chunk = await stdout.read(_READ_CHUNK)
                if not chunk:
                    break
                *tokens, pending = (pending + chunk).split(b"\0")
                for token in tokens:
                    current = _place(token, current, prefix, wanted, found)
    except TimeoutError as exc:
        raise SimulatorError("git log timed out") from exc
    finally:
        await _reap(process)
    return found


def _place(token: bytes, current: str, prefix: str, wanted: set[str], found: dict[str, str]) -> str:
    """Handle one NUL-separated token of ``git log --format=%x1e%H --name-only -z``; the current commit."""
    token = token.lstrip(b"\n")
    if token.startswith(b"\x1e") and _SHA_RE.match(token[1:]):
        return token[1:].decode("ascii")
    path = token.decode("utf-8", errors="surrogateescape")
    if current and path.startswith(prefix):
        name = path[len(prefix) :].split("/", 1)[0]
        if name in wanted and name not in found:
            found[name] = current
    return current


async def commit_changes(git_dir: Path, shas: Sequence[str]) -> dict[str, list[FileChange]]:
    """Files each commit touched against its first parent (root commits against the empty tree)."""
    if not shas:
        return {}
    stdout = await run_checked(
        git_dir,
        "diff-tree",
        "--stdin",
        "-z",
        "-r",
        "--root",
        "--no-renames",
        "--raw",
        "--numstat",
        "--no-abbrev",
        input_data="".join(f"{sha}\n" for sha in shas).encode("ascii"),
    )
    return _parse_changes(stdout, shas)


async def diff_files(git_dir: Path, start: str, end: str) -> list[FileChange]:
    """The files changed from commit ``start`` to commit ``end``, renames detected (``git diff -M``)."""
    stdout = await run_checked(
        git_dir, "diff-tree", "-z", "-r", "-M", "--raw", "--numstat", "--no-abbrev", start, end
    )
    return _parse_changes(stdout).get("", [])


def _parse_changes(stdout: bytes, shas: Sequence[str] = ()) -> dict[str, list[FileChange]]:
    """Parse ``git diff-tree -z --raw --numstat`` output: the changes after each commit id line (under ""
    when there is none, as for a diff of two commits). Renamed and copied paths come as old, then new."""
    changes: dict[str, list[FileChange]] = {sha: [] for sha in shas}
    statuses: dict[str, tuple[str, str]] = {}  # new path -> (status letter, old path)
    current = ""
    tokens = iter(stdout.split(b"\0"))
    for token in tokens:
        if _SHA_RE.match(token):
            current = token.decode("ascii")
            statuses = {}
        elif token.startswith(b":"):
            code = token.split()[-1].decode("ascii")[:1]
            old = _path(next(tokens))
            statuses[_path(next(tokens)) if code in "RC" else old] = (code, old)
        elif b"\t" in token:
            added, deleted, path_bytes = token.split(b"\t", 2)
            if not path_bytes:  # a rename or copy: the old and the new path follow
                next(tokens)
                path_bytes = next(tokens)
            path = _path(path_bytes)
            code, old = statuses.get(path, ("M", path))
            changes.setdefault(current, []).append(
                FileChange(
                    path=path,
                    code=code,
                    additions=int(added) if added.isdigit() else 0,
                    deletions=int(deleted) if deleted.isdigit() else 0,
                    previous_path=old if code in "RC" else "",
                )
            )
    return changes


def _path(raw: bytes) -> str:
    return raw.decode("utf-8", errors="surrogateescape")


async def commit_diff(git_dir: Path, commit: Commit, *, patch: bool) -> bytes:
    """Gitea's ``GetRawDiff``: the diff against the first parent (a root commit: ``git show``), or the
    commit as ``git format-patch`` writes it."""
    parent = commit.parents[0] if commit.parents else ""
    if patch:
        span = [f"{commit.sha}...{parent}"] if parent else ["--root", commit.sha]
        return await run_checked(git_dir, "format-patch", "--no-signature", "--stdout", *span)
    if parent:
        return await run_checked(git_dir, "diff", "--find-renames=50%", parent, commit.sha)
    return await run_checked(git_dir, "show", commit.sha)


async def range_diff(git_dir: Path, start: str, end: str, *, patch: bool, binary: bool) -> bytes:
    """Gitea's ``DownloadDiffOrPatch`` of ``start...end``: ``git diff -p`` (``--binary --histogram`` with
    ``binary``), or ``git format-patch --binary`` for ``patch``."""
    span = f"{start}...{end}"
    if patch:
        return await run_checked(git_dir, "format-patch", "--binary", "--stdout", span)
    extra = ["--binary", "--histogram"] if binary else []
    return await run_checked(git_dir, "diff", "-p", *extra, span)


_STATUS_WORDS: Final = {"A": "added", "D": "removed"}
_TAG_FIELDS: Final = ("objecttype", "refname:lstrip=2", "object", "objectname", "creator", "contents")
_RECORD_END: Final = b"\x1e\n"


async def tag_infos(git_dir: Path) -> list[TagInfo]:
    """Every tag, newest tagger date first (Gitea's ``GetTagInfos`` order)."""
    fields = "%00".join(f"%({name})" for name in _TAG_FIELDS)
    stdout = await run_checked(
        git_dir, "for-each-ref", f"--format={fields}%1e", "--sort=-*creatordate", "refs/tags/"
    )
    tags = []
    for record in stdout.split(_RECORD_END):
        if not record:
            continue
        kind, name, target, sha, creator, message = record.decode("utf-8", errors="replace").split("\0", 5)
        tags.append(
            TagInfo(
                name=name,
                sha=sha,
                commit=sha if kind == "commit" else target,
                tagger=_parse_signature(creator),
                message=message,
            )
        )
    return sorted(tags, key=lambda tag: tag.tagger.when, reverse=True)
