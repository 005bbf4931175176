"""The compiler's exceptions: one root, and a policy error that carries every issue found."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

__all__ = ["BundleError", "PolicyCompilerError", "PolicyError", "PolicyIssue"]


@dataclasses.dataclass(frozen=True, order=True)
class PolicyIssue:
    """One problem in a policy file, at a 1-based line and column."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class PolicyCompilerError(Exception):
    """Root of every error the policy compiler raises."""


class PolicyError(PolicyCompilerError):
    """The policy file is invalid. `issues` lists every problem found, sorted by position.

    Example:
        try:
            load_policy(Path("policy.yaml"))
        except PolicyError as exc:
            print(exc)  # policy.yaml:3:5: unknown key 'allw'; expected one of: allow, deny
    """

    def __init__(self, issues: Iterable[PolicyIssue]) -> None:
        self.issues: list[PolicyIssue] = sorted(set(issues))
        if not self.issues:
            raise ValueError("PolicyError needs at least one issue")
        super().__init__("\n".join(str(issue) for issue in self.issues))

    def __str__(self) -> str:
        return "\n".join(str(issue) for issue in self.issues)


class BundleError(PolicyCompilerError):
    """The bundle could not be built for a reason outside the policy file (Rego not found, I/O)."""
