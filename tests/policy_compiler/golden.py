"""Loads the golden cases kept as data in cases/*.yaml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

CASES_DIR = Path(__file__).parent / "cases"


def load_cases(file_name: str) -> list[Any]:
    """The cases of cases/<file_name> as pytest params, each with its `note` as id."""
    cases = yaml.safe_load((CASES_DIR / file_name).read_text(encoding="utf-8"))
    notes = [case["note"] for case in cases]
    if len(set(notes)) != len(notes):
        raise ValueError(f"{file_name}: two cases have the same note")
    return [pytest.param(case, id=case["note"]) for case in cases]


def assert_subset(want: Any, got: Any, where: str = "") -> None:
    """Every key of `want` (recursively) is in `got` with the same value; lists match exactly."""
    if isinstance(want, dict):
        assert isinstance(got, dict), f"{where}: expected a mapping, got {got!r}"
        for key, value in want.items():
            assert key in got, f"{where}.{key}: missing"
            assert_subset(value, got[key], f"{where}.{key}")
    else:
        assert got == want, f"{where}: {got!r} != {want!r}"
