"""Webhook configuration (``routers/api/v1/repo/hook.go``, ``admin/hooks.go``, ``utils/hook.go`` in Gitea)
and the simulator's own, test-only record of what it delivered.

Repository hooks need a token that reaches the repository (``read:repository`` to list and read,
``write:repository`` to create and delete) and a caller with admin rights on it (``reqAdmin``: 403
``user should be an owner or a site admin``); system hooks (``/admin/hooks``, sent for every
repository) need ``read:admin``/``write:admin`` and a site admin (403 ``user should be the site admin``).
A new hook is checked as ``checkCreateHookOption`` checks it (422 for an unknown type, a missing ``url`` or
``content_type``, a content type other than ``json`` or ``form``); the simulator delivers only ``gitea``
and ``gogs`` hooks with ``content_type: json`` and refuses the others with a 422 of its own.

``GET /_simulator/hook_deliveries`` is not Gitea's: every delivery the simulator made, oldest first.

Example::

    Route("/api/v1/repos/{owner}/{repo}/hooks", create_repo_hook, methods=["POST"])
"""

from __future__ import annotations

from dataclasses import replace
from typing import Final

from starlette.requests import Request
from starlette.responses import Response

from ._bind import Field, Form, FormSpec, bind
from ._context import Call, json_response, open_call
from ._errors import ApiError
from ._hooks import HOOK_TYPES, chosen_events, hook_json
from ._pagination import ListOptions
from ._store import Hook
from ._writes import now_text, save, write_lock

__all__ = [
    "create_repo_hook",
    "create_system_hook",
    "delete_repo_hook",
    "delete_system_hook",
    "get_repo_hook",
    "get_system_hook",
    "list_hook_deliveries",
    "list_repo_hooks",
    "list_system_hooks",
]

CREATE_HOOK = FormSpec(
    "CreateHookOption",
    (
        Field("type", "Type", "string", ("Required",)),
        Field("config", "Config", "map[string]string", ("Required",)),
        Field("events", "Events", "[]string"),
        Field("branch_filter", "BranchFilter", "string"),
        Field("authorization_header", "AuthorizationHeader", "string"),
        Field("active", "Active", "bool"),
        Field("name", "Name", "string"),
    ),
)
_CONTENT_TYPES: Final = frozenset({"json", "form"})  # webhook_model.IsValidHookContentType


def _repo_admin(call: Call) -> int:
    """The route's repository id, for a signed-in caller with admin rights on it (``reqAdmin``)."""
    repo, permission = call.repo("repository")
    call.signed()
    if not permission.admin:
        raise ApiError(403, "user should be an owner or a site admin")
    return repo.id


def _site_admin(call: Call) -> None:
    """``/admin`` routes: the ``admin`` scope, a token, a site administrator."""
    call.require_scope("admin")
    if not call.signed().user.is_admin:
        raise ApiError(403, "user should be the site admin")


def _new_hook(call: Call, form: Form, repo_id: int) -> Hook:
    """``checkCreateHookOption`` and ``addHook``: the hook to store (not stored yet)."""
    kind = form.text("type")
    config = form.values["config"] or {}
    if kind not in HOOK_TYPES:
        raise ApiError(422, f"Invalid hook type: {kind}")
    for name in ("url", "content_type"):
        if name not in config:
            raise ApiError(422, f"Missing config option: {name}")
    if config["content_type"] not in _CONTENT_TYPES:
        raise ApiError(422, "Invalid content type")
    if kind not in ("gitea", "gogs") or config["content_type"] != "json":
        raise ApiError(
            422, "only gitea and gogs hooks with content_type json are supported by this simulator"
        )
    when = now_text()
    metadata = call.store.current()
    return Hook(
        id=max((metadata.last_hook_id, *(hook.id for hook in metadata.hooks))) + 1,
        repo_id=repo_id,
        url=config["url"],
        events=chosen_events(form.items("events")),
        created_at=when,
        updated_at=when,
        type=kind,
        name=form.text("name"),
        content_type=config["content_type"],
        secret=config.get("secret", ""),
        active=form.flag("active"),
        branch_filter=form.text("branch_filter"),
        authorization_header=form.text("authorization_header"),
    )


async def _create(call: Call, request: Request, repo_id: int) -> Response:
    form = await bind(request, CREATE_HOOK)
    async with write_lock():
        hook = _new_hook(call, form, repo_id)
        metadata = call.store.current()
        save(call, replace(metadata, hooks=(*metadata.hooks, hook), last_hook_id=hook.id))
    return json_response(hook_json(hook), status=201)


def _listed(call: Call, repo_id: int) -> Response:
    hooks = [hook for hook in call.store.current().hooks if hook.repo_id == repo_id]
    options = ListOptions.from_query(call.query)
    headers = call.list_headers(total=len(hooks), page_size=options.size, raw_page=options.raw_page)
    return json_response([hook_json(hook) for hook in options.slice(hooks)], headers=headers)


def _hook(call: Call, repo_id: int) -> Hook:
    """The route's ``{id}`` among the hooks of ``repo_id``; Gitea's plain 404 otherwise."""
    raw = call.request.path_params["id"]
    hook_id = int(raw) if raw.isdigit() else -1
    for hook in call.store.current().hooks:
        if hook.id == hook_id and hook.repo_id == repo_id:
            return hook
    raise ApiError.not_found()


async def _delete(call: Call, repo_id: int) -> Response:
    async with write_lock():
        hook = _hook(call, repo_id)
        metadata = call.store.current()
        kept = tuple(item for item in metadata.hooks if item.id != hook.id)
        save(call, replace(metadata, hooks=kept))
    return Response(status_code=204)


async def list_repo_hooks(request: Request) -> Response:
    """``GET /repos/{owner}/{repo}/hooks``: 200 HookList, paginated."""
    call = open_call(request)
    return _listed(call, _repo_admin(call))


async def create_repo_hook(request: Request) -> Response:
    """``POST /repos/{owner}/{repo}/hooks``: 201 Hook."""
    call = open_call(request)
    return await _create(call, request, _repo_admin(call))


async def get_repo_hook(request: Request) -> Response:
    """``GET /repos/{owner}/{repo}/hooks/{id}``: 200 Hook, 404 for another repository's."""
    call = open_call(request)
    return json_response(hook_json(_hook(call, _repo_admin(call))))


async def delete_repo_hook(request: Request) -> Response:
    """``DELETE /repos/{owner}/{repo}/hooks/{id}``: 204."""
    call = open_call(request)
    return await _delete(call, _repo_admin(call))


async def list_system_hooks(request: Request) -> Response:
    """``GET /admin/hooks``: the system hooks (``type=system``, the default; no default hooks here)."""
    call = open_call(request)
    _site_admin(call)
    return _listed(call, 0)


async def create_system_hook(request: Request) -> Response:
    """``POST /admin/hooks``: 201 Hook, sent for every repository."""
    call = open_call(request)
    _site_admin(call)
    return await _create(call, request, 0)


async def get_system_hook(request: Request) -> Response:
    call = open_call(request)
    _site_admin(call)
    return json_response(hook_json(_hook(call, 0)))


async def delete_system_hook(request: Request) -> Response:
    call = open_call(request)
    _site_admin(call)
    return await _delete(call, 0)


async def list_hook_deliveries(request: Request) -> Response:
    """Test-only: every delivery, oldest first (``?hook_id=N`` for one hook's)."""
    call = open_call(request)
    wanted = call.query.get("hook_id", "")
    deliveries = [
        delivery.to_json()
        for delivery in call.hooks.deliveries()
        if not wanted or str(delivery.hook_id) == wanted
    ]
    return json_response(deliveries)
