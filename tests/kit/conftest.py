"""A migrated state store on a fresh SQLite file, and two workspaces in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from safar.kit.db import Database
from safar.workspaces.service import create_workspace


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(f"sqlite:///{tmp_path / 'state.db'}")
    database.migrate()
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def two_workspaces(db: Database) -> tuple[str, str]:
    with db.session() as session:
        a, _, _ = create_workspace(session, name="A")
        b, _, _ = create_workspace(session, name="B")
    return a.id, b.id
