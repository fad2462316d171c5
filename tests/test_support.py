"""The test suite's own machinery: the skip summary and the template installation."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from safar.db import Database
from safar.identity.finder.repository import IDENTITY_SEARCH, TRAIT_SEARCH
from tests.installation import STATE_FILE, fresh_data_dir


def test_skip_summary_groups_reasons_with_suites_and_hints(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        **{
            "auth/test_a.py": """
import pytest

@pytest.mark.parametrize("n", range(3))
def test_needs_pg(n):
    pytest.skip("SAFAR_TEST_PG_URL not set (no PostgreSQL server)")

def test_runs():
    pass
""",
            "text/test_b.py": """
import pytest

@pytest.mark.skip(reason="one engine is enough")
def test_once():
    pass
""",
        }
    )
    result = pytester.runpytest("-p", "tests.skip_summary", "-p", "no:asyncio", "-q", "-rfE")
    result.assert_outcomes(passed=1, skipped=4)
    result.stdout.fnmatch_lines(
        [
            "*skipped suites*",
            "   3 skipped in auth: SAFAR_TEST_PG_URL not set (no PostgreSQL server)",
            "       to run them: the scale stack*SAFAR_TEST_PG_URL*",
            "   1 skipped in text: one engine is enough",
        ]
    )


def test_a_copied_installation_is_a_fresh_migration(tmp_path: Path) -> None:
    copied = fresh_data_dir(tmp_path / "copied")
    assert (copied / STATE_FILE).exists(), "the session template was not built"
    fresh = Database(f"sqlite:///{tmp_path / 'fresh' / STATE_FILE}")
    fresh.migrate()
    template = Database(f"sqlite:///{copied / STATE_FILE}")
    try:
        schema = {}
        for name, db in (("fresh", fresh), ("copied", template)):
            with db.engine.connect() as conn:
                tables = sorted(inspect(conn).get_table_names())
                version = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
                rows = {
                    t: conn.execute(text(f'SELECT count(*) FROM "{t}"')).scalar() for t in tables
                }
            schema[name] = (tables, version, rows)
        assert schema["copied"] == schema["fresh"]
        assert len(schema["fresh"][0]) > 10
        counts = dict(schema["fresh"][2])
        # FTS5 keeps its own bookkeeping rows in the customer search's shadow tables.
        indexes = (IDENTITY_SEARCH.name, TRAIT_SEARCH.name)
        counts = {t: n for t, n in counts.items() if not t.startswith(indexes)}
        assert counts.pop("alembic_version") == 1 and set(counts.values()) == {0}
    finally:
        fresh.dispose()
        template.dispose()
