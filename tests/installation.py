"""Fresh installations for tests, copied from one migrated template instead of migrated anew.

Running the Alembic migrations into an empty SQLite file costs about 0.2 s of CPU, and most
tests start from an empty installation; the root conftest migrates one template per session
(``build_sqlite_template``) and every data directory a test prepares gets a copy of it
(``fresh_data_dir``). The copy is byte for byte what a fresh migration writes, and
``Runtime`` still runs ``migrate()`` on it, which finds it at head. On PostgreSQL the same
is done with ``CREATE DATABASE ... TEMPLATE`` (see ``pg_database`` in the root conftest).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from safar.db import Database

STATE_FILE = "state.db"
_template: Path | None = None


def build_sqlite_template(root: Path) -> Path:
    """Migrate an empty state store under ``root`` once; later data dirs copy it."""
    global _template
    path = root / STATE_FILE
    db = Database(f"sqlite:///{path}")
    try:
        db.migrate()
    finally:
        # Closing the last connection checkpoints SQLite's WAL into the file, so the one file
        # is the whole database.
        db.dispose()
    assert not path.with_name(STATE_FILE + "-wal").exists(), "template WAL not checkpointed"
    _template = path
    return path


def fresh_data_dir(data_dir: Path) -> Path:
    """Give ``data_dir`` a migrated, empty SQLite state store unless it already has one."""
    target = data_dir / STATE_FILE
    if _template is not None and not target.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_template, target)
    return data_dir
