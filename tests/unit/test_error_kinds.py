"""Errors carry a kind, not an HTTP status: the core and the stores say why they refuse, and the admin
API alone turns that into a status."""

from __future__ import annotations

import ast
from pathlib import Path

from gateway.admin_api import STATUS_OF_KIND
from gateway.errors import Kind

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"


def test_every_kind_has_a_status_at_the_http_boundary() -> None:
    assert set(STATUS_OF_KIND) == set(Kind)


def test_the_core_and_the_stores_raise_no_http_status() -> None:
    statuses = []
    for path in [*(GATEWAY / "core").rglob("*.py"), *(GATEWAY / "state").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call):
                numbers = [arg.value for arg in node.exc.args if isinstance(arg, ast.Constant)]
                statuses += [
                    (path.name, node.lineno) for n in numbers if isinstance(n, int) and 400 <= n < 600
                ]
    assert statuses == []
