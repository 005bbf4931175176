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
import contextlib
import time
from typing import Any

from gateway.sanitize import Finding, ScannedText, scan_text
from gateway.tools._matcher import Matcher
from gateway.tools._spec import Tool, ToolCall, ToolOutput
from gateway.tools._walk import TIME_BUDGET_S, Budget, allowed_files, read_blobs, text_of

MAX_LINE_CHARS = 4096
DEADLINE_CHECK_LINES = 256
EXCERPT_CHARS = 160
DEFAULT_MAX_RESULTS = 30
RESULTS_LOCATION = "/results"  # where the secrets masked in the searched files would have shown


def _hits(matcher: Matcher, path: str, text: str, limit: int, budget: Budget) -> list[dict[str, Any]]:
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
    text = text_of(raw)
    return None if text is None else scan_text(text)


async def search_code(call: ToolCall) -> ToolOutput:
    args = call.args
    matcher = Matcher(args["query"], regex=bool(args.get("regex")), ignore_case=bool(args.get("ignore_case")))
    max_results = int(args.get("max_results", DEFAULT_MAX_RESULTS))
    budget = Budget(deadline=time.monotonic() + TIME_BUDGET_S)
    files = await allowed_files(call.gitea, call.resource, call.paths)
    results: list[dict[str, Any]] = []
    found: list[Finding] = []
    searched = withheld_for_secrets = 0
    async with contextlib.aclosing(read_blobs(call.gitea, call.resource, files.small, budget)) as blobs:
        async for blob, raw in blobs:
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
    summary = files.summary(
        budget,
        {
            "results": results,
            "files_searched": searched,
            "files_not_searched": len(files.readable) - searched - withheld_for_secrets,
            "files_withheld_for_secrets": withheld_for_secrets,
        },
    )
    return ToolOutput(summary, withheld=files.withheld, findings=tuple(found))


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
