"""ClickHouse engine through clickhouse-connect: a server DSN in production, chdb in-process here.

Columns that may be absent are Nullable: ClickHouse otherwise returns type defaults ('' or
1970-01-01) where a value is missing, which would silently change query results.
"""

from __future__ import annotations

import threading
from datetime import date, datetime
from typing import Any

import clickhouse_connect
import numpy as np
import pyarrow as pa
from clickhouse_connect.driver import exceptions as ch_errors

from safar.errors import register_transient
from safar.events.rows import EventRow
from safar.events.store import TimelineQuery, decode_cursor, encode_cursor
from safar.events.store.arrow import decode_row, rows_to_arrow

# A lost or failing server is not a message's fault: the consumer retries (errors.is_transient).
register_transient(ch_errors.OperationalError, ch_errors.StreamClosedError)

DDL = """
CREATE TABLE IF NOT EXISTS {db}.events (
    workspace_id String,
    message_id String,
    message_hash UInt64,
    type LowCardinality(String),
    event Nullable(String),
    name Nullable(String),
    channel LowCardinality(String),
    user_id Nullable(String),
    anonymous_id Nullable(String),
    group_id Nullable(String),
    previous_id Nullable(String),
    timestamp DateTime64(6, 'UTC'),
    original_timestamp Nullable(DateTime64(6, 'UTC')),
    sent_at Nullable(DateTime64(6, 'UTC')),
    received_at DateTime64(6, 'UTC'),
    properties String,
    traits String,
    context String,
    source Nullable(String),
    INDEX idx_user user_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_anon anonymous_id TYPE bloom_filter GRANULARITY 4,
    INDEX idx_hash message_hash TYPE bloom_filter GRANULARITY 4
) ENGINE = MergeTree
ORDER BY (workspace_id, timestamp, message_hash)
-- The WAL checkpoint moves past inserted rows right away: parts must be on disk first.
SETTINGS fsync_after_insert = 1, fsync_part_directory = 1
"""

#: ClickHouse lets WHERE and ORDER BY see SELECT aliases, so the epoch columns must not reuse
#: the names ``timestamp``/``received_at`` (filters would then compare integers to times).
SELECT_COLS = (
    "message_id, type, event, name, channel, user_id, anonymous_id, group_id, previous_id, "
    "toUnixTimestamp64Micro(timestamp) AS timestamp_us, "
    "toUnixTimestamp64Micro(received_at) AS received_at_us, properties, traits, context, source"
)
_RENAMED = {"timestamp_us": "timestamp", "received_at_us": "received_at"}


def _rows(names: list[str], result: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
    """Rows of a ``SELECT_COLS`` query as the engine-neutral dicts (epoch-µs times)."""
    keys = [_RENAMED.get(n, n) for n in names]
    return [decode_row(dict(zip(keys, r, strict=True))) for r in result]


class ClickHouseEventStore:
    engine_name = "clickhouse"

    def __init__(self, dsn: str, database: str = "safar") -> None:
        self.dsn = dsn
        self.db = database
        self.client = clickhouse_connect.get_client(dsn=dsn)
        # The chdb client is not safe for concurrent use; a server client is cheap to guard too.
        self._lock = threading.RLock()

    def init(self) -> None:
        with self._lock:
            self.client.command(f"CREATE DATABASE IF NOT EXISTS {self.db}")
            self.client.command(DDL.format(db=self.db))

    def insert(self, rows: list[EventRow]) -> int:
        if not rows:
            return 0
        table = rows_to_arrow(rows)
        with self._lock:
            self.client.insert_arrow(f"{self.db}.events", table)
        return len(rows)

    def _query(
        self, sql: str, params: dict[str, Any] | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        with self._lock:
            res = self.client.query(sql, parameters=params or {})
            return list(res.column_names), [tuple(r) for r in res.result_rows]

    def generation(self) -> int | None:
        """Other processes (and other servers) write to ClickHouse: no in-process generation."""
        return None

    def query(
        self, sql: str, params: dict[str, Any] | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]:
        return self._query(sql, params)

    def query_arrow(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table:
        with self._lock:
            return self.client.query_arrow(sql, parameters=params or {})

    def command(self, sql: str) -> None:
        with self._lock:
            self.client.command(sql)

    def insert_arrow(self, table_name: str, table: pa.Table) -> None:
        with self._lock:
            self.client.insert_arrow(
                table_name if "." in table_name else f"{self.db}.{table_name}", table
            )

    def all_hashes(self) -> np.ndarray:
        _, rows = self._query(f"SELECT message_hash FROM {self.db}.events")
        return np.fromiter((r[0] for r in rows), dtype=np.uint64, count=len(rows))

    def existing_message_ids(self, workspace_id: str, hashes: list[int]) -> set[str]:
        if not hashes:
            return set()
        _, rows = self._query(
            f"SELECT message_id FROM {self.db}.events WHERE workspace_id = {{ws:String}} "
            "AND has({h:Array(UInt64)}, message_hash)",
            {"ws": workspace_id, "h": hashes},
        )
        return {r[0] for r in rows}

    def timeline(self, q: TimelineQuery) -> tuple[list[dict[str, Any]], str | None]:
        where = [
            "workspace_id = {ws:String}",
            "(has({uids:Array(String)}, assumeNotNull(user_id)) AND user_id IS NOT NULL"
            " OR (user_id IS NULL AND has({aids:Array(String)}, assumeNotNull(anonymous_id))"
            " AND anonymous_id IS NOT NULL))",
        ]
        params: dict[str, Any] = {"ws": q.workspace_id, "uids": q.user_ids, "aids": q.anonymous_ids}
        if q.channels:
            where.append("has({channels:Array(String)}, channel)")
            params["channels"] = q.channels
        if q.types:
            where.append("has({types:Array(String)}, type)")
            params["types"] = q.types
        if q.events:
            where.append("event IS NOT NULL AND has({events:Array(String)}, assumeNotNull(event))")
            params["events"] = q.events
        if q.since:
            where.append("timestamp >= fromUnixTimestamp64Micro({since:Int64}, 'UTC')")
            params["since"] = int(q.since.timestamp() * 1_000_000)
        if q.until:
            where.append("timestamp < fromUnixTimestamp64Micro({until:Int64}, 'UTC')")
            params["until"] = int(q.until.timestamp() * 1_000_000)
        if q.cursor:
            ts, mid = decode_cursor(q.cursor)
            where.append(
                "(toUnixTimestamp64Micro(timestamp) < {cts:Int64} OR "
                "(toUnixTimestamp64Micro(timestamp) = {cts:Int64} AND message_id < {cmid:String}))"
            )
            params["cts"] = ts
            params["cmid"] = mid
        params["lim"] = q.limit + 1
        sql = (
            f"SELECT {SELECT_COLS} FROM {self.db}.events WHERE {' AND '.join(where)} "
            "ORDER BY timestamp DESC, message_id DESC LIMIT {lim:UInt32}"
        )
        names, result = self._query(sql, params)
        rows = _rows(names, result)
        next_cursor = None
        if len(rows) > q.limit:
            rows = rows[: q.limit]
            next_cursor = encode_cursor(rows[-1]["timestamp"], rows[-1]["message_id"])
        return rows, next_cursor

    def count(self, workspace_id: str) -> int:
        _, rows = self._query(
            f"SELECT count() FROM {self.db}.events WHERE workspace_id = {{ws:String}}",
            {"ws": workspace_id},
        )
        return int(rows[0][0]) if rows else 0

    def channel_counts(self, workspace_id: str) -> dict[str, int]:
        _, rows = self._query(
            f"SELECT channel, count() FROM {self.db}.events WHERE workspace_id = {{ws:String}} "
            "GROUP BY channel ORDER BY channel",
            {"ws": workspace_id},
        )
        return {r[0]: int(r[1]) for r in rows}

    @staticmethod
    def _window(
        workspace_id: str, since: datetime, until: datetime, channel: str | None = None
    ) -> dict[str, Any]:
        return {
            "ws": workspace_id,
            "since": int(since.timestamp() * 1_000_000),
            "until": int(until.timestamp() * 1_000_000),
            "ch": channel,
        }

    #: The window of the overview's queries; a NULL ``ch`` keeps every channel.
    _IN_WINDOW = (
        "workspace_id = {ws:String} "
        "AND timestamp >= fromUnixTimestamp64Micro({since:Int64}, 'UTC') "
        "AND timestamp < fromUnixTimestamp64Micro({until:Int64}, 'UTC') "
        "AND ({ch:Nullable(String)} IS NULL OR channel = {ch:Nullable(String)})"
    )

    def daily_channel_counts(
        self,
        workspace_id: str,
        *,
        since: datetime,
        until: datetime,
        tz: str = "UTC",
        channel: str | None = None,
    ) -> list[tuple[date, str, int]]:
        params = self._window(workspace_id, since, until, channel)
        params["tz"] = tz
        _, rows = self._query(
            "SELECT toDate(timestamp, {tz:String}) AS day, channel, count() "
            f"FROM {self.db}.events WHERE {self._IN_WINDOW} "
            "GROUP BY day, channel ORDER BY day, channel",
            params,
        )
        return [(r[0], str(r[1]), int(r[2])) for r in rows]

    def top_events(
        self,
        workspace_id: str,
        *,
        since: datetime,
        until: datetime,
        limit: int = 10,
        channel: str | None = None,
    ) -> list[tuple[str, int]]:
        params = self._window(workspace_id, since, until, channel)
        params["lim"] = limit
        _, rows = self._query(
            "SELECT if(type = 'track', assumeNotNull(event), toString(type)) AS label, "
            f"count() AS n FROM {self.db}.events WHERE {self._IN_WINDOW} "
            "GROUP BY label ORDER BY n DESC, label LIMIT {lim:UInt32}",
            params,
        )
        return [(str(r[0]), int(r[1])) for r in rows]

    def active_customers(
        self, workspace_id: str, *, since: datetime, until: datetime, channel: str | None = None
    ) -> int:
        _, rows = self._query(
            "SELECT uniqExact(coalesce(user_id, concat('anon:', assumeNotNull(anonymous_id)))) "
            f"FROM {self.db}.events WHERE {self._IN_WINDOW}",
            self._window(workspace_id, since, until, channel),
        )
        return int(rows[0][0]) if rows else 0

    def latest_events(self, workspace_id: str, *, limit: int = 20) -> list[dict[str, Any]]:
        names, result = self._query(
            f"SELECT {SELECT_COLS} FROM {self.db}.events WHERE workspace_id = {{ws:String}} "
            "ORDER BY timestamp DESC, message_id DESC LIMIT {lim:UInt32}",
            {"ws": workspace_id, "lim": limit},
        )
        return _rows(names, result)

    def close(self) -> None:
        with self._lock:
            self.client.close()
