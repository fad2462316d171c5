"""Tests share helpers through their domain's ``factories.py``, never by importing another test
module or a conftest (docs/testing.md): a helper buried in a test file breaks when that file
moves, and a conftest imported as a module runs its fixtures' imports twice."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]


def forbidden_imports(root: Path = TESTS) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                last = node.module.rsplit(".", 1)[-1]
                if node.module.startswith("tests") and (
                    last == "conftest" or last.startswith("test_")
                ):
                    found.append(f"{path.relative_to(root)}:{node.lineno} {node.module}")
    return found


def test_no_test_imports_a_test_module_or_a_conftest() -> None:
    assert forbidden_imports() == []


def test_the_scan_sees_a_forbidden_import(tmp_path: Path) -> None:
    (tmp_path / "test_a.py").write_text("from tests.journeys.test_funnels import x\n")
    (tmp_path / "test_b.py").write_text("from tests.conftest import Workspace\n")
    (tmp_path / "test_c.py").write_text("from tests.events.factories import Api\n")
    assert forbidden_imports(tmp_path) == [
        "test_a.py:1 tests.journeys.test_funnels",
        "test_b.py:1 tests.conftest",
    ]
