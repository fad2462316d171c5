"""What analytics libraries may ask of the event store, so only this package imports an engine.

* run a rendered query (``rows``, ``arrow``) or stream a large one in record batches
  (``batches``, which caps DuckDB's memory while it sorts);
* the DDL of the tables analytics keep beside the events (``identity_map`` and its version,
  case tables, ``text_analyses``), owned here per dialect, and whether a table exists;
* ``LocalEngine``: an in-memory DuckDB over an Arrow table (a case log read from a file), and
  reading CSV/Parquet files or evaluating SQL expressions over a table (key drivers).

A query an engine cannot answer because a table is missing raises ``MissingTable``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from safar.errors import ValidationFailed
from safar.kit.query import Dialect, QueryEngine, Rendered, dialect_of, param

_SAFE_ID = re.compile(r"^[A-Za-z0-9_\-]{1,64}$")


class MissingTable(LookupError):
    """The query names a table the engine does not have (yet)."""


def _db(engine: object) -> str:
    return str(getattr(engine, "db", "safar"))


def table_name(engine: QueryEngine, name: str) -> str:
    """``name`` as the engine's SQL must spell it (ClickHouse qualifies it with its database)."""
    return name if dialect_of(engine) == "duckdb" else f"{_db(engine)}.{name}"


def rows(engine: QueryEngine, r: Rendered) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Column names and rows of a rendered query."""
    try:
        return engine.query(r.sql, dict(r.params))
    except duckdb.CatalogException as exc:
        raise MissingTable(str(exc)) from exc


def arrow(engine: QueryEngine, r: Rendered) -> pa.Table:
    """A rendered query's result as an Arrow table."""
    try:
        return engine.query_arrow(r.sql, dict(r.params))
    except duckdb.CatalogException as exc:
        raise MissingTable(str(exc)) from exc


def batches(
    engine: QueryEngine, r: Rendered, *, batch_rows: int, memory_limit: str
) -> Iterator[pa.RecordBatch]:
    """A large result in record batches; on DuckDB streamed with ``memory_limit`` while it
    runs (the previous limit is restored), elsewhere fetched whole and cut into batches."""
    con = getattr(engine, "con", None)
    if not isinstance(con, duckdb.DuckDBPyConnection):
        yield from arrow(engine, r).to_batches(batch_rows)
        return
    if not re.fullmatch(r"[0-9]+(\.[0-9]+)?\s*[KMGT]?i?B", memory_limit):
        raise ValueError(f"memory_limit: {memory_limit!r} is not a size like 700MB")
    # The memory limit is the database's: the configured value (or the default) comes back
    # exactly afterwards (DuckDB reports it rounded, so reading it back would drift).
    configured = getattr(engine, "memory_limit", None)
    cur, ctl = con.cursor(), con.cursor()
    try:
        cur.execute("SET TimeZone = 'UTC'")
        ctl.execute(f"SET memory_limit = '{memory_limit}'")
        try:
            reader = cur.sql(r.sql, params=dict(r.params) or None).to_arrow_reader(batch_rows)
        except duckdb.CatalogException as exc:
            raise MissingTable(str(exc)) from exc
        yield from reader
    finally:
        cur.close()
        if configured:
            ctl.execute("SET memory_limit = ?", [configured])
        else:
            ctl.execute("RESET memory_limit")
        ctl.close()


def has_table(engine: QueryEngine, name: str) -> bool:
    """Whether the engine has table ``name`` (in its database, on ClickHouse)."""
    if dialect_of(engine) == "duckdb":
        sql = "SELECT count(*) FROM information_schema.tables WHERE table_name = $t"
        _, found = engine.query(sql, {"t": name})
    else:
        sql = "SELECT count() FROM system.tables WHERE database = {db:String} AND name = {t:String}"
        _, found = engine.query(sql, {"db": _db(engine), "t": name})
    return bool(found and found[0][0])


# --- identity map: the profile owning each user/anonymous id, for analyses per customer --------

_IDENTITY_DDL: dict[Dialect, tuple[str, ...]] = {
    "duckdb": (
        "CREATE TABLE IF NOT EXISTS identity_map (workspace_id VARCHAR NOT NULL, "
        "id_type VARCHAR NOT NULL, id_value VARCHAR NOT NULL, profile_id VARCHAR NOT NULL)",
        "CREATE TABLE IF NOT EXISTS identity_map_version (workspace_id VARCHAR NOT NULL, "
        "version VARCHAR NOT NULL)",
    ),
    "clickhouse": (
        "CREATE TABLE IF NOT EXISTS {db}.identity_map (workspace_id String, id_type String, "
        "id_value String, profile_id Nullable(String)) ENGINE = MergeTree "
        "ORDER BY (workspace_id, id_type, id_value)",
        "CREATE TABLE IF NOT EXISTS {db}.identity_map_version (workspace_id String, "
        "version String) ENGINE = MergeTree ORDER BY workspace_id",
    ),
}


def ensure_identity_map(store: Any) -> None:
    """Create ``identity_map`` and ``identity_map_version`` in the event store if missing."""
    for ddl in _IDENTITY_DDL[dialect_of(store)]:
        store.command(ddl.format(db=_db(store)))


def check_workspace_id(workspace_id: str) -> None:
    """Refuse what is not a workspace id (``command`` takes no parameters: ids are formatted in)."""
    if not _SAFE_ID.match(workspace_id):
        raise ValidationFailed("workspace_id: not a workspace id", field="workspace_id")


def identity_map_version(store: Any, workspace_id: str) -> str | None:
    """The identity-graph version the workspace's map was copied at (None: never copied)."""
    d = dialect_of(store)
    sql = (
        f"SELECT version FROM {table_name(store, 'identity_map_version')} "
        f"WHERE workspace_id = {param(d, 'ws', 'String')}"
    )
    _, seen = store.query(sql, {"ws": workspace_id})
    return str(seen[0][0]) if seen else None


def replace_identity_map(store: Any, workspace_id: str, table: pa.Table, version: str) -> None:
    """Replace the workspace's rows of the identity map (``id_type``, ``id_value``,
    ``profile_id``) and record the version they were copied at."""
    check_workspace_id(workspace_id)
    for name in ("identity_map", "identity_map_version"):
        store.command(
            f"DELETE FROM {table_name(store, name)} WHERE workspace_id = '{workspace_id}'"
        )
    if table.num_rows:
        ws = pa.array([workspace_id] * table.num_rows, pa.string())
        store.insert_arrow("identity_map", table.add_column(0, "workspace_id", ws))
    store.insert_arrow(
        "identity_map_version", pa.table({"workspace_id": [workspace_id], "version": [version]})
    )


_CASE_DDL: dict[Dialect, str] = {
    "duckdb": "CREATE TABLE {t} (case_id VARCHAR, activity VARCHAR, ts BIGINT, seq BIGINT, "
    "resource VARCHAR)",
    "clickhouse": "CREATE TABLE {t} (case_id String, activity String, ts Int64, seq Int64, "
    "resource Nullable(String)) ENGINE = MergeTree ORDER BY (case_id, ts)",
}


def create_case_table(store: Any, name: str, table: pa.Table) -> str:
    """Store a case table (``journeys.xes_schema.CASE_SCHEMA``) as table ``name`` of the event
    store, for analyses on the engine; returns the name as the engine's SQL spells it."""
    if not _SAFE_ID.match(name):
        raise ValueError(f"name: {name!r} is not a table name")
    qualified = table_name(store, name)
    store.command(_CASE_DDL[dialect_of(store)].format(t=qualified))
    store.insert_arrow(name, table)
    return qualified


# --- text analyses: one row per analysed event (``safar.text.repository`` reads and writes) --

_TEXT_DUCKDB = """
CREATE TABLE IF NOT EXISTS text_analyses (
    workspace_id VARCHAR NOT NULL, message_id VARCHAR NOT NULL,
    event_timestamp TIMESTAMPTZ, source_field VARCHAR,
    language VARCHAR, sentiment_label VARCHAR, sentiment_score DOUBLE,
    sentiment_confidence DOUBLE,
    emotion VARCHAR, emotion_score DOUBLE, intent VARCHAR, intent_score DOUBLE,
    category VARCHAR, category_score DOUBLE, key_phrases VARCHAR, actionable BOOLEAN,
    flags VARCHAR, error VARCHAR, analysed_at TIMESTAMPTZ NOT NULL, model_version VARCHAR
)"""

_TEXT_CLICKHOUSE = """
CREATE TABLE IF NOT EXISTS {db}.text_analyses (
    workspace_id String, message_id String,
    event_timestamp Nullable(DateTime64(6, 'UTC')), source_field Nullable(String),
    language Nullable(String), sentiment_label Nullable(String),
    sentiment_score Nullable(Float64), sentiment_confidence Nullable(Float64),
    emotion Nullable(String), emotion_score Nullable(Float64),
    intent Nullable(String), intent_score Nullable(Float64),
    category Nullable(String), category_score Nullable(Float64),
    key_phrases Nullable(String), actionable Nullable(Bool), flags Nullable(String),
    error Nullable(String), analysed_at DateTime64(6, 'UTC'), model_version Nullable(String)
) ENGINE = MergeTree ORDER BY (workspace_id, message_id, analysed_at)"""


def ensure_text_analyses(store: Any) -> None:
    """Create ``text_analyses`` if missing (idempotent, both engines)."""
    if dialect_of(store) == "clickhouse":
        store.command(_TEXT_CLICKHOUSE.format(db=_db(store)))
    else:
        store.command(_TEXT_DUCKDB)


# --- a local engine over tables and files --------------------------------------------------------


class LocalEngine:
    """An Arrow table as table ``name`` of an in-memory DuckDB: an engine for analyses."""

    engine_name = "duckdb"

    def __init__(self, table: pa.Table, name: str = "caselog") -> None:
        if not _SAFE_ID.match(name):
            raise ValueError(f"name: {name!r} is not a table name")
        self.name = name
        self.con = duckdb.connect()
        self.con.register("incoming_arrow", table)
        self.con.execute(f"CREATE TABLE {name} AS SELECT * FROM incoming_arrow")
        self.con.unregister("incoming_arrow")

    def query(
        self, sql: str, params: dict[str, Any] | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        res = self.con.execute(sql, params or {})
        names = [x[0] for x in res.description] if res.description else []
        return names, res.fetchall()

    def query_arrow(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
        return self.con.sql(sql, params=params or None).to_arrow_table()

    def close(self) -> None:
        self.con.close()


def read_table_file(path: Path) -> pa.Table:
    """A CSV or Parquet file as an Arrow table (DuckDB's type detection)."""
    if not path.exists():
        raise ValidationFailed(f"file: {path} does not exist", field="file")
    name = path.name.lower()
    if name.endswith(".parquet"):
        reader = "read_parquet"
    elif name.endswith((".csv", ".csv.gz", ".tsv")):
        reader = "read_csv"
    else:
        raise ValidationFailed(f"file: {path.name} is neither CSV nor Parquet", field="file")
    con = duckdb.connect()
    try:
        return con.sql(f"SELECT * FROM {reader}($p)", params={"p": str(path)}).to_arrow_table()
    except duckdb.Error as exc:
        raise ValidationFailed(f"file: cannot read {path.name}: {exc}", field="file") from None
    finally:
        con.close()


def evaluate(table: pa.Table, columns: list[tuple[str, str]]) -> pa.Table:
    """``SELECT expr AS name, ...`` over ``table`` (as ``t``); names are quoted here.

    The expressions are the user's own SQL over their own file (key-driver factors such as
    ``late=delivered > promised``) and run in a fresh in-memory DuckDB that holds nothing else.
    """
    con = duckdb.connect()
    con.register("t", table)
    cols = ", ".join(f"({expr}) AS {_quote(name)}" for name, expr in columns)
    try:
        return con.sql(f"SELECT {cols} FROM t").to_arrow_table()
    except duckdb.Error as exc:
        raise ValidationFailed(
            f"factor: cannot evaluate the factors: {exc}", field="factor"
        ) from None
    finally:
        con.close()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def quote_identifier(name: str) -> str:
    """A column name as a DuckDB identifier (for expressions given to ``evaluate``)."""
    return _quote(name)
