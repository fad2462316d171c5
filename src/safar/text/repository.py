"""The ``text_analyses`` table in the event store, on DuckDB and ClickHouse.

One row per analysed event (``workspace_id``, ``message_id``), written by the background
worker (``safar.text.tasks``) and read by journeys, surveys and the dashboard through
``analyses_for``. Re-analysis appends a newer row; readers take the latest per message.
``sentiment_score`` is the signed polarity P(positive) - P(negative) in -1..1 (what curves
average); ``sentiment_confidence`` is the probability of ``sentiment_label``. The table is
created with the first analysis, so its absence means "no text analysed yet".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa

from safar.events.store import EventStore, analytics

COLUMNS = (
    "workspace_id",
    "message_id",
    "event_timestamp",
    "source_field",
    "language",
    "sentiment_label",
    "sentiment_score",
    "sentiment_confidence",
    "emotion",
    "emotion_score",
    "intent",
    "intent_score",
    "category",
    "category_score",
    "key_phrases",
    "actionable",
    "flags",
    "error",
    "analysed_at",
    "model_version",
)

_SCHEMA = pa.schema(
    [
        ("workspace_id", pa.string()),
        ("message_id", pa.string()),
        ("event_timestamp", pa.timestamp("us", tz="UTC")),
        ("source_field", pa.string()),
        ("language", pa.string()),
        ("sentiment_label", pa.string()),
        ("sentiment_score", pa.float64()),
        ("sentiment_confidence", pa.float64()),
        ("emotion", pa.string()),
        ("emotion_score", pa.float64()),
        ("intent", pa.string()),
        ("intent_score", pa.float64()),
        ("category", pa.string()),
        ("category_score", pa.float64()),
        ("key_phrases", pa.string()),
        ("actionable", pa.bool_()),
        ("flags", pa.string()),
        ("error", pa.string()),
        ("analysed_at", pa.timestamp("us", tz="UTC")),
        ("model_version", pa.string()),
    ]
)


def _table(store: EventStore) -> str:
    return "safar.text_analyses" if store.engine_name == "clickhouse" else "text_analyses"


def ensure_table(store: EventStore) -> None:
    """Create the table if missing (idempotent, both engines; the store owns its DDL)."""
    analytics.ensure_text_analyses(store)


def table_exists(store: EventStore) -> bool:
    return analytics.has_table(store, "text_analyses")


def insert_analyses(store: EventStore, rows: Sequence[dict[str, Any]]) -> int:
    """Append analysis rows (dicts keyed by ``COLUMNS``)."""
    if not rows:
        return 0
    now = datetime.now(UTC)
    data = {c: [r.get(c) for r in rows] for c in COLUMNS}
    data["analysed_at"] = [r.get("analysed_at") or now for r in rows]
    store.insert_arrow(_table(store), pa.Table.from_pydict(data, schema=_SCHEMA))
    return len(rows)


def analyses_for(
    store: EventStore, workspace_id: str, message_ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    """Latest analysis of each of the given events of one workspace, keyed by message id."""
    if not message_ids or not table_exists(store):
        return {}
    cols = ", ".join(COLUMNS)
    if store.engine_name == "clickhouse":
        sql = (
            f"SELECT {cols} FROM {_table(store)} WHERE workspace_id = {{ws:String}} "
            "AND message_id IN {ids:Array(String)} ORDER BY analysed_at"
        )
    else:
        sql = (
            f"SELECT {cols} FROM text_analyses WHERE workspace_id = $ws "
            "AND list_contains($ids, message_id) ORDER BY analysed_at"
        )
    names, rows = store.query(sql, {"ws": workspace_id, "ids": list(message_ids)})
    out: dict[str, dict[str, Any]] = {}
    for row in rows:
        rec = dict(zip(names, row, strict=True))
        rec["key_phrases"] = orjson.loads(rec["key_phrases"]) if rec["key_phrases"] else []
        rec["flags"] = orjson.loads(rec["flags"]) if rec["flags"] else []
        out[rec["message_id"]] = rec  # later rows (newer analyses) win
    return out


def sentiment_series(
    store: EventStore, workspace_id: str, *, bucket: str = "day"
) -> list[dict[str, Any]]:
    """Volume and mean polarity (-1..1) per time bucket and category, for dashboards."""
    if bucket not in ("hour", "day", "week", "month"):
        raise ValueError("bucket: one of hour, day, week, month")
    if not table_exists(store):
        return []
    value = "sentiment_score"
    if store.engine_name == "clickhouse":
        sql = (
            f"SELECT date_trunc('{bucket}', event_timestamp) AS period, category, count() AS n, "
            f"avg({value}) AS sentiment FROM {_table(store)} "
            "WHERE workspace_id = {ws:String} AND error IS NULL "
            "GROUP BY period, category ORDER BY period, category"
        )
    else:
        sql = (
            f"SELECT date_trunc('{bucket}', event_timestamp) AS period, category, count(*) AS n, "
            f"avg({value}) AS sentiment FROM text_analyses "
            "WHERE workspace_id = $ws AND error IS NULL "
            "GROUP BY period, category ORDER BY period, category"
        )
    names, rows = store.query(sql, {"ws": workspace_id})
    return [dict(zip(names, r, strict=True)) for r in rows]


def label_counts(
    store: EventStore,
    workspace_id: str,
    *,
    since: datetime,
    until: datetime,
    channel: str | None = None,
) -> list[tuple[str | None, str | None, int]]:
    """(sentiment, emotion, events) of the texts of events in [since, until), latest analysis
    of each event, failed analyses left out; ``channel`` keeps the events of one channel."""
    if not table_exists(store):
        return []
    text, events = _table(store), analytics.table_name(store, "events")
    if store.engine_name == "clickhouse":
        ws, ch = "{ws:String}", "{ch:String}"
        window = (
            "{col} >= fromUnixTimestamp64Micro({since:Int64}, 'UTC') "
            "AND {col} < fromUnixTimestamp64Micro({until:Int64}, 'UTC')"
        )
        params: dict[str, Any] = {
            "since": int(since.timestamp() * 1_000_000),
            "until": int(until.timestamp() * 1_000_000),
        }
    else:
        ws, ch = "$ws", "$ch"
        window = "{col} >= $since AND {col} < $until"
        params = {"since": since, "until": until}
    params["ws"] = workspace_id
    of_channel = ""
    if channel is not None:
        params["ch"] = channel
        of_channel = (
            f"AND t.message_id IN (SELECT message_id FROM {events} WHERE workspace_id = {ws} "
            f"AND channel = {ch} AND " + window.replace("{col}", "timestamp") + ")"
        )
    sql = (
        f"SELECT t.sentiment_label, t.emotion, count(*) AS n FROM {text} AS t "
        f"INNER JOIN (SELECT message_id, max(analysed_at) AS at FROM {text} "
        f"WHERE workspace_id = {ws} AND " + window.replace("{col}", "event_timestamp") + " "
        "GROUP BY message_id) AS l ON t.message_id = l.message_id AND t.analysed_at = l.at "
        f"WHERE t.workspace_id = {ws} AND t.error IS NULL {of_channel} "
        "GROUP BY t.sentiment_label, t.emotion"
    )
    _, rows = store.query(sql, params)
    return [(r[0], r[1], int(r[2])) for r in rows]


def erase_analyses(store: EventStore, workspace_id: str, message_ids: Sequence[str]) -> int:
    """Delete the analyses of these events of one workspace; return how many there were."""
    if not message_ids or not table_exists(store):
        return 0
    params = {"ws": workspace_id, "ids": list(message_ids)}
    if store.engine_name == "clickhouse":
        where = "workspace_id = {ws:String} AND has({ids:Array(String)}, message_id)"
        _, rows = store.query(f"SELECT count() FROM {_table(store)} WHERE {where}", params)
        store.query(f"DELETE FROM {_table(store)} WHERE {where}", params)
    else:
        where = "workspace_id = $ws AND list_contains($ids, message_id)"
        _, rows = store.query(f"DELETE FROM text_analyses WHERE {where}", params)
    return int(rows[0][0]) if rows else 0
