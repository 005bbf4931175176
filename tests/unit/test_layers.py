"""The gateway's packages in layers, each importing only its own layer and those below: the entry points
on top, then the app, the HTTP edge and MCP layer, the core, the tools, the clients and stores, the
utilities, and the shared vocabulary at the bottom. A new module must be placed here to exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
LAYERS: tuple[frozenset[str], ...] = (
    frozenset({"cli", "cli_admin", "server", "demo", "admin_client"}),
    frozenset({"app", "parts", "admin_api"}),
    frozenset({"edge", "mcp"}),
    frozenset({"core"}),
    frozenset({"tools"}),
    frozenset({"opa", "gitea", "state", "audit", "authoring"}),
    frozenset({"sanitize", "observability", "outbound", "children", "scratch", "asgi_body", "config"}),
    frozenset({"vocabulary", "errors", "__init__"}),
)
LAYER_OF = {unit: depth for depth, units in enumerate(LAYERS) for unit in units}


def unit_of(module: str) -> str:
    """The top-level module or package of `gateway.x.y` (`__init__` for the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "gateway" or name.startswith("gateway.")}


def sources() -> list[Path]:
    return sorted(GATEWAY.rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    units = {
        unit_of(".".join(("gateway", *path.relative_to(GATEWAY).with_suffix("").parts))) for path in sources()
    }
    assert units - LAYER_OF.keys() == set()


@pytest.mark.parametrize("path", sources(), ids=lambda path: str(path.relative_to(GATEWAY)))
def test_no_module_imports_a_layer_above_its_own(path: Path) -> None:
    unit = unit_of(".".join(("gateway", *path.relative_to(GATEWAY).with_suffix("").parts)))
    upward = sorted(name for name in imports_of(path) if LAYER_OF[unit_of(name)] < LAYER_OF[unit])
    assert upward == [], f"{unit} (layer {LAYER_OF[unit]}) imports from above: {upward}"


def test_the_core_imports_no_web_framework_and_no_tool_internals() -> None:
    for path in (GATEWAY / "core").rglob("*.py"):
        assert not imports_of_anything(path) & {"starlette", "uvicorn"}, path
        assert not {name for name in imports_of(path) if name.startswith("gateway.tools.")}, path


def test_only_config_reads_the_environment() -> None:
    """Entry points hand `os.environ` to config.py's functions; no other module picks a variable out."""
    reading = re.compile(r"environ\.get|getenv|environ\[|\.get\(\s*[\"']AEGIS_|\[[\"']AEGIS_")
    offenders = [
        str(path.relative_to(GATEWAY))
        for path in sources()
        if path.name != "config.py" and reading.search(path.read_text(encoding="utf-8"))
    ]
    assert offenders == []


def test_aiohttp_stays_inside_the_outbound_module() -> None:
    users = [str(path.relative_to(GATEWAY)) for path in sources() if "aiohttp" in imports_of_anything(path)]
    assert users == ["outbound.py"]


def imports_of_anything(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    names |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return {name.split(".")[0] for name in names}
