"""find_secrets: where a repository holds committed secrets at a ref, never the secrets themselves.

The files are walked as search_code walks them (`_walk`): the tree at the commit the ref names, only the
paths the policy lets the call show, each read as the blob the listing named, within the same bounds.
Each text file is scanned whole by the detectors that mask secrets in every result (`locate_secrets`),
and each secret found is reported by path, line, kind, blob and fingerprint: a SHA-256 of the repository,
the path, the kind and the SHA-256 of the secret's characters, so that a job can tell a secret it already
reported (same fingerprint, whatever line it moved to) from a new one, and two secrets apart. No excerpt
and no hash of the secret alone leave the tool. Binary and oversized files are skipped and counted;
whatever bound stops the walk, the result says which.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import time
from typing import Any

from gateway.sanitize import LocatedSecret, locate_secrets
from gateway.tools._spec import Tool, ToolCall, ToolOutput
from gateway.tools._walk import MAX_FILE_BYTES, TIME_BUDGET_S, Budget, allowed_files, read_blobs, text_of

MAX_FINDINGS = 500
FINGERPRINT_SCHEME = "aegis.find_secrets.v1"


def fingerprint(repo: str, path: str, kind: str, digest: str) -> str:
    """SHA-256 (hex) of the canonical JSON of the scheme, `owner/name` lower-cased, the path, the kind and
    the secret's own SHA-256."""
    canonical = json.dumps([FINGERPRINT_SCHEME, repo, path, kind, digest], separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _located(raw: bytes) -> tuple[LocatedSecret, ...] | None:
    """The secrets of a file; None for a binary or oversized one. Scanning takes a while: not on the
    event loop."""
    text = text_of(raw)
    return None if text is None else locate_secrets(text)


async def find_secrets(call: ToolCall) -> ToolOutput:
    repo = f"{call.resource.owner}/{call.resource.name}".lower()
    budget = Budget(deadline=time.monotonic() + TIME_BUDGET_S)
    files = await allowed_files(call.gitea, call.resource, call.paths)
    small = files.small
    findings: list[dict[str, Any]] = []
    scanned = binary = 0
    async with contextlib.aclosing(read_blobs(call.gitea, call.resource, small, budget)) as blobs:
        async for blob, raw in blobs:
            located = await asyncio.to_thread(_located, raw)
            if located is None:
                binary += 1
                continue
            scanned += 1
            findings += [
                {
                    "path": blob.path,
                    "line": secret.line,
                    "kind": secret.kind,
                    "blob_sha": blob.sha,
                    "fingerprint": fingerprint(repo, blob.path, secret.kind, secret.digest),
                }
                for secret in located
            ]
            if len(findings) > MAX_FINDINGS:
                del findings[MAX_FINDINGS:]
                budget.stopped = budget.stopped or "max_findings"
                break
    skipped = {
        "binary": binary,
        "too_large": len(files.readable) - len(small),
        "not_reached": len(small) - scanned - binary,
    }
    summary = files.summary(
        budget, {"findings": findings, "files_scanned": scanned, "files_skipped": skipped}
    )
    return ToolOutput(summary, withheld=files.withheld)


SECRET_TOOLS: tuple[Tool, ...] = (
    Tool(
        name="find_secrets",
        audited_args=("ref",),
        title="Find committed secrets",
        capability="read",
        shows_paths=True,
        ref_arg="ref",
        description=(
            "Scan the files of a repository at a ref (default branch if omitted) for committed secrets"
            " (private keys, tokens, passwords). Returns path, line, kind, blob sha and a stable"
            f" fingerprint of each, never the secret; files over {MAX_FILE_BYTES >> 20} MiB and binary"
            " files are skipped and counted; bounded in files, bytes and time, and says when it stopped"
            " early."
        ),
        run=find_secrets,
    ),
)
