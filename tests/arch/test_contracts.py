"""The import contracts in pyproject.toml hold on the source, and break on a wrong import.

``lint-imports`` runs as CI runs it (a subprocess). To show the contracts can fail, the package
is copied to a temporary tree, one wrong import is written into the copy, and the same command
must then report the contract it breaks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).with_name("lint-imports")


def lint(src: Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(src)}
    return subprocess.run(
        [str(LINT), "--no-cache", "--config", str(cwd / "pyproject.toml")],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_source_keeps_every_contract() -> None:
    result = lint(ROOT / "src", ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The package's Python files and the contracts, in a tree the test may break."""
    base = tmp_path_factory.mktemp("arch")
    for path in (ROOT / "src" / "safar").rglob("*.py"):
        target = base / "src" / path.relative_to(ROOT / "src")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    shutil.copyfile(ROOT / "pyproject.toml", base / "pyproject.toml")
    return base


@pytest.mark.parametrize(
    ("module", "line", "broken"),
    [
        pytest.param(
            "kit/repository.py",
            "import safar.identity.service",
            "Entry points -> runtime -> web -> domains -> kit",
            id="kit imports a domain",
        ),
        pytest.param(
            "identity/service.py",
            "import safar.runtime",
            "Entry points -> runtime -> web -> domains -> kit",
            id="a domain imports the runtime",
        ),
        pytest.param(
            "surveys/service.py",
            "import safar.web.render",
            "Entry points -> runtime -> web -> domains -> kit",
            id="a domain imports the web layer",
        ),
        pytest.param(
            "identity/models.py",
            "import safar.identity.api",
            "Inside a domain",
            id="models import the api",
        ),
        pytest.param(
            "text/topics.py",
            "import duckdb",
            "DuckDB and ClickHouse are reached only through the event store",
            id="duckdb outside the event store",
        ),
        pytest.param(
            "flows/interpreter.py",
            "import temporalio.workflow",
            "Temporal is imported only by the journeys' Temporal runtime",
            id="temporalio outside the Temporal runtime",
        ),
        pytest.param(
            "surveys/metrics.py",
            "import safar.identity.repository",
            "Only identity reaches its models, repository, resolver",
            id="another domain's repository",
        ),
        pytest.param(
            "events/dedupe.py",
            "import safar.events.pipeline",
            "No cycles between the modules of any package",
            id="a cycle inside a package",
        ),
    ],
)
def test_a_wrong_import_breaks_its_contract(
    copy: Path, module: str, line: str, broken: str
) -> None:
    path = copy / "src" / "safar" / module
    original = path.read_text(encoding="utf-8")
    path.write_text(original + f"\n{line}  # the deliberate mistake\n", encoding="utf-8")
    try:
        result = lint(copy / "src", copy)
    finally:
        path.write_text(original, encoding="utf-8")
    assert result.returncode == 1, result.stdout + result.stderr
    report = result.stdout.split("Broken contracts", 1)[-1]
    assert broken in report, result.stdout
