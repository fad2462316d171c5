"""Case sources: the relations every journey query reads (``case_id``, ``activity``, ``ts``,
``seq``), on store data with identity resolved at read time, or on a loaded case log."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from safar.journeys.index import IndexSpec
from safar.kit.query import Dialect
from safar.kit.query import param as p


@dataclass(frozen=True)
class Source:
    """A case source: SQL of a relation plus its bound parameters."""

    sql: str
    params: dict[str, Any]
    # Set when the source can be served by a journey index (``journeys.index``).
    index: IndexSpec | None = None
    #: The dialect the SQL is written in (None: plain SQL both engines read).
    dialect: Dialect | None = None

    def check(self, d: Dialect) -> None:
        """Refuse to render a source written for the other engine."""
        if self.dialect is not None and self.dialect != d:
            raise ValueError(f"a {self.dialect} source cannot be rendered for {d}")


def events_source(
    d: Dialect,
    *,
    db: str,
    workspace_id: str,
    since_us: int | None = None,
    until_us: int | None = None,
    activities: list[str] | None = None,
    details: bool = False,
    sentiment: bool = False,
    channel: str | None = None,
    members: tuple[str, ...] | None = None,
) -> Source:
    """Events of one workspace as a case source; ``case_id`` is the resolved customer.

    ``details`` adds ``channel``, ``type`` and ``properties``; ``sentiment`` adds the text
    sentiment score of the event's message from ``text_analyses`` (only when that table exists).
    ``channel`` keeps that channel's events, ``members`` those of these customers (a segment):
    the dashboard's shared filters. Either makes the source one the journey index cannot serve.

    An event belongs to the profile owning its ``user_id`` or, without one, its
    ``anonymous_id``; identifiers the map does not know stand for themselves.
    """
    params: dict[str, Any] = {"ws": workspace_id}
    t = "events" if d == "duckdb" else f"{db}.events"
    m = "identity_map" if d == "duckdb" else f"{db}.identity_map"
    ts = "epoch_us(e.timestamp)" if d == "duckdb" else "toUnixTimestamp64Micro(e.timestamp)"
    where = [
        f"e.workspace_id = {p(d, 'ws', 'String')}",
        "coalesce(e.user_id, e.anonymous_id) IS NOT NULL",
    ]
    if since_us is not None:
        where.append(f"{ts} >= {p(d, 'since', 'Int64')}")
        params["since"] = since_us
    if until_us is not None:
        where.append(f"{ts} < {p(d, 'until', 'Int64')}")
        params["until"] = until_us
    act = "coalesce(e.event, e.name, e.type)"
    if activities is not None:
        params["acts"] = activities
        where.append(
            f"list_contains($acts, {act})"
            if d == "duckdb"
            else f"has({{acts:Array(String)}}, {act})"
        )
    if channel is not None:
        params["channel"] = channel
        where.append(f"e.channel = {p(d, 'channel', 'String')}")
    case = "coalesce(m.profile_id, e.user_id, e.anonymous_id)"
    if members is not None:
        params["members"] = list(members)
        where.append(
            f"list_contains($members, {case})"
            if d == "duckdb"
            else f"has({{members:Array(String)}}, {case})"
        )
    chan = (
        ", e.channel AS channel, e.type AS type, e.properties AS properties, e.traits AS traits"
        if details
        else ""
    )
    senti_col, senti_join = _sentiment(d, db) if sentiment else ("", "")
    chan += senti_col
    id_type = (
        "CASE WHEN e.user_id IS NOT NULL THEN 'user_id' ELSE 'anonymous_id' END"
        if d == "duckdb"
        else "if(e.user_id IS NOT NULL, 'user_id', 'anonymous_id')"
    )
    sql = (
        f"SELECT {case} AS case_id, {act} AS activity, "
        f"{ts} AS ts, e.message_id AS seq{chan} "
        f"FROM {t} AS e LEFT JOIN (SELECT id_type, id_value, profile_id FROM {m} "
        f"WHERE workspace_id = {p(d, 'ws', 'String')}) AS m "
        f"ON m.id_type = {id_type} AND m.id_value = coalesce(e.user_id, e.anonymous_id)"
        f"{senti_join} WHERE {' AND '.join(where)}"
    )
    if d == "clickhouse":
        # Non-null case ids and times, so window frames and funnels see plain types.
        sql = (
            "SELECT assumeNotNull(case_id) AS case_id, assumeNotNull(activity) AS activity, ts, seq"
            f"{', channel, type, properties, traits' if details else ''}"
            f"{', sentiment' if sentiment else ''} FROM ({sql})"
        )
    plain = not (details or sentiment or activities is not None or channel or members is not None)
    spec = IndexSpec("events", workspace_id, since_us, until_us) if plain else None
    return Source(sql, params, spec, d)


def _sentiment(d: Dialect, db: str) -> tuple[str, str]:
    """The column and join adding each event's text sentiment score (``text_analyses``)."""
    ta = "text_analyses" if d == "duckdb" else f"{db}.text_analyses"
    col = (
        ", CAST(ta.sentiment_score AS DOUBLE) AS sentiment"
        if d == "duckdb"
        else ", toFloat64(ta.sentiment_score) AS sentiment"
    )
    pick = "any_value" if d == "duckdb" else "any"
    join = (
        f" LEFT JOIN (SELECT message_id, {pick}(sentiment_score) AS sentiment_score FROM {ta} "
        f"WHERE workspace_id = {p(d, 'ws', 'String')} GROUP BY message_id) AS ta "
        "ON ta.message_id = e.message_id"
    )
    return col, join


def table_source(table: str) -> Source:
    """A loaded case log (columns case_id, activity, ts, seq) as a case source."""
    return Source(f"SELECT case_id, activity, ts, seq FROM {table}", {}, IndexSpec("table", table))
