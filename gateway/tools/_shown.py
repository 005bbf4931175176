"""Keeping only the items of a result whose paths (or repositories) the policy lets the call show."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

from gateway.tools._spec import ShownFilter

Item = TypeVar("Item")


async def shown_items(
    shown: ShownFilter, items: Sequence[Item], names_of: Callable[[Item], Iterable[str | None]]
) -> tuple[list[Item], int]:
    """The items every name of which is allowed (one OPA query for them all), and how many were withheld.
    An item naming nothing usable (no name, or an empty or missing one) is withheld: it cannot be decided."""
    named = [tuple(names_of(item)) for item in items]
    allowed = await shown.allowed([name for item_names in named for name in item_names if name])
    kept = [
        item
        for item, item_names in zip(items, named, strict=True)
        if item_names and all(name and name in allowed for name in item_names)
    ]
    return kept, len(items) - len(kept)


def entry_path(entry: Mapping[str, Any]) -> tuple[str | None]:
    """The paths of a listed entry (a tree entry, a changed file): its `path`."""
    return _string_member(entry, "path")


def repository_name(repository: Mapping[str, Any]) -> tuple[str | None]:
    """The repository a listed repository is: its `full_name`."""
    return _string_member(repository, "full_name")


def _string_member(item: Mapping[str, Any], key: str) -> tuple[str | None]:
    value = item.get(key)
    return (value if isinstance(value, str) else None,)
