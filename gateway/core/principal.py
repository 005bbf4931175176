"""Who is calling: the authenticated identity the edge hands to the core."""

from __future__ import annotations

import dataclasses
from typing import Any


@dataclasses.dataclass(frozen=True)
class Principal:
    id: str
    kind: str
    scopes: tuple[str, ...]
    roles: tuple[str, ...] = ()

    def may(self, capability: str) -> bool:
        """Whether the key's scopes cover tools of `capability` (read, write, automation)."""
        return f"tools:{capability}" in self.scopes

    def as_input(self) -> dict[str, Any]:
        """The `principal` member of the OPA input document."""
        return {"id": self.id, "kind": self.kind, "scopes": list(self.scopes), "roles": list(self.roles)}
