"""The send-path migration on a store that already has jobs: tasks and trigger jobs are told
apart as before (a job without a trigger was a task), contacts count towards the budget."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from safar.db import Database
from safar.kit.db import MIGRATIONS


def alembic(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", MIGRATIONS)
    cfg.attributes["engine"] = db.engine
    return cfg


def test_existing_jobs_get_their_kind_and_contacts_are_not_transactional(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        command.upgrade(alembic(db), "0004")
        with db.engine.begin() as conn:
            for trigger, key in ((None, "task-1"), ("trg_1", "trg_1:m1")):
                conn.execute(
                    text(
                        "INSERT INTO scheduled_jobs (workspace_id, trigger_id, action, payload,"
                        " dedupe_key, due_at, status, attempts, result, created_at)"
                        " VALUES ('ws', :t, 'survey', '{}', :k, '2026-12-01 10:00:00',"
                        " 'done', 1, '{}', '2026-12-01 10:00:00')"
                    ),
                    {"t": trigger, "k": key},
                )
            conn.execute(
                text(
                    "INSERT INTO contact_log (workspace_id, profile_id, topic, channel, status, at)"
                    " VALUES ('ws', 'prf', 'survey', 'email', 'sent', '2026-12-01 10:00:00')"
                )
            )
        db.migrate()
        with db.engine.connect() as conn:
            jobs = conn.execute(
                text("SELECT dedupe_key, kind, policy, reason FROM scheduled_jobs ORDER BY id")
            ).all()
            contacts = conn.execute(text("SELECT transactional FROM contact_log")).all()
        assert [tuple(j) for j in jobs] == [
            ("task-1", "task", None, None),
            ("trg_1:m1", "message", None, None),
        ]
        assert [bool(c[0]) for c in contacts] == [False]
        command.downgrade(alembic(db), "0004")
        with db.engine.connect() as conn:
            columns = {r[1] for r in conn.execute(text("PRAGMA table_info(scheduled_jobs)"))}
        assert "kind" not in columns and "reason" not in columns
    finally:
        db.dispose()
