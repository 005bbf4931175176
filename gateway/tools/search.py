"""search_code: Gitea has no code-search API, so the tool walks the tree at a ref and reads candidate files.

Only files whose path the policy allows are read (one OPA query for every candidate), each as the blob
the tree listing named, so that what is read is exactly what the policy decided on. Each file is scanned
whole before it is searched, and the query runs on the scanned text: no excerpt shows part of a secret,
and no query can tell what a mask hides. Where the policy blocks secrets, files holding one are not
searched at all. The walk is bounded: tree entries listed, files read, bytes read and time. Whatever
bound stops it, the result says which, so an agent never mistakes a partial search for a complete one.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Mapping
from typing import Any

from gateway.errors import UpstreamError
from gateway.sanitize import Finding, ScannedText, scan_text
from gateway.tools._matcher import Matcher
from gateway.tools._spec import Tool, ToolCall, ToolOutput
from gateway.tools._text import decode_text
from gateway.tools._upstream import TREE_PAGE_ENTRIES, CommitAt, commit_at, read_blob, tree_page

MAX_TREE_PAGES = 10
MAX_FILES_READ = 200
MAX_BYTES_READ = 8 << 20
MAX_FILE_BYTES = 1 << 20
MAX_LINE_CHARS = 4096
TIME_BUDGET_S = 10.0
DEADLINE_CHECK_LINES = 256
READ_CONCURRENCY = 4
EXCERPT_CHARS = 160
DEFAULT_MAX_RESULTS = 30
RESULTS_LOCATION = "/results"  # where the secrets masked in the searched files would have shown


@dataclasses.dataclass
class _Budget:
    """What the search may still spend; `stopped` names the first bound reached. Matching runs in worker
    threads, which read the deadline too."""

    deadline: float
    files: int = MAX_FILES_READ
    bytes: int = MAX_BYTES_READ
    stopped: str | None = None

    def out_of_time(self) -> bool:
        if self.stopped is None and time.monotonic() > self.deadline:
            self.stopped = "time"
        return self.stopped == "time"

    def admit(self, size: int) -> bool:
        if self.stopped is None and not self.out_of_time():
            if self.files <= 0:
                self.stopped = "max_files"
            elif size > self.bytes:
                self.stopped = "max_bytes"
        if self.stopped is not None:
            return False
        self.files -= 1
        self.bytes -= size
        return True


@dataclasses.dataclass(frozen=True)
class _Blob:
    path: str
    size: int
    sha: str


async def _tree(call: ToolCall, commit: CommitAt) -> tuple[list[_Blob], bool]:
    """The files under path_prefix, and whether the tree was listed in full."""
    prefix = call.resource.path
    blobs: list[_Blob] = []
    for page in range(1, MAX_TREE_PAGES + 1):
        tree = await tree_page(call.gitea, call.resource, commit, page=page)
        entries = [entry for entry in tree.get("tree") or [] if isinstance(entry, Mapping)]
        for entry in entries:
            path, size, sha = entry.get("path"), entry.get("size"), entry.get("sha")
            if entry.get("type") != "blob" or not isinstance(path, str) or not isinstance(size, int):
                continue
            if prefix and path != prefix and not path.startswith(prefix + "/"):
                continue
            if not isinstance(sha, str):
                raise UpstreamError("malformed")
            blobs.append(_Blob(path, size, sha))
        if not tree.get("truncated") or len(entries) < TREE_PAGE_ENTRIES:
            return blobs, True
    return blobs, False


def _hits(matcher: Matcher, path: str, text: str, limit: int, budget: _Budget) -> list[dict[str, Any]]:
    """The first `limit` matching lines (numbered as git numbers them: `\\n` ends a line); only the first
    MAX_LINE_CHARS of a line are searched, and the deadline is checked as lines go."""
    hits: list[dict[str, Any]] = []
    for number, full_line in enumerate(text.split("\n"), start=1):
        if number % DEADLINE_CHECK_LINES == 0 and budget.out_of_time():
            break
        line = full_line[:MAX_LINE_CHARS]
        hit = matcher.find(line)
        if hit is None:
            continue
        start = max(0, min(hit.start - EXCERPT_CHARS // 4, len(line) - EXCERPT_CHARS))
        hits.append({"path": path, "line": number, "excerpt": line[start : start + EXCERPT_CHARS]})
        if len(hits) >= limit:
            break
    return hits


def _scanned(raw: bytes) -> ScannedText | None:
    """The file as an agent may see it (decoded, invisible characters stripped, secrets masked); None for
    a binary or oversized file. Scanning takes a while: not on the event loop."""
    decoded = decode_text(raw) if len(raw) <= MAX_FILE_BYTES else None
    return None if decoded is None else scan_text(decoded.text)


async def search_code(call: ToolCall) -> ToolOutput:
    args = call.args
    matcher = Matcher(args["query"], regex=bool(args.get("regex")), ignore_case=bool(args.get("ignore_case")))
    max_results = int(args.get("max_results", DEFAULT_MAX_RESULTS))
    budget = _Budget(deadline=time.monotonic() + TIME_BUDGET_S)
    commit = await commit_at(call.gitea, call.resource)
    listed, tree_complete = await _tree(call, commit)
    allowed = await call.paths.allowed([blob.path for blob in listed])
    readable = [blob for blob in listed if blob.path in allowed]
    candidates = [blob for blob in readable if blob.size <= MAX_FILE_BYTES]
    results: list[dict[str, Any]] = []
    found: list[Finding] = []
    searched = withheld_for_secrets = 0
    for start in range(0, len(candidates), READ_CONCURRENCY):
        batch = [blob for blob in candidates[start : start + READ_CONCURRENCY] if budget.admit(blob.size)]
        contents = await asyncio.gather(*(read_blob(call.gitea, call.resource, blob.sha) for blob in batch))
        for blob, raw in zip(batch, contents, strict=True):
            scanned = await asyncio.to_thread(_scanned, raw)
            if scanned is None:
                continue
            if scanned.kinds and call.secrets == "block":
                withheld_for_secrets += 1
                continue
            searched += 1
            limit = max_results - len(results)
            hits = await asyncio.to_thread(_hits, matcher, blob.path, scanned.text, limit, budget)
            if hits:
                found += [Finding(kind, RESULTS_LOCATION) for kind in scanned.kinds]
            results += hits
            if len(results) >= max_results:
                budget.stopped = budget.stopped or "max_results"
                break
        if budget.stopped is not None:
            break
    stopped = budget.stopped or (None if tree_complete else "max_tree_entries")
    summary = {
        "ref": commit.ref,
        "commit": commit.id,
        "results": results,
        "files_searched": searched,
        "files_not_searched": len(readable) - searched - withheld_for_secrets,
        "files_withheld_for_secrets": withheld_for_secrets,
        "complete": stopped is None,
        "stopped_by": stopped,
    }
    return ToolOutput(summary, withheld=len(listed) - len(readable), findings=tuple(found))


SEARCH_TOOLS: tuple[Tool, ...] = (
    Tool(
        name="search_code",
        audited_args=("query", "regex", "ignore_case", "ref", "path_prefix", "max_results"),
        title="Search code",
        capability="read",
        shows_paths=True,
        path_arg="path_prefix",
        ref_arg="ref",
        description=(
            "Search the files of a repository at a ref (default branch if omitted) for a plain-text or RE2"
            " regular-expression query, optionally under a directory. Returns path, line number and excerpt"
            " of each matching line; bounded in files, bytes and time, and says when it stopped early."
        ),
        run=search_code,
    ),
)
