"""The ``text_analyses`` table in the event store, on DuckDB and ClickHouse, and the
``text_feedback`` table in the state store (readers' corrections of its labels).

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
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from safar.events.store import EventStore, analytics
from safar.kit.query import Dialect, dialect_of, param, settings_clause
from safar.kit.repository import WorkspaceRepository
from safar.text.models import TextFeedback
from safar.text.schemas import TextSlice

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


# -- the Listen page: analyses joined to their events' text, on both engines ------------------

#: Corrected labels per field: message id -> the label a reader set (the newest correction).
Corrections = dict[str, dict[str, str]]
_FIELDS = {"sentiment": "sentiment_label", "emotion": "emotion", "category": "category"}


def _label(d: Dialect, field: str, corrections: Corrections) -> tuple[str, dict[str, Any]]:
    """The field's label of ``a``: the reader's correction when there is one, else the model's."""
    column = f"a.{_FIELDS[field]}"
    fixed = corrections.get(field)
    if not fixed:
        return column, {}
    ids, labels = f"fb_{field}_ids", f"fb_{field}_labels"
    params = {ids: list(fixed), labels: list(fixed.values())}
    if d == "duckdb":
        expr = (
            f"CASE WHEN list_contains(${ids}, a.message_id) "
            f"THEN ${labels}[list_position(${ids}, a.message_id)] ELSE {column} END"
        )
    else:
        arr, lab = f"{{{ids}:Array(String)}}", f"{{{labels}:Array(String)}}"
        expr = (
            f"if(has({arr}, a.message_id), arrayElement({lab}, indexOf({arr}, a.message_id)), "
            f"{column})"
        )
    return expr, params


def _slice(
    store: EventStore,
    s: TextSlice,
    corrections: Corrections,
    *,
    people: bool,
    only: Sequence[str] | None = None,
) -> tuple[str, dict[str, str], dict[str, Any]]:
    """``FROM ... WHERE ...`` of the texts in the slice, the label expressions, the params.

    ``e`` is the event (its window, channel, source and survey), ``a`` the latest analysis
    that did not fail, ``m`` (with ``people`` or a segment) the event's customer from the
    ``identity_map``; ``only`` keeps these message ids.
    """
    d = dialect_of(store)
    text, events = _table(store), analytics.table_name(store, "events")
    ws = param(d, "ws", "String")
    params: dict[str, Any] = {"ws": s.workspace_id}
    if d == "clickhouse":
        params |= {"since": int(s.since.timestamp() * 1e6), "until": int(s.until.timestamp() * 1e6)}
        window = (
            "{col} >= fromUnixTimestamp64Micro({since:Int64}, 'UTC') "
            "AND {col} < fromUnixTimestamp64Micro({until:Int64}, 'UTC')"
        )
        survey = "JSONExtractString(properties, 'survey_id')"
    else:
        params |= {"since": s.since, "until": s.until}
        window = "{col} >= $since AND {col} < $until"
        survey = "json_extract_string(properties, '$.survey_id')"
    where = [f"workspace_id = {ws}", window.replace("{col}", "timestamp")]
    for name, value, expr in (
        ("ch", s.channel, "channel"),
        ("src", s.source, "coalesce(event, name, type)"),
        ("sv", s.survey, survey),
    ):
        if value is not None:
            params[name] = value
            where.append(f"{expr} = {param(d, name, 'String')}")
    e = (
        "SELECT message_id, timestamp, channel, coalesce(event, name, type) AS source, "
        f"user_id, anonymous_id, properties FROM {events} WHERE {' AND '.join(where)}"
    )
    a = (
        "SELECT t.message_id AS message_id, t.sentiment_label AS sentiment_label, "
        "t.sentiment_score AS sentiment_score, t.emotion AS emotion, t.category AS category, "
        f"t.language AS language, t.source_field AS source_field FROM {text} AS t "
        f"INNER JOIN (SELECT message_id, max(analysed_at) AS at FROM {text} "
        f"WHERE workspace_id = {ws} AND {window.replace('{col}', 'event_timestamp')} "
        "GROUP BY message_id) AS l ON t.message_id = l.message_id AND t.analysed_at = l.at "
        f"WHERE t.workspace_id = {ws} AND t.error IS NULL"
    )
    sql = f"FROM ({e}) AS e INNER JOIN ({a}) AS a ON a.message_id = e.message_id"
    if people or s.profile_ids is not None:
        imap = analytics.table_name(store, "identity_map")
        id_type = (
            "CASE WHEN e.user_id IS NOT NULL THEN 'user_id' ELSE 'anonymous_id' END"
            if d == "duckdb"
            else "if(e.user_id IS NOT NULL, 'user_id', 'anonymous_id')"
        )
        sql += (
            f" LEFT JOIN (SELECT id_type, id_value, profile_id FROM {imap} "
            f"WHERE workspace_id = {ws}) AS m "
            f"ON m.id_type = {id_type} AND m.id_value = coalesce(e.user_id, e.anonymous_id)"
        )
    labels: dict[str, str] = {}
    conditions: list[str] = []
    for field in _FIELDS:
        expr, extra = _label(d, field, corrections)
        labels[field], params = expr, params | extra
        wanted = getattr(s, field)
        if wanted is not None:
            params[f"want_{field}"] = wanted
            conditions.append(f"{expr} = {param(d, f'want_{field}', 'String')}")
    if only is not None:
        params["mids"] = list(only)
        conditions.append(
            "list_contains($mids, e.message_id)"
            if d == "duckdb"
            else "has({mids:Array(String)}, e.message_id)"
        )
    if s.profile_ids is not None:
        params["pids"] = list(s.profile_ids)
        conditions.append(
            "m.profile_id IS NOT NULL AND "
            + (
                "list_contains($pids, m.profile_id)"
                if d == "duckdb"
                else "has({pids:Array(String)}, assumeNotNull(m.profile_id))"
            )
        )
    if conditions:
        sql += " WHERE " + " AND ".join(conditions)
    return sql, labels, params


def listen_counts(
    store: EventStore, s: TextSlice, corrections: Corrections
) -> list[tuple[Any, str | None, str | None, str | None, int]]:
    """(local day, sentiment, emotion, category, texts) of the slice, corrections counted."""
    if not table_exists(store):
        return []
    source, labels, params = _slice(store, s, corrections, people=False)
    d = dialect_of(store)
    params["tz"] = s.tz
    day = (
        "CAST(timezone($tz, e.timestamp) AS DATE)"
        if d == "duckdb"
        else "toDate(e.timestamp, {tz:String})"
    )
    sql = (
        f"SELECT day, s, em, c, count(*) AS n FROM (SELECT {day} AS day, "
        f"{labels['sentiment']} AS s, {labels['emotion']} AS em, {labels['category']} AS c "
        f"{source}) AS x GROUP BY day, s, em, c ORDER BY day"
    ) + settings_clause(d)
    _, rows = store.query(sql, params)
    return [(r[0], r[1], r[2], r[3], int(r[4])) for r in rows]


def verbatims(
    store: EventStore,
    s: TextSlice,
    corrections: Corrections,
    *,
    limit: int,
    offset: int = 0,
    message_ids: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The slice's texts with their events, newest first: model and current labels, the
    customer's profile id (from ``identity_map``, refreshed by the caller)."""
    if not table_exists(store):
        return []
    source, labels, params = _slice(store, s, corrections, people=True, only=message_ids)
    d = dialect_of(store)
    ts = "epoch_us(e.timestamp)" if d == "duckdb" else "toUnixTimestamp64Micro(e.timestamp)"
    sql = (
        f"SELECT e.message_id AS message_id, {ts} AS timestamp, e.channel AS channel, "
        "e.source AS source, e.user_id AS user_id, e.anonymous_id AS anonymous_id, "
        "e.properties AS properties, a.source_field AS source_field, a.language AS language, "
        "a.sentiment_label AS model_sentiment, a.emotion AS model_emotion, "
        "a.category AS model_category, a.sentiment_score AS polarity, "
        f"{labels['sentiment']} AS sentiment, {labels['emotion']} AS emotion, "
        f"{labels['category']} AS category, m.profile_id AS profile_id {source} "
        f"ORDER BY e.timestamp DESC, e.message_id DESC LIMIT {int(limit)} OFFSET {int(offset)}"
    ) + settings_clause(d)
    names, rows = store.query(sql, params)
    out = []
    for row in rows:
        rec = dict(zip(names, row, strict=True))
        raw = rec.pop("properties")
        props = orjson.loads(raw) if isinstance(raw, str | bytes) and raw else raw or {}
        value = props.get(rec["source_field"]) if isinstance(props, dict) else None
        rec["text"] = value if isinstance(value, str) else ""
        rec["survey_id"] = props.get("survey_id") if isinstance(props, dict) else None
        rec["survey_name"] = props.get("survey_name") if isinstance(props, dict) else None
        out.append(rec)
    return out


# -- corrections (state store) -----------------------------------------------------------------
class FeedbackRepository(WorkspaceRepository[TextFeedback]):
    model = TextFeedback

    def history(
        self, workspace_id: str, message_ids: Sequence[str] | None = None
    ) -> list[TextFeedback]:
        """The workspace's corrections (of these messages), oldest first."""
        stmt = self.scoped(workspace_id)
        if message_ids is not None:
            stmt = stmt.where(TextFeedback.message_id.in_(list(message_ids)))
        return list(self.session.scalars(stmt.order_by(TextFeedback.at, TextFeedback.id)))

    def erase(self, workspace_id: str, message_ids: Sequence[str]) -> int:
        """Delete the corrections of these messages; return how many there were."""
        if not message_ids:
            return 0
        gone = self.session.scalars(
            select(TextFeedback.id).where(
                TextFeedback.workspace_id == workspace_id,
                TextFeedback.message_id.in_(list(message_ids)),
            )
        ).all()
        self.session.execute(delete(TextFeedback).where(TextFeedback.id.in_(gone)))
        return len(gone)


def feedback(session: Session) -> FeedbackRepository:
    return FeedbackRepository(session)
