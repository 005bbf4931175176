"""Gitea's list pagination: page and limit parsing, X-Total-Count and the Link header.

Mirrors ``utils.GetListOptions``, ``convert.ToCorrectPageSize``, ``modules/paginator``,
``APIContext.SetLinkHeader`` and ``SetTotalCountHeader``: the page is 1-based and clamped to >= 1, a limit
<= 0 means 30, above 50 means 50, and the Link header names only the pages that exist, as absolute URLs.
Histories (commits, a pull request's files) add X-Page, X-PerPage, X-PageCount, X-HasMore (commits also
X-Total).

Example::

    page = ListOptions.from_query({"page": "2", "limit": "1"})
    headers = list_headers(url, total=5, page_size=page.size, raw_page=page.raw_page)
    add_page_headers(headers, page, total=5, with_total=True)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

__all__ = [
    "DEFAULT_PAGING_NUM",
    "MAX_RESPONSE_ITEMS",
    "ListOptions",
    "add_page_headers",
    "form_int",
    "list_headers",
    "total_count_headers",
]

DEFAULT_PAGING_NUM = 30
MAX_RESPONSE_ITEMS = 50

_T = TypeVar("_T")


def form_int(query: Mapping[str, str], name: str) -> int:
    """Go's ``ctx.FormInt``: the integer value of a query parameter, 0 when absent or not an integer."""
    raw = query.get(name, "")
    try:
        return int(raw, 10)
    except ValueError:
        return 0


@dataclass(frozen=True, slots=True)
class ListOptions:
    page: int
    size: int
    raw_page: int

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> ListOptions:
        raw_page = form_int(query, "page")
        size = form_int(query, "limit")
        if size <= 0:
            size = DEFAULT_PAGING_NUM
        elif size > MAX_RESPONSE_ITEMS:
            size = MAX_RESPONSE_ITEMS
        return cls(page=max(raw_page, 1), size=size, raw_page=raw_page)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def slice(self, items: list[_T]) -> list[_T]:
        return items[self.offset : self.offset + self.size]


def _expose(headers: dict[str, str], *names: str) -> None:
    """``AppendAccessControlExposeHeaders``."""
    exposed = headers.get("Access-Control-Expose-Headers")
    headers["Access-Control-Expose-Headers"] = ", ".join([exposed, *names] if exposed else names)


def total_count_headers(total: int, headers: dict[str, str] | None = None) -> dict[str, str]:
    """``SetTotalCountHeader``: X-Total-Count (added to ``headers``), exposed to CORS callers."""
    headers = {} if headers is None else headers
    headers["X-Total-Count"] = str(total)
    _expose(headers, "X-Total-Count")
    return headers


def list_headers(
    request_url: str, *, app_url: str, total: int, page_size: int, raw_page: int
) -> dict[str, str]:
    """Link when some other page exists, and X-Total-Count; with the CORS exposure Gitea adds."""
    headers: dict[str, str] = {}
    links = _links(request_url, app_url, total, page_size, raw_page)
    if links:
        headers["Link"] = ",".join(links)
        _expose(headers, "Link")
    return total_count_headers(total, headers)


def add_page_headers(headers: dict[str, str], options: ListOptions, *, total: int, with_total: bool) -> None:
    """A history's X-Page, X-PerPage, (X-Total,) X-PageCount and X-HasMore, exposed to CORS callers."""
    page_count = math.ceil(total / options.size)
    values = {"X-Page": str(options.page), "X-PerPage": str(options.size)}
    if with_total:
        values["X-Total"] = str(total)
    values["X-PageCount"] = str(page_count)
    values["X-HasMore"] = "true" if options.page < page_count else "false"
    headers.update(values)
    _expose(headers, *values)


def _links(request_url: str, app_url: str, total: int, page_size: int, raw_page: int) -> list[str]:
    page_size = max(page_size, 1)
    total_pages = 1 if total == 0 else math.ceil(total / page_size)
    current = min(max(raw_page, 1), total_pages)
    has_next = total > current * page_size
    is_last = total == 0 or (total > (current - 1) * page_size and not has_next)
    links = []
    if has_next:
        links.append(_link(request_url, app_url, current + 1, "next"))
    if not is_last:
        links.append(_link(request_url, app_url, total_pages, "last"))
    if current != 1:
        links.append(_link(request_url, app_url, 1, "first"))
    if current > 1:
        links.append(_link(request_url, app_url, current - 1, "prev"))
    return links


def _link(request_url: str, app_url: str, page: int, rel: str) -> str:
    parts = urlsplit(request_url)
    pairs = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True) if key != "page"]
    pairs.append(("page", str(page)))
    # Go's url.Values.Encode sorts by key and keeps each key's values in order.
    query = urlencode(sorted(pairs, key=lambda pair: pair[0]))
    path = quote(parts.path, safe="/:@!$&'()*+,;=-._~")
    return f'<{app_url}{path.lstrip("/")}?{query}>; rel="{rel}"'
