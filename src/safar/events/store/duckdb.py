"""DuckDB engine: the embedded default. One file, one writer, many reader cursors."""

from __future__ import annotations

import itertools
import re
import threading
from datetime import date, datetime
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pyarrow as pa

from safar.errors import StoreBusy, register_transient
from safar.events.rows import EventRow
from safar.events.store import TimelineQuery, decode_cursor, encode_cursor
from safar.events.store.arrow import decode_row, rows_to_arrow

# Disk and engine failures, not a message's fault: the consumer retries them (errors.is_transient).
register_transient(duckdb.OperationalError, duckdb.FatalException, duckdb.InterruptException)

DDL = """
CREATE TABLE IF NOT EXISTS events (
    workspace_id VARCHAR NOT NULL,
    message_id VARCHAR NOT NULL,
    message_hash UBIGINT NOT NULL,
    type VARCHAR NOT NULL,
    event VARCHAR,
    name VARCHAR,
    channel VARCHAR NOT NULL,
    user_id VARCHAR,
    anonymous_id VARCHAR,
    group_id VARCHAR,
    previous_id VARCHAR,
    timestamp TIMESTAMPTZ NOT NULL,
    original_timestamp TIMESTAMPTZ,
    sent_at TIMESTAMPTZ,
    received_at TIMESTAMPTZ NOT NULL,
    properties JSON,
    traits JSON,
    context JSON,
    source VARCHAR
)
"""

#: Generations come from one counter for every store of the process, so a store opened later
#: (at the address of a closed one) never repeats a generation a cache has seen.
_GENERATIONS = itertools.count(1)
_IF_NOT_EXISTS = re.compile(r"\s*CREATE\s+(TABLE|VIEW|INDEX)\s+IF\s+NOT\s+EXISTS\b", re.I)
_READS = ("SELECT", "WITH", "DESCRIBE", "SHOW", "EXPLAIN", "SUMMARIZE", "SET ", "RESET ")

SELECT_COLS = (
    "message_id, type, event, name, channel, user_id, anonymous_id, group_id, previous_id, "
    "epoch_us(timestamp) AS timestamp, epoch_us(received_at) AS received_at, "
    "properties, traits, context, source"
)


class DuckDBEventStore:
    engine_name = "duckdb"

    def __init__(self, path: Path | str, *, memory_limit: str | None = None) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.con = duckdb.connect(str(self.path))
        except duckdb.IOException as exc:
            raise StoreBusy(
                f"the event store {self.path} is in use by another process "
                "(is `safar serve` running?); stop it or send the data over HTTP",
            ) from exc
        self.con.execute("SET TimeZone = 'UTC'")
        #: The configured limit, restored exactly after a capped scan (``analytics.batches``).
        self.memory_limit = memory_limit
        if memory_limit:
            self.con.execute("SET memory_limit = ?", [memory_limit])
        self._write_lock = threading.Lock()
        self._generation = next(_GENERATIONS)

    def generation(self) -> int | None:
        """The file has one writing process, this one (``duckdb.connect`` locks it), so every
        change to it passes through here and moves the generation on."""
        return self._generation

    def _changed(self) -> None:
        self._generation = next(_GENERATIONS)

    def _catalog(self) -> tuple[Any, ...] | None:
        return self.con.execute(
            "SELECT (SELECT count(*) FROM duckdb_tables()), (SELECT count(*) FROM duckdb_views()),"
            " (SELECT count(*) FROM duckdb_indexes())"
        ).fetchone()

    def _wrote(self, sql: str) -> None:
        if not sql.lstrip().upper().startswith(_READS):
            self._changed()

    def init(self) -> None:
        with self._write_lock:
            self.con.execute(DDL)

    def _cursor(self) -> duckdb.DuckDBPyConnection:
        cur = self.con.cursor()
        cur.execute("SET TimeZone = 'UTC'")
        return cur

    def insert(self, rows: list[EventRow]) -> int:
        if not rows:
            return 0
        table = rows_to_arrow(rows)
        with self._write_lock:
            cur = self.con.cursor()
            try:
                cur.register("incoming", table)
                # The commit is DuckDB's own WAL fsync; callers count on it for durability.
                # A failed commit (full disk) stores none of the rows: the caller retries all.
                cur.execute("INSERT INTO events SELECT * FROM incoming")
            finally:
                cur.close()
                self._changed()
        return len(rows)

    def query(
        self, sql: str, params: dict[str, Any] | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        cur = self._cursor()
        try:
            res = cur.execute(sql, params or {})
        finally:
            self._wrote(sql)
        names = [d[0] for d in res.description] if res.description else []
        return names, res.fetchall()

    def query_arrow(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
        cur = self._cursor()
        try:
            return cur.sql(sql, params=params or None).to_arrow_table()
        finally:
            self._wrote(sql)

    def command(self, sql: str) -> None:
        with self._write_lock:
            # ``CREATE ... IF NOT EXISTS`` runs before many reads (``ensure_*``) and usually
            # changes nothing: only a catalog that changed moves the generation then.
            before = self._catalog() if _IF_NOT_EXISTS.match(sql) else None
            try:
                self.con.execute(sql)
            finally:
                if before is None or self._catalog() != before:
                    self._changed()

    def insert_arrow(self, table_name: str, table: pa.Table) -> None:
        with self._write_lock:
            cur = self.con.cursor()
            cur.register("incoming_arrow", table)
            cols = ", ".join(f'"{c}"' for c in table.column_names)
            try:
                cur.execute(f"INSERT INTO {table_name} ({cols}) SELECT {cols} FROM incoming_arrow")
            finally:
                self._changed()
            cur.unregister("incoming_arrow")
            cur.close()

    def all_hashes(self) -> np.ndarray:
        cur = self._cursor()
        arr = cur.execute("SELECT message_hash FROM events").fetchnumpy()["message_hash"]
        return np.asarray(arr, dtype=np.uint64)

    def existing_message_ids(self, workspace_id: str, hashes: list[int]) -> set[str]:
        if not hashes:
            return set()
        cur = self._cursor()
        rows = cur.execute(
            "SELECT message_id FROM events WHERE workspace_id = ? "
            "AND message_hash IN (SELECT unnest(?::UBIGINT[]))",
            [workspace_id, hashes],
        ).fetchall()
        return {r[0] for r in rows}

    def timeline(self, q: TimelineQuery) -> tuple[list[dict[str, Any]], str | None]:
        where = [
            "workspace_id = $ws",
            "(list_contains($uids, user_id) OR (user_id IS NULL AND list_contains($aids, anonymous_id)))",
        ]
        params: dict[str, Any] = {"ws": q.workspace_id, "uids": q.user_ids, "aids": q.anonymous_ids}
        if q.channels:
            where.append("list_contains($channels, channel)")
            params["channels"] = q.channels
        if q.types:
            where.append("list_contains($types, type)")
            params["types"] = q.types
        if q.events:
            where.append("list_contains($events, event)")
            params["events"] = q.events
        if q.since:
            where.append("timestamp >= $since")
            params["since"] = q.since
        if q.until:
            where.append("timestamp < $until")
            params["until"] = q.until
        if q.cursor:
            ts, mid = decode_cursor(q.cursor)
            where.append(
                "(epoch_us(timestamp) < $cts OR (epoch_us(timestamp) = $cts AND message_id < $cmid))"
            )
            params["cts"] = ts
            params["cmid"] = mid
        sql = (
            f"SELECT {SELECT_COLS} FROM events WHERE {' AND '.join(where)} "
            "ORDER BY timestamp DESC, message_id DESC LIMIT $lim"
        )
        params["lim"] = q.limit + 1
        cur = self._cursor()
        res = cur.execute(sql, params)
        names = [d[0] for d in res.description]
        rows = [decode_row(dict(zip(names, r, strict=True))) for r in res.fetchall()]
        next_cursor = None
        if len(rows) > q.limit:
            rows = rows[: q.limit]
            next_cursor = encode_cursor(rows[-1]["timestamp"], rows[-1]["message_id"])
        return rows, next_cursor

    def count(self, workspace_id: str) -> int:
        cur = self._cursor()
        row = cur.execute(
            "SELECT count(*) FROM events WHERE workspace_id = ?", [workspace_id]
        ).fetchone()
        return int(row[0]) if row else 0

    def channel_counts(self, workspace_id: str) -> dict[str, int]:
        cur = self._cursor()
        rows = cur.execute(
            "SELECT channel, count(*) FROM events WHERE workspace_id = ? GROUP BY channel ORDER BY channel",
            [workspace_id],
        ).fetchall()
        return {r[0]: int(r[1]) for r in rows}

    def daily_channel_counts(
        self,
        workspace_id: str,
        *,
        since: datetime,
        until: datetime,
        tz: str = "UTC",
        channel: str | None = None,
    ) -> list[tuple[date, str, int]]:
        params = {"ws": workspace_id, "since": since, "until": until, "tz": tz, "ch": channel}
        rows = (
            self._cursor()
            .execute(
                "SELECT CAST(timezone($tz, timestamp) AS DATE) AS day, channel, count(*) "
                f"FROM events WHERE {self._IN_WINDOW} GROUP BY day, channel ORDER BY day, channel",
                params,
            )
            .fetchall()
        )
        return [(r[0], r[1], int(r[2])) for r in rows]

    #: The window of the overview's queries; a NULL ``$ch`` keeps every channel.
    _IN_WINDOW = (
        "workspace_id = $ws AND timestamp >= $since AND timestamp < $until "
        "AND ($ch IS NULL OR channel = $ch)"
    )

    def top_events(
        self,
        workspace_id: str,
        *,
        since: datetime,
        until: datetime,
        limit: int = 10,
        channel: str | None = None,
    ) -> list[tuple[str, int]]:
        params = {"ws": workspace_id, "since": since, "until": until, "lim": limit, "ch": channel}
        rows = (
            self._cursor()
            .execute(
                "SELECT CASE WHEN type = 'track' THEN event ELSE type END AS label, count(*) AS n "
                f"FROM events WHERE {self._IN_WINDOW} GROUP BY label ORDER BY n DESC, label "
                "LIMIT $lim",
                params,
            )
            .fetchall()
        )
        return [(r[0], int(r[1])) for r in rows]

    def active_customers(
        self, workspace_id: str, *, since: datetime, until: datetime, channel: str | None = None
    ) -> int:
        row = (
            self._cursor()
            .execute(
                "SELECT count(DISTINCT coalesce(user_id, 'anon:' || anonymous_id)) FROM events "
                f"WHERE {self._IN_WINDOW}",
                {"ws": workspace_id, "since": since, "until": until, "ch": channel},
            )
            .fetchone()
        )
        return int(row[0]) if row else 0

    def latest_events(self, workspace_id: str, *, limit: int = 20) -> list[dict[str, Any]]:
        res = self._cursor().execute(
            f"SELECT {SELECT_COLS} FROM events WHERE workspace_id = $ws "
            "ORDER BY timestamp DESC, message_id DESC LIMIT $lim",
            {"ws": workspace_id, "lim": limit},
        )
        names = [d[0] for d in res.description]
        return [decode_row(dict(zip(names, r, strict=True))) for r in res.fetchall()]

    def close(self) -> None:
        from safar.events.store import results

        results.forget(self)
        with self._write_lock:
            self.con.close()
