"""Handlers for issue listing and single issues (pull requests are issues too, as in Gitea).

Example::

    Route("/api/v1/repos/{owner}/{repo}/issues", list_issues)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ._context import json_response, open_call
from ._errors import ApiError
from ._pagination import ListOptions
from ._render import issue_json
from ._store import Issue, Repo

__all__ = ["get_issue", "list_issues", "path_issue"]


def _matches(issue: Issue, *, state: str, kind: str, labels: set[str], keyword: str) -> bool:
    if state != "all" and issue.state != state:
        return False
    if (kind == "issues" and issue.is_pull) or (kind == "pulls" and not issue.is_pull):
        return False
    if labels and not labels.intersection(issue.labels):
        return False
    return not keyword or keyword in issue.title.lower() or keyword in issue.body.lower()


def _label_filter(repo: Repo, raw: str) -> set[str]:
    """Gitea keeps only the names of labels that exist; none left means no label filter at all."""
    known = {label.name for label in repo.labels}
    return {name.strip() for name in raw.split(",") if name.strip() in known}


async def list_issues(request: Request) -> Response:
    """``GET /issues``: open unless ``state=closed|all``, newest first; PRs too unless ``type=issues``."""
    call = open_call(request)
    repo, _ = call.repo("issue")
    options = ListOptions.from_query(call.query)
    state = call.query.get("state", "")
    state = state if state in ("closed", "all") else "open"
    kind = call.query.get("type", "")
    labels = _label_filter(repo, call.query.get("labels", ""))
    keyword = call.query.get("q", "").strip().lower()
    matching = [
        issue
        for issue in repo.issues
        if _matches(issue, state=state, kind=kind, labels=labels, keyword=keyword)
    ]
    matching.sort(key=lambda issue: (issue.created_at, issue.id), reverse=True)
    data = [issue_json(call.site, call.metadata, repo, issue, call.doer) for issue in options.slice(matching)]
    headers = call.list_headers(total=len(matching), page_size=options.size, raw_page=options.raw_page)
    return json_response(data, headers=headers)


def path_issue(repo: Repo, request: Request) -> Issue:
    """The issue (or pull request) numbered by the route's ``{index}``; 404 when there is none."""
    try:
        number = int(request.path_params["index"], 10)
    except ValueError:
        number = 0  # Go's PathParamInt64
    issue = repo.issue(number)
    if issue is None:
        raise ApiError.not_found()
    return issue


async def get_issue(request: Request) -> Response:
    call = open_call(request)
    repo, _ = call.repo("issue")
    issue = path_issue(repo, request)
    return json_response(issue_json(call.site, call.metadata, repo, issue, call.doer))
