"""Webhooks as Gitea models them: the event types a hook is sent for, its branch filter, its API JSON.

``chosen_events`` turns a ``CreateHookOption.events`` list into event types as ``addHook`` does
(``routers/api/v1/utils/hook.go``): no events means ``push``; ``issues`` also chooses every issue
sub-event (``issue_assign``, ``issue_label``, ``issue_milestone``, ``issue_comment``) and
``pull_request`` every pull request one (``pull_request_label``, ``pull_request_comment``,
``pull_request_sync``, ...); names are matched case-insensitively. ``header_event`` is the
``X-Gitea-Event`` of an event type (``HookEventType.Event`` in ``modules/webhook/type.go``).

Example::

    chosen_events(["issues"])             # ("issues", "issue_assign", "issue_label", ...)
    sends(hook, "issue_label", branch="")  # active, chosen, and the branch filter matches
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, Final

from ._store import Hook

__all__ = ["HOOK_TYPES", "branch_matches", "chosen_events", "header_event", "hook_json", "sends"]

# CreateHookOption.type's enum; the simulator delivers only the two that send Gitea's own payload.
HOOK_TYPES: Final = frozenset(
    {
        "dingtalk",
        "discord",
        "gitea",
        "gogs",
        "msteams",
        "slack",
        "telegram",
        "feishu",
        "wechatwork",
        "packagist",
    }
)
_ISSUE_EVENTS: Final = ("issue_assign", "issue_label", "issue_milestone", "issue_comment")
_PULL_EVENTS: Final = (
    "pull_request_assign",
    "pull_request_label",
    "pull_request_milestone",
    "pull_request_comment",
    "pull_request_review",
    "pull_request_review_request",
    "pull_request_sync",
)
_HEADER_EVENTS: Final = {
    "issue_assign": "issues",
    "issue_label": "issues",
    "issue_milestone": "issues",
    "pull_request_comment": "issue_comment",
    "pull_request_assign": "pull_request",
    "pull_request_label": "pull_request",
    "pull_request_milestone": "pull_request",
    "pull_request_sync": "pull_request",
    "pull_request_review_request": "pull_request",
    "pull_request_review_approved": "pull_request_approved",
    "pull_request_review_rejected": "pull_request_rejected",
    "pull_request_review_comment": "pull_request_comment",
}
_REVIEW_EVENTS: Final = frozenset(
    {"pull_request_review_approved", "pull_request_review_rejected", "pull_request_review_comment"}
)


def header_event(event_type: str) -> str:
    """``X-Gitea-Event`` for an event type (``X-Gitea-Event-Type`` is the type itself)."""
    return _HEADER_EVENTS.get(event_type, event_type)


def chosen_events(requested: Iterable[str] | None) -> tuple[str, ...]:
    """The event types ``addHook`` enables for a ``CreateHookOption.events`` list."""
    wanted = {name.lower() for name in requested or ()} or {"push"}
    issues, pulls = "issues" in wanted, "pull_request" in wanted
    chosen: list[str] = [name for name in ("create", "delete", "fork", "push") if name in wanted]
    if issues or "issues_only" in wanted:
        chosen.append("issues")
    chosen += [name for name in _ISSUE_EVENTS if issues or name in wanted]
    if pulls or "pull_request_only" in wanted:
        chosen.append("pull_request")
    chosen += [name for name in _PULL_EVENTS if pulls or name in wanted]
    chosen += [name for name in ("wiki", "repository", "release") if name in wanted]
    return tuple(chosen)


def _glob_regex(pattern: str) -> re.Pattern[str]:
    """gobwas/glob without separators: ``*`` any text (``/`` too), ``?`` one character, ``[...]`` and
    ``[!...]`` classes, ``{a,b}`` alternatives, ``\\`` escapes."""
    out: list[str] = []
    index, depth = 0, 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            index += 1
            out.append(re.escape(pattern[index]))
        elif char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            end = pattern.find("]", index + 1)
            if end < 0:
                out.append(re.escape(char))
            else:
                body = pattern[index + 1 : end]
                negate = body.startswith("!")
                body = re.escape(body[1:] if negate else body).replace("\\-", "-")
                out.append(f"[{'^' if negate else ''}{body}]")
                index = end
        elif char == "{":
            depth += 1
            out.append("(?:")
        elif char == "," and depth:
            out.append("|")
        elif char == "}" and depth:
            depth -= 1
            out.append(")")
        else:
            out.append(re.escape(char))
        index += 1
    return re.compile("".join(out) + ")" * depth, re.DOTALL)


def branch_matches(branch_filter: str, branch: str) -> bool:
    """``checkBranch``: an empty filter or ``*`` lets every branch through, else the glob must match."""
    if branch_filter in ("", "*"):
        return True
    return _glob_regex(branch_filter).fullmatch(branch) is not None


def sends(hook: Hook, event_type: str, *, branch: str) -> bool:
    """Whether ``PrepareWebhooks`` makes a task of this hook: active (``ListWebhooksByOpts`` asks only for
    active ones), the event chosen (``HasEvent``), and for a payload of a branch the branch filter."""
    if not hook.active:
        return False
    chosen = "pull_request_review" if event_type in _REVIEW_EVENTS else event_type
    if chosen not in hook.events:
        return False
    return not branch or branch_matches(hook.branch_filter, branch)


def hook_json(hook: Hook) -> dict[str, Any]:
    """``webhook_service.ToHook``: the secret is never shown; ``config`` has the URL and content type."""
    return {
        "id": hook.id,
        "type": hook.type,
        "name": hook.name,
        "branch_filter": hook.branch_filter,
        "config": {"url": hook.url, "content_type": hook.content_type},
        "events": list(hook.events),
        "authorization_header": hook.authorization_header,
        "active": hook.active,
        "updated_at": hook.updated_at,
        "created_at": hook.created_at,
    }
