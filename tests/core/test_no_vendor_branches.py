"""App code never asks which database it runs on: the differences between backends
live in `core/db/` (migrations may keep theirs, for triggers). So `make test` on
SQLite runs the code production runs on PostgreSQL. The scan reads the source, so a
vendor check is found however it is spelled: `connection.vendor`, a backend's name
in a string, the connection's features or settings, `core.db.vendor` imported."""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
APPS = ("config", "core", "market", "exchange", "settlement")
ALLOWED = ("core/db/", "/migrations/", "config/settings")  # settings parse the URL
# What a connection tells of its backend.
BACKEND_ATTRIBUTES = {"vendor", "display_name", "features", "settings_dict", "client"}
# core.db's own questions about the backend, for its own use.
CAPABILITIES = {
    "is_postgresql",
    "locks_rows",
    "sums_exactly",
    "copies_rows",
    "sends_statements_together",
    "adapts_natively",
}
BACKEND_NAMES = re.compile(r"postgres|sqlite|mysql|oracle|django\.db\.backends", re.I)


def _app_files() -> list[Path]:
    files = [p for app in APPS for p in (ROOT / app).rglob("*.py")]
    return [p for p in files if not any(a in p.as_posix() for a in ALLOWED)]


def _docstrings(tree: ast.AST) -> set[int]:
    """The ids of string constants that are docstrings (prose may name backends)."""
    found = set()
    for node in ast.walk(tree):
        if isinstance(
            node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef
        ):
            first = node.body[0] if node.body else None
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                found.add(id(first.value))
    return found


def vendor_checks(source: str) -> list[str]:
    """Each place in `source` that asks which backend it runs on."""
    tree = ast.parse(source)
    docstrings = _docstrings(tree)
    found = []
    for node in ast.walk(tree):
        where = getattr(node, "lineno", "?")
        if isinstance(node, ast.Attribute) and node.attr in BACKEND_ATTRIBUTES:
            if re.search(r"conn", ast.unparse(node.value), re.I):
                found.append(f"line {where}: {ast.unparse(node)}")
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if id(node) not in docstrings and BACKEND_NAMES.search(node.value):
                found.append(f"line {where}: {node.value!r}")
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module + "." + a.name for a in node.names]
            asks = node.module == "core.db" and CAPABILITIES & {
                a.name for a in node.names
            }
            if asks or any(
                n.startswith(("core.db.vendor", "django.db.backends")) for n in names
            ):
                found.append(f"line {where}: from {node.module} import ...")
        elif isinstance(node, ast.Import) and any(
            a.name.startswith("core.db.vendor") for a in node.names
        ):
            found.append(f"line {where}: import core.db.vendor")
    return found


def test_app_code_has_no_vendor_check():
    """No module of the apps (outside core/db and migrations) branches on the
    database backend."""
    found = {
        str(path.relative_to(ROOT)): checks
        for path in _app_files()
        if (checks := vendor_checks(path.read_text()))
    }
    assert found == {}


@pytest.mark.parametrize(
    "source",
    [
        "if connection.vendor == 'postgresql': pass",
        "x = connections['default'].vendor",
        "conn = get_connection()\nif conn.features.has_select_for_update: 1",
        "engine = connection.settings_dict['ENGINE']",
        "postgres = 'postgresql' in str(type(connection))",
        "from core.db.vendor import is_postgresql",
        "from core.db import vendor",
        "from core.db import locks_rows",
        "import core.db.vendor",
        "from django.db.backends.postgresql.base import DatabaseWrapper",
    ],
)
def test_the_scan_finds_each_spelling(source):
    """Each way of asking for the backend is found (so the scan above can fail)."""
    assert vendor_checks(source)


@pytest.mark.parametrize(
    "source",
    [
        'def f():\n    """Sums on SQLite are floats."""',
        "chip.vendor",
        "quote = connection.ops.quote_name",
    ],
)
def test_the_scan_leaves_prose_and_chips_alone(source):
    """Docstrings, a chip's vendor and quoting through the connection are fine."""
    assert vendor_checks(source) == []
