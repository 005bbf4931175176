"""The gateway's packages in layers, each importing only its own layer and those below: the entry points
on top, then the app, the HTTP edge and MCP layer, the core, the tools, the clients and stores, the
utilities, and the shared vocabulary at the bottom. A new module must be placed here to exist."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
LAYERS: tuple[frozenset[str], ...] = (
    frozenset(
        {"cli", "cli_admin", "cli_review", "cli_query", "server", "demo", "admin_client", "probe", "cli_jobs"}
    ),
    frozenset({"app", "parts", "admin_api", "explorer"}),
    frozenset({"edge", "mcp", "automation"}),
    frozenset({"core"}),
    frozenset({"tools"}),
    frozenset({"opa", "gitea", "state", "audit", "authoring"}),
    frozenset(
        {
            "sanitize",
            "observability",
            "outbound",
            "children",
            "scratch",
            "asgi_body",
            "config",
            "oauth_config",
        }
    ),
    frozenset({"vocabulary", "errors", "__init__"}),
)
LAYER_OF = {unit: depth for depth, units in enumerate(LAYERS) for unit in units}


def unit_of(module: str) -> str:
    """The top-level module or package of `gateway.x.y` (`__init__` for the package itself)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(path: Path) -> set[str]:
    """The gateway modules `path` imports, wherever in it (functions too): `from gateway import app`
    names gateway.app."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            if node.module == "gateway":  # a module of the package, not a name such as __version__
                found.update(f"gateway.{alias.name}" for alias in node.names if _is_module(alias.name))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name == "gateway" or name.startswith("gateway.")}


def _is_module(name: str) -> bool:
    return (GATEWAY / f"{name}.py").is_file() or (GATEWAY / name / "__init__.py").is_file()


def test_no_module_imports_relatively() -> None:
    """Every import names its module in full, so that the layer checks below see all of them."""
    relative = [
        f"{path.relative_to(GATEWAY)}:{node.lineno}"
        for path in sources()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.ImportFrom) and node.level > 0
    ]
    assert relative == []


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
    """Outside gateway/config.py (and its OAuth part, oauth_config.py), `os.environ` may only be handed
    whole to a function (config's), and no `AEGIS_` name may be looked up."""
    offenders = [
        f"{path.relative_to(GATEWAY)}:{line} {what}"
        for path in sources()
        if path not in (GATEWAY / "config.py", GATEWAY / "oauth_config.py")
        for line, what in environment_reads(ast.parse(path.read_text(encoding="utf-8")))
    ]
    assert offenders == []


def environment_reads(tree: ast.AST) -> list[tuple[int, str]]:
    handed = {
        id(arg)
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        for arg in [*node.args, *(keyword.value for keyword in node.keywords)]
    }
    found = []
    for node in ast.walk(tree):
        if _is_os_environ(node) and id(node) not in handed:
            found.append((node.lineno, "uses os.environ"))
        if isinstance(node, ast.Call) and any(_names_a_setting(arg) for arg in node.args):
            found.append((node.lineno, "looks up a setting"))
        if isinstance(node, ast.Subscript) and _names_a_setting(node.slice):
            found.append((node.lineno, "looks up a setting"))
    return found


def _is_os_environ(node: ast.AST) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr in ("environ", "getenv", "environb")
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _names_a_setting(node: ast.AST) -> bool:
    """A string, or the start of an f-string, that is an AEGIS_ name (an error message naming one is not
    a look-up: it is never the argument of a call that takes a key)."""
    if isinstance(node, ast.JoinedStr) and node.values:
        node = node.values[0]
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and bool(re.fullmatch(r"AEGIS_[A-Z0-9_]*", node.value))
    )


def test_aiohttp_stays_inside_the_outbound_module() -> None:
    users = [str(path.relative_to(GATEWAY)) for path in sources() if "aiohttp" in imports_of_anything(path)]
    assert users == ["outbound.py"]


def imports_of_anything(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    names |= {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize(
    ("line", "caught"),
    [
        ("from gateway import app", True),
        ("env = dict(os.environ)", False),  # handed whole to a function: allowed
        ("x = os.environ.copy()", True),
        ('v = env.get(f"AEGIS_{name}")', True),
        ('v = os.environ.pop("AEGIS_X", None)', True),
        ('v = env["AEGIS_BIND"]', True),
        ('raise ConfigError(f"AEGIS_BIND must be HOST:PORT, got {value!r}")', False),
    ],
)
def test_the_checks_see_what_they_are_for(tmp_path: Path, line: str, caught: bool) -> None:
    source = tmp_path / "m.py"
    source.write_text(f"import os\n{line}\n")
    upward = any(LAYER_OF[unit_of(name)] < LAYER_OF["core"] for name in imports_of(source))
    reads = environment_reads(ast.parse(source.read_text()))
    assert (upward or bool(reads)) is caught


def test_a_gateway_without_shared_state_imports_neither_database_driver_nor_redis_client() -> None:
    """PostgreSQL's driver and the Redis client are a fifth of the server's import time: only a gateway
    configured for them (AEGIS_STATE_URL, AEGIS_REDIS_URL) loads them."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, gateway.cli, gateway.server;"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'psycopg', 'psycopg_pool', 'redis'}))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert loaded.stdout.strip() == "[]"
