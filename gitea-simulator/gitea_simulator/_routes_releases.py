"""Handlers for a repository's tags (from git) and releases (from the metadata), as
``routers/api/v1/repo/{tag,release}.go``.

As in Gitea: tags are newest first and are paged only when ``page`` is given, with X-Total-Count and no
Link header; releases are newest first, drafts only for callers who may write to the repository, filtered
by ``draft`` and ``pre-release``.

Example::

    Route("/api/v1/repos/{owner}/{repo}/releases", list_releases)
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from ._context import json_response, open_call
from ._git import tag_infos
from ._pagination import ListOptions, total_count_headers
from ._render import release_json
from ._render_git import tag_json

__all__ = ["list_releases", "list_tags"]


async def list_tags(request: Request) -> Response:
    """``GET /tags``: TagList."""
    call = open_call(request)
    repo, _ = call.repo("repository")
    tags = [] if repo.empty else await tag_infos(call.git_dir(repo))
    options = ListOptions.from_query(call.query)
    shown = options.slice(tags) if options.raw_page != 0 else tags  # GetTagInfos pages only with a page
    data = [tag_json(call.site, repo, tag) for tag in shown]
    return json_response(data, headers=total_count_headers(len(tags)))


async def list_releases(request: Request) -> Response:
    """``GET /releases``: ReleaseList."""
    call = open_call(request)
    repo, permission = call.repo("repository")
    draft, prerelease = call.optional_flag("draft"), call.optional_flag("pre-release")
    releases = sorted(
        (
            release
            for release in repo.releases
            if (permission.push or not release.draft)
            and (draft is None or release.draft == draft)
            and (prerelease is None or release.prerelease == prerelease)
        ),
        key=lambda release: (release.created_at, release.id),
        reverse=True,
    )
    options = ListOptions.from_query(call.query)
    data = [release_json(call.site, call.metadata, repo, release) for release in options.slice(releases)]
    headers = call.list_headers(total=len(releases), page_size=options.size, raw_page=options.raw_page)
    return json_response(data, headers=headers)
