"""The journeys domain keeps its shape: engines only behind the event store, no import circle
in the XES reader, the CLI imported by nobody but the app's CLI, and small files and functions.
Checked on the source tree (every import, including those inside functions)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).parents[2] / "src" / "safar"
JOURNEYS = sorted((SRC / "journeys").glob("*.py"))
PRESENTATION = [SRC / "web" / "pages" / "journeys.py"]
MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 80


def imports(path: Path) -> set[str]:
    """Every module ``path`` imports, at any depth (``from a import b`` counts ``a`` and ``a.b``)."""
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            out.add(node.module)
            out.update(f"{node.module}.{a.name}" for a in node.names)
    return out


def _module(path: Path) -> str:
    return ".".join(path.relative_to(SRC.parent).with_suffix("").parts)


@pytest.mark.parametrize("path", JOURNEYS + PRESENTATION, ids=lambda p: p.name)
def test_engines_only_behind_the_event_store(path: Path) -> None:
    engines = {"duckdb", "clickhouse_connect", "chdb"}
    assert not {m.split(".")[0] for m in imports(path)} & engines


def test_xes_reader_scanner_and_schema_do_not_import_each_other() -> None:
    pkg = "safar.journeys"
    assert f"{pkg}.xes" not in imports(SRC / "journeys" / "xes_scan.py")
    assert f"{pkg}.xes" not in imports(SRC / "journeys" / "xes_tags.py")
    for low in ("xes_schema.py", "xes_tags.py", "arrays.py"):
        assert not {f"{pkg}.xes", f"{pkg}.xes_scan"} & imports(SRC / "journeys" / low)


def test_only_the_app_cli_imports_the_journeys_cli() -> None:
    users = {_module(p) for p in SRC.rglob("*.py") if "safar.journeys.cli" in imports(p)}
    assert users <= {"safar.cli"}


@pytest.mark.parametrize("path", JOURNEYS + PRESENTATION, ids=lambda p: p.name)
def test_files_and_functions_stay_small(path: Path) -> None:
    text = path.read_text()
    assert len(text.splitlines()) <= MAX_FILE_LINES
    long = [
        f"{n.name}: {n.end_lineno - n.lineno + 1} lines"
        for n in ast.walk(ast.parse(text))
        if isinstance(n, ast.FunctionDef) and n.end_lineno
        and n.end_lineno - n.lineno + 1 > MAX_FUNCTION_LINES
    ]  # fmt: skip
    assert long == []
