"""The `page` and `limit` arguments of list tools, and what a listed page says about itself."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gateway.gitea import Page

DEFAULT_LIMIT = 30


def paging(args: Mapping[str, Any]) -> dict[str, int]:
    return {"page": int(args.get("page", 1)), "limit": int(args.get("limit", DEFAULT_LIMIT))}


def page_info(page: Page, args: Mapping[str, Any]) -> dict[str, Any]:
    return {"page": paging(args)["page"], "count": len(page.items), "total": page.total}
