"""identity: trigram search of identifiers and trait values; profiles listed in id order

The customer search matched ``lower(text) LIKE '%query%'`` by reading every identity and every
trait value of the workspace. SQLite gets two contentless FTS5 tables with the ``trigram``
tokenizer (SQLite 3.34 or newer), one row per identity and per trait observation under the
same rowid (a trait's row also holds its key), filled here and kept in step by triggers on every insert, update and delete (an
identity moved by a merge keeps its row: the search joins to its current profile).
PostgreSQL gets ``pg_trgm`` GIN indexes on the very expressions the search compares, when the
extension is installed or can be; without them the search scans as before.

``ix_profiles_listed`` lets the list filtered by a trait read unmerged profiles in id order
and stop once its page is full.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-08 00:00:00
"""

import sqlite3

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

#: The text a trait value is searched by (``identity.search._trait_text`` on SQLite).
_TRAIT_TEXT = "CAST(json_extract({}.value, '$') AS TEXT)"

_SQLITE = [
    "CREATE VIRTUAL TABLE identity_search USING fts5(value, content='', tokenize='trigram')",
    "CREATE VIRTUAL TABLE trait_search USING fts5(trait_key, text, content='', tokenize='trigram')",
    "INSERT INTO identity_search(rowid, value) SELECT id, value FROM identities",
    "INSERT INTO trait_search(rowid, trait_key, text) SELECT id, key, {} FROM trait_values".format(
        _TRAIT_TEXT.format("trait_values")
    ),
    "CREATE TRIGGER identity_search_insert AFTER INSERT ON identities BEGIN"
    " INSERT INTO identity_search(rowid, value) VALUES (new.id, new.value); END",
    "CREATE TRIGGER identity_search_delete AFTER DELETE ON identities BEGIN"
    " INSERT INTO identity_search(identity_search, rowid, value)"
    " VALUES ('delete', old.id, old.value); END",
    "CREATE TRIGGER identity_search_update AFTER UPDATE OF id, value ON identities BEGIN"
    " INSERT INTO identity_search(identity_search, rowid, value)"
    " VALUES ('delete', old.id, old.value);"
    " INSERT INTO identity_search(rowid, value) VALUES (new.id, new.value); END",
    "CREATE TRIGGER trait_search_insert AFTER INSERT ON trait_values BEGIN"
    " INSERT INTO trait_search(rowid, trait_key, text) VALUES (new.id, new.key, {new}); END",
    "CREATE TRIGGER trait_search_delete AFTER DELETE ON trait_values BEGIN"
    " INSERT INTO trait_search(trait_search, rowid, trait_key, text)"
    " VALUES ('delete', old.id, old.key, {old}); END",
    "CREATE TRIGGER trait_search_update AFTER UPDATE OF id, key, value ON trait_values BEGIN"
    " INSERT INTO trait_search(trait_search, rowid, trait_key, text)"
    " VALUES ('delete', old.id, old.key, {old});"
    " INSERT INTO trait_search(rowid, trait_key, text) VALUES (new.id, new.key, {new}); END",
]

_PG_INDEXES = {
    "ix_identities_value_trgm": "identities USING gin (lower(value) gin_trgm_ops)",
    # Not trait values: an index on their text evaluates ``value #>> '{}'`` on every insert,
    # and PostgreSQL's text cannot hold a NUL that a JSON string may (u0000): the insert of
    # such a trait, which the state store keeps verbatim, would fail. Traits keep the scan.
}


def _sqlite_has_trigram() -> bool:
    """FTS5 with the trigram tokenizer (SQLite 3.34+, FTS5 compiled in)."""
    if sqlite3.sqlite_version_info < (3, 34, 0):
        return False
    probe = sqlite3.connect(":memory:")
    try:
        probe.execute("CREATE VIRTUAL TABLE t USING fts5(x, tokenize='trigram')")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        probe.close()


def _pg_trgm(conn: sa.Connection) -> bool:
    """Whether ``pg_trgm`` is installed, installing it when the server has it and we may."""
    if conn.scalar(sa.text("SELECT count(*) FROM pg_extension WHERE extname = 'pg_trgm'")):
        return True
    if not conn.scalar(
        sa.text("SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_trgm'")
    ):
        return False
    try:
        with conn.begin_nested():
            conn.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
    except sa.exc.DBAPIError:  # no privilege: the search keeps its scan
        return False
    return True


def upgrade() -> None:
    op.create_index(
        "ix_profiles_listed", "profiles", ["workspace_id", "merged_into", "id"], unique=False
    )
    conn = op.get_bind()
    if conn.dialect.name == "sqlite" and _sqlite_has_trigram():
        new, old = _TRAIT_TEXT.format("new"), _TRAIT_TEXT.format("old")
        for statement in _SQLITE:
            op.execute(statement.replace("{new}", new).replace("{old}", old))
    elif conn.dialect.name == "postgresql" and _pg_trgm(conn):
        for name, target in _PG_INDEXES.items():
            op.execute(f"CREATE INDEX {name} ON {target}")


def downgrade() -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        for trigger in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS identity_search_{trigger}")
            op.execute(f"DROP TRIGGER IF EXISTS trait_search_{trigger}")
        op.execute("DROP TABLE IF EXISTS identity_search")
        op.execute("DROP TABLE IF EXISTS trait_search")
    elif conn.dialect.name == "postgresql":
        for name in _PG_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index("ix_profiles_listed", table_name="profiles")
