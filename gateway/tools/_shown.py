"""Keeping only the items of a result whose paths the policy lets the call show."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from gateway.tools._spec import PathFilter

Item = TypeVar("Item")


async def shown_items(
    paths: PathFilter, items: Sequence[Item], paths_of: Callable[[Item], Iterable[str | None]]
) -> tuple[list[Item], int]:
    """The items every path of which is allowed (one OPA query for them all), and how many were withheld.
    An item naming no usable path (none, or an empty or missing one) is withheld: it cannot be decided."""
    named = [tuple(paths_of(item)) for item in items]
    allowed = await paths.allowed([path for item_paths in named for path in item_paths if path])
    kept = [
        item
        for item, item_paths in zip(items, named, strict=True)
        if item_paths and all(path and path in allowed for path in item_paths)
    ]
    return kept, len(items) - len(kept)


def entry_path(entry: Mapping[str, Any]) -> tuple[str | None]:
    """The paths of a listed entry (a tree entry, a changed file): its `path`."""
    path = entry.get("path")
    return (path if isinstance(path, str) else None,)
