"""The write tools. Each takes owner, name, path, ref and branch from the normalized resource only.

No merge, PR update, branch deletion or rename, tag deletion, repository edit or admin call exists
here, and the Gitea client could not send one (gateway.gitea._writes).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from gateway.errors import InvalidToolCall, Refused, UpstreamError
from gateway.gitea import (
    GiteaClient,
    commit_file,
    current_file,
    repo_path,
)
from gateway.tools._spec import Tool, ToolCall, ToolOutput, WriteSize
from gateway.vocabulary import FileSnapshot, Resource

LABEL_PAGE_SIZE = 50
MAX_LABEL_PAGES = 20


def _text_bytes(*fields: str) -> WriteSize:
    """A write_size: the UTF-8 bytes of the given text arguments."""

    def size(args: Mapping[str, Any]) -> int:
        return sum(len(str(args.get(field) or "").encode("utf-8")) for field in fields)

    return size


def file_content(args: Mapping[str, Any]) -> bytes:
    """The bytes create_or_update_file stores: `content` as UTF-8 text, or decoded with encoding base64."""
    content = str(args["content"])
    if args.get("encoding", "utf-8") == "utf-8":
        return content.encode("utf-8")
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidToolCall("Invalid arguments: 'content' is not valid base64") from None


def _file_size(args: Mapping[str, Any]) -> int:
    return len(file_content(args))


def _index(args: Mapping[str, Any]) -> str:
    return str(int(args["index"]))


def _issue_result(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "number": raw.get("number"),
        "title": raw.get("title"),
        "state": raw.get("state"),
        "url": raw.get("html_url"),
    }


async def create_issue(call: ToolCall) -> ToolOutput:
    raw = await call.gitea.send_json(
        "POST",
        repo_path(call.resource, "issues"),
        {"title": call.args["title"], "body": call.args.get("body", "")},
    )
    return ToolOutput(_issue_result(raw), upstream={"issue": raw.get("number")})


async def update_issue(call: ToolCall) -> ToolOutput:
    changes = {field: call.args[field] for field in ("title", "body", "state") if field in call.args}
    raw = await call.gitea.send_json("PATCH", repo_path(call.resource, "issues", _index(call.args)), changes)
    return ToolOutput(_issue_result(raw), upstream={"issue": raw.get("number")})


async def create_issue_comment(call: ToolCall) -> ToolOutput:
    index = _index(call.args)
    raw = await call.gitea.send_json(
        "POST", repo_path(call.resource, "issues", index, "comments"), {"body": call.args["body"]}
    )
    result = {"issue": int(index), "comment": raw.get("id"), "url": raw.get("html_url")}
    return ToolOutput(result, upstream={"issue": int(index), "comment": raw.get("id")})


async def _label_ids(gitea: GiteaClient, resource: Resource, names: list[str]) -> dict[str, int]:
    """The ids of the repository's labels named `names`; an unknown name is the caller's error."""
    found: dict[str, int] = {}
    for page in range(1, MAX_LABEL_PAGES + 1):
        batch = await gitea.get_page(repo_path(resource, "labels"), {"page": page, "limit": LABEL_PAGE_SIZE})
        found.update({label["name"]: label["id"] for label in batch.items if label.get("name") in names})
        if len(batch.items) < LABEL_PAGE_SIZE or len(found) == len(set(names)):
            break
    unknown = sorted(set(names) - set(found))
    if unknown:
        raise InvalidToolCall(f"Invalid arguments: 'labels': no such label in the repository: {unknown}")
    return found


async def add_labels(call: ToolCall) -> ToolOutput:
    index = _index(call.args)
    ids = await _label_ids(call.gitea, call.resource, call.args["labels"])
    raw = await call.gitea.send_json(
        "POST", repo_path(call.resource, "issues", index, "labels"), {"labels": sorted(ids.values())}
    )
    labels = sorted(label.get("name") for label in raw or [])
    return ToolOutput({"issue": int(index), "labels": labels}, upstream={"issue": int(index)})


async def remove_labels(call: ToolCall) -> ToolOutput:
    """One DELETE per label. Once one has succeeded the call has written something: a later failure is
    reported in the result (and the audit entry), not as a call that changed nothing."""
    index = _index(call.args)
    ids = await _label_ids(call.gitea, call.resource, call.args["labels"])
    removed: list[str] = []
    for name, label_id in sorted(ids.items()):
        try:
            await call.gitea.send_json(
                "DELETE", repo_path(call.resource, "issues", index, "labels", str(label_id))
            )
        except UpstreamError as exc:
            if not removed:
                raise
            failed = {"failed": name, "error": exc.kind}
            result = {"issue": int(index), "removed": removed, **failed}
            return ToolOutput(result, upstream={"issue": int(index), "removed": removed, **failed})
        removed.append(name)
    return ToolOutput({"issue": int(index), "removed": removed}, upstream={"issue": int(index)})


async def create_branch(call: ToolCall) -> ToolOutput:
    body = {"new_branch_name": call.resource.branch}
    if call.resource.ref:
        body["old_ref_name"] = call.resource.ref
    raw = await call.gitea.send_json("POST", repo_path(call.resource, "branches"), body)
    commit = (raw.get("commit") or {}).get("id")
    return ToolOutput(
        {"branch": raw.get("name"), "commit": commit}, upstream={"branch": raw.get("name"), "commit": commit}
    )


async def create_or_update_file(call: ToolCall) -> ToolOutput:
    """Read what the file is now (kept as the snapshot), then create it, or update it when `sha` names
    exactly the blob just read: Gitea refuses the update if the file changed since, so the snapshot is
    always what the write replaced."""
    if call.resource.repo is None or call.resource.path is None or call.resource.branch is None:
        raise UpstreamError("rejected")
    content = file_content(call.args)
    try:
        previous_sha, previous = await current_file(call.gitea, call.resource)
    except Refused as refused:
        raise InvalidToolCall(f"Invalid arguments: {refused}") from refused
    expected = call.args.get("sha")
    if expected is None and previous_sha is not None:
        raise InvalidToolCall(
            f"Invalid arguments: {call.resource.path} exists on {call.resource.branch}; "
            f"to update it, pass its current blob sha ({previous_sha})"
        )
    if expected is not None and expected != previous_sha:
        now = f"its current blob sha is {previous_sha}" if previous_sha else "it does not exist"
        raise InvalidToolCall(f"Invalid arguments: 'sha' does not match {call.resource.path}: {now}")
    verb = "Update" if previous_sha else "Create"
    message = call.args.get("message") or f"{verb} {call.resource.path} (via Aegis)"
    new_sha, commit_sha = await commit_file(
        call.gitea, call.resource, content=content, replacing=previous_sha, message=message
    )
    if new_sha is None:
        raise UpstreamError("malformed")
    snapshot = FileSnapshot(
        repo=call.resource.repo,
        path=call.resource.path,
        branch=call.resource.branch,
        previous_sha=previous_sha,
        previous_content=previous,
        new_sha=new_sha,
        commit_sha=commit_sha,
    )
    result = {
        "path": call.resource.path,
        "branch": call.resource.branch,
        "created": previous_sha is None,
        "sha": new_sha,
        "commit": commit_sha,
        "bytes": len(content),
    }
    return ToolOutput(result, upstream={"commit": commit_sha, "blob": new_sha}, snapshot=snapshot)


async def create_pull_request(call: ToolCall) -> ToolOutput:
    body = {
        "title": call.args["title"],
        "body": call.args.get("body", ""),
        "head": call.args["head"],
        "base": call.resource.branch,
    }
    raw = await call.gitea.send_json("POST", repo_path(call.resource, "pulls"), body)
    result = {
        "number": raw.get("number"),
        "url": raw.get("html_url"),
        "head": call.args["head"],
        "base": call.resource.branch,
    }
    return ToolOutput(result, upstream={"pull_request": raw.get("number")})


WRITE_TOOLS: tuple[Tool, ...] = (
    Tool(
        name="create_issue",
        title="Create issue",
        capability="write",
        description="Open a new issue in a repository.",
        run=create_issue,
        write_size=_text_bytes("title", "body"),
    ),
    Tool(
        name="update_issue",
        audited_args=("index", "state"),
        title="Update issue",
        capability="write",
        description="Change the title, body or state (open/closed) of an issue or pull request.",
        run=update_issue,
        write_size=_text_bytes("title", "body"),
        destructive=True,
    ),
    Tool(
        name="create_issue_comment",
        audited_args=("index",),
        title="Comment on issue",
        capability="write",
        description="Add a comment to an issue or pull request.",
        run=create_issue_comment,
        write_size=_text_bytes("body"),
    ),
    Tool(
        name="add_labels",
        audited_args=("index", "labels"),
        title="Add labels",
        capability="write",
        description="Add existing repository labels (by name) to an issue or pull request.",
        run=add_labels,
    ),
    Tool(
        name="remove_labels",
        audited_args=("index", "labels"),
        title="Remove labels",
        capability="write",
        description="Remove labels (by name) from an issue or pull request.",
        run=remove_labels,
        destructive=True,
    ),
    Tool(
        name="create_branch",
        audited_args=("branch", "from_ref"),
        title="Create branch",
        capability="write",
        branch_arg="branch",
        ref_arg="from_ref",
        description="Create a branch from a ref (the default branch if omitted). Never deletes or moves one.",
        run=create_branch,
    ),
    Tool(
        name="create_or_update_file",
        audited_args=("filepath", "branch", "encoding", "sha"),
        title="Create or update file",
        capability="write",
        path_arg="filepath",
        branch_arg="branch",
        description=(
            "Commit one file to a branch: create it, or update it by passing its current blob sha. "
            "The previous content is kept for rollback."
        ),
        run=create_or_update_file,
        write_size=_file_size,
        destructive=True,
    ),
    Tool(
        name="create_pull_request",
        audited_args=("head", "base"),
        title="Create pull request",
        capability="write",
        branch_arg="base",
        other_ref_args=("head",),
        description="Open a pull request from a head branch into a base branch. Never merges.",
        run=create_pull_request,
        write_size=_text_bytes("title", "body"),
    ),
)
