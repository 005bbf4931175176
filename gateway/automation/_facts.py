"""What a trigger tells a job, read once from a Gitea webhook payload (or a schedule's slot): the `trigger`
a job's filters match and its templates may name.

Gitea's payloads (modules/structs/hook.go) name the repository as `repository.full_name`, an issue's or
pull request's number and labels under `issue` or `pull_request`, and a push's changed files per commit
(`commits[].added|modified|removed`). Paths are a push's changed files; for an issue, a pull request or a
comment they are the paths its text mentions (a word with a `/` or a file extension), normalized as a
tool call's path would be, so that a job's `paths` globs match what an agent's path rules would.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from gateway.core.normalize import normalize_name, normalize_path
from gateway.errors import InvalidToolCall

MAX_PATHS = 1000  # of a push, or mentioned in an issue's, pull request's or comment's text
MAX_SCANNED_TEXT = 64 << 10
# A word with a '/' or a file extension, not part of a longer word, path or URL ("https://host/x").
_PATH_WORD = re.compile(
    r"(?<![\w/:.\-])(?:[\w.\-]+(?:/[\w.\-]+)+|[\w\-][\w.\-]*\.[A-Za-z0-9]{1,8})(?![\w/\-])"
)
_HEADS = "refs/heads/"


def webhook_facts(event: str, payload: Mapping[str, Any], *, delivery: str) -> dict[str, Any]:
    """The trigger of one webhook delivery: kind, event, action, repository (owner/name, lower-cased),
    owner, repo, number, branch, labels, paths (with paths_complete), sender and the delivery id."""
    owner, repo = _repository(_object(payload, "repository"))
    issue = _object(payload, "pull_request") or _object(payload, "issue")
    texts = [_text(issue, "title"), _text(issue, "body"), _text(_object(payload, "comment"), "body")]
    if event == "push":
        paths, complete = _pushed_paths(payload)
        ref = payload.get("ref")
        branch = ref[len(_HEADS) :] if isinstance(ref, str) and ref.startswith(_HEADS) else None
    else:
        paths, complete = _mentioned_paths(texts)
        base = _object(_object(payload, "pull_request"), "base")
        branch = base.get("ref") if isinstance(base.get("ref"), str) else None
    number = issue.get("number")
    return {
        "kind": "webhook",
        "event": event,
        "action": payload.get("action") if isinstance(payload.get("action"), str) else None,
        "repository": f"{owner}/{repo}" if owner and repo else None,
        "owner": owner,
        "repo": repo,
        "number": number if isinstance(number, int) and not isinstance(number, bool) else None,
        "branch": branch,
        "labels": _label_names(issue),
        "paths": paths,
        "paths_complete": complete,
        "sender": _text(_object(payload, "sender"), "login") or None,
        "delivery": delivery,
    }


# What each event's payload must hold (modules/structs/hook.go): the header naming the event is not
# covered by the signature, so a payload is trusted as an event only with that event's shape.
_SHAPES = {
    "issues": ("issue", "repository"),
    "issue_comment": ("issue", "comment", "repository"),
    "pull_request": ("pull_request", "repository"),
    "push": ("ref", "commits", "repository"),
}


def has_shape_of(event: str, payload: Mapping[str, Any]) -> bool:
    """Whether `payload` holds what a Gitea `event` payload holds, and no issue comment poses as an issue."""
    fields = _SHAPES.get(event)
    if fields is None or any(payload.get(field) is None for field in fields):
        return False
    return event == "issue_comment" or "comment" not in payload


def schedule_facts(slot: str, repository: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The trigger of one schedule slot (RFC 3339 UTC), for one repository of a job that runs per
    repository (`repository` as `list_repositories` shows it); it names no event or path."""
    facts: dict[str, Any] = {"kind": "schedule", "slot": slot}
    if repository is not None:
        owner, repo = _repository(repository)
        facts.update(
            repository=f"{owner}/{repo}" if owner and repo else None,
            owner=owner,
            repo=repo,
            default_branch=repository.get("default_branch"),
        )
    return facts


def _repository(repository: Mapping[str, Any]) -> tuple[str | None, str | None]:
    full_name = repository.get("full_name")
    if not isinstance(full_name, str) or full_name.count("/") != 1:
        return None, None
    owner, _, name = full_name.partition("/")
    try:
        return normalize_name("owner", owner), normalize_name("repo", name)
    except InvalidToolCall:
        return None, None


def _pushed_paths(payload: Mapping[str, Any]) -> tuple[list[str], bool]:
    """A push's changed paths, and whether they are all of them: Gitea lists at most 5 commits of a push
    (`total_commits` counts them all), and the list is bounded here too."""
    commits = [commit for commit in payload.get("commits") or () if isinstance(commit, Mapping)]
    found = [
        item
        for commit in commits
        for change in ("added", "modified", "removed")
        for item in commit.get(change) or ()
        if isinstance(item, str)
    ]
    total = payload.get("total_commits")
    listed_all = not isinstance(total, int) or total <= len(commits)
    paths, complete = _normalized(found)
    return paths, complete and listed_all


def _mentioned_paths(texts: list[str]) -> tuple[list[str], bool]:
    words = [word.rstrip(".") for text in texts for word in _PATH_WORD.findall(text[:MAX_SCANNED_TEXT])]
    paths, complete = _normalized(words)
    return paths, complete and all(len(text) <= MAX_SCANNED_TEXT for text in texts)


def _normalized(paths: list[str]) -> tuple[list[str], bool]:
    """Each path normalized once, in first-seen order, what no tool call could name left out; and
    whether all were kept (at most MAX_PATHS are)."""
    kept: dict[str, None] = {}
    for path in paths:
        try:
            normalized = normalize_path("path", path)
        except InvalidToolCall:
            continue
        if normalized not in kept and len(kept) == MAX_PATHS:
            return list(kept), False
        kept.setdefault(normalized, None)
    return list(kept), True


def _label_names(issue: Mapping[str, Any]) -> list[str]:
    labels = issue.get("labels")
    return [
        label["name"]
        for label in labels or ()
        if isinstance(label, Mapping) and isinstance(label.get("name"), str)
    ]


def _object(value: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    found = value.get(key)
    return found if isinstance(found, Mapping) else {}


def _text(value: Mapping[str, Any], key: str) -> str:
    found = value.get(key)
    return found if isinstance(found, str) else ""
