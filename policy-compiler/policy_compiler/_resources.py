"""Finds the files the compiler ships with the repository: the policy JSON Schema and rego/.

The package is installed editable from the repository (policy-compiler/policy_compiler), so both
are found relative to it. Environment variables override the location for other layouts.
"""

from __future__ import annotations

import os
from pathlib import Path

from policy_compiler._errors import BundleError, PolicyCompilerError

__all__ = ["REGO_DIR_ENV", "SCHEMA_ENV", "rego_dir", "schema_file"]

REGO_DIR_ENV = "AEGIS_REGO_DIR"
SCHEMA_ENV = "AEGIS_POLICY_SCHEMA"

_REPO_ROOT = Path(__file__).resolve().parents[2]


def rego_dir() -> Path:
    """The directory whose `.rego` files go into every bundle."""
    override = os.environ.get(REGO_DIR_ENV)
    candidate = Path(override) if override else _REPO_ROOT / "rego"
    if not candidate.is_dir() or not any(candidate.rglob("*.rego")):
        hint = f"{REGO_DIR_ENV}={override}" if override else f"{candidate} (set {REGO_DIR_ENV})"
        raise BundleError(f"no Rego policy directory at {hint}")
    return candidate


def schema_file() -> Path:
    """The policy JSON Schema (schemas/policy.schema.json)."""
    override = os.environ.get(SCHEMA_ENV)
    candidate = Path(override) if override else _REPO_ROOT / "schemas" / "policy.schema.json"
    if not candidate.is_file():
        raise PolicyCompilerError(f"policy schema not found at {candidate} (set {SCHEMA_ENV})")
    return candidate
