"""Finds the files the compiler ships inside its package: the policy JSON Schema and the Rego of every
bundle. They are package data (importlib.resources), so an installed wheel finds them as a checkout does;
environment variables override them for other layouts and for tests.
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

from policy_compiler._errors import BundleError, PolicyCompilerError

__all__ = ["REGO_DIR_ENV", "SCHEMA_ENV", "rego_dir", "schema_file"]

REGO_DIR_ENV = "AEGIS_REGO_DIR"
SCHEMA_ENV = "AEGIS_POLICY_SCHEMA"


def rego_dir() -> Path:
    """The directory whose `.rego` files go into every bundle."""
    override = os.environ.get(REGO_DIR_ENV)
    candidate = Path(override) if override else _shipped("rego")
    if not candidate.is_dir() or not any(candidate.rglob("*.rego")):
        hint = f"{REGO_DIR_ENV}={override}" if override else f"{candidate} (set {REGO_DIR_ENV})"
        raise BundleError(f"no Rego policy directory at {hint}")
    return candidate


def schema_file() -> Path:
    """The policy JSON Schema (policy.schema.json of the package)."""
    override = os.environ.get(SCHEMA_ENV)
    candidate = Path(override) if override else _shipped("policy.schema.json")
    if not candidate.is_file():
        raise PolicyCompilerError(f"policy schema not found at {candidate} (set {SCHEMA_ENV})")
    return candidate


def _shipped(name: str) -> Path:
    """A file of the package on disk: pip installs wheels unpacked, and OPA reads the Rego from disk."""
    return Path(str(importlib.resources.files("policy_compiler") / name))
