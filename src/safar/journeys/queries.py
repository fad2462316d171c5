"""Every journey analysis as SQL, for both engines side by side.

Each analysis reads a *case source*: a relation with columns ``case_id`` (the customer or
case), ``activity``, ``ts`` (UTC microseconds, Int64) and ``seq`` (tie-breaker for equal
times). On store data the source is the ``events`` table with identity resolved at read time
through ``identity_map``; on a case log it is a table loaded from the file. Values are always
bound as parameters; only identifiers we generate (table names, step indexes) are formatted in.

Funnel semantics (both engines, checked against a brute-force reference in the tests): a
customer reaches step k when events e1..ek exist with ``activity(ei) = step i``, strictly
increasing timestamps and ``ts(ek) - ts(e1) <= window``. Both engines compute it with one
running-max window per step (the latest start that can still reach a step dominates all
earlier ones). ClickHouse's ``windowFunnel(window, 'strict_increase')`` is faster but keeps only
the latest start per step, so a later first-step event at the same instant as the next step
hides an earlier valid chain (on random data with ties it counted 39 where 40 converted); it is
therefore not used. Any-order funnels (``funnel_any_levels_sql``): a step event opens a window
``[ts, ts + window]``, which reaches level k with k distinct steps in it (docs/journeys.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from safar.journeys.index import IndexSpec

Dialect = Literal["duckdb", "clickhouse"]


def p(d: Dialect, name: str, ch_type: str) -> str:
    """A bound parameter in the dialect's syntax."""
    return f"${name}" if d == "duckdb" else f"{{{name}:{ch_type}}}"


def quantile(d: Dialect, q: float, expr: str) -> str:
    """Exact, linearly interpolated quantile (the same definition in both engines)."""
    if d == "duckdb":
        return f"quantile_cont({expr}, {q})"
    return f"quantileExactInclusive({q})({expr})"


def count_if(d: Dialect, cond: str) -> str:
    return f"count(*) FILTER (WHERE {cond})" if d == "duckdb" else f"countIf({cond})"


def settings_clause(d: Dialect) -> str:
    return "" if d == "duckdb" else " SETTINGS join_use_nulls = 1"


@dataclass(frozen=True)
class Source:
    """A case source: SQL of a relation plus its bound parameters."""

    sql: str
    params: dict[str, Any]
    # Set when the source can be served by a journey index (``journeys.index``).
    index: IndexSpec | None = None


# --- identity map -----------------------------------------------------------------------------

IDENTITY_MAP_DDL: dict[Dialect, str] = {
    "duckdb": (
        "CREATE TABLE IF NOT EXISTS identity_map (workspace_id VARCHAR NOT NULL, "
        "id_type VARCHAR NOT NULL, id_value VARCHAR NOT NULL, profile_id VARCHAR NOT NULL)"
    ),
    "clickhouse": (
        "CREATE TABLE IF NOT EXISTS {db}.identity_map (workspace_id String, id_type String, "
        "id_value String, profile_id Nullable(String)) ENGINE = MergeTree "
        "ORDER BY (workspace_id, id_type, id_value)"
    ),
}


IDENTITY_MAP_VERSION_DDL: dict[Dialect, str] = {
    "duckdb": (
        "CREATE TABLE IF NOT EXISTS identity_map_version (workspace_id VARCHAR NOT NULL, "
        "version VARCHAR NOT NULL)"
    ),
    "clickhouse": (
        "CREATE TABLE IF NOT EXISTS {db}.identity_map_version (workspace_id String, "
        "version String) ENGINE = MergeTree ORDER BY workspace_id"
    ),
}


def identity_map_version_delete(d: Dialect, db: str, workspace_id: str) -> str:
    t = "identity_map_version" if d == "duckdb" else f"{db}.identity_map_version"
    return f"DELETE FROM {t} WHERE workspace_id = '{workspace_id}'"


def identity_map_version_sql(d: Dialect, db: str) -> str:
    t = "identity_map_version" if d == "duckdb" else f"{db}.identity_map_version"
    return f"SELECT version FROM {t} WHERE workspace_id = {p(d, 'ws', 'String')}"


def identity_map_delete(d: Dialect, db: str, workspace_id: str) -> str:
    # ``command`` takes no parameters; workspace ids are ours and checked before formatting.
    if d == "duckdb":
        return f"DELETE FROM identity_map WHERE workspace_id = '{workspace_id}'"
    return f"DELETE FROM {db}.identity_map WHERE workspace_id = '{workspace_id}'"


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
) -> Source:
    """Events of one workspace as a case source; ``case_id`` is the resolved customer.

    ``details`` adds ``channel``, ``type`` and ``properties``; ``sentiment`` adds the text
    sentiment score of the event's message from ``text_analyses`` (only when that table exists).

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
    chan = (
        ", e.channel AS channel, e.type AS type, e.properties AS properties, e.traits AS traits"
        if details
        else ""
    )
    senti_join = ""
    if sentiment:
        ta = "text_analyses" if d == "duckdb" else f"{db}.text_analyses"
        chan += (
            ", CAST(ta.sentiment_score AS DOUBLE) AS sentiment"
            if d == "duckdb"
            else (", toFloat64(ta.sentiment_score) AS sentiment")
        )
        senti_join = (
            f" LEFT JOIN (SELECT message_id, any_value(sentiment_score) AS sentiment_score FROM {ta} "
            f"WHERE workspace_id = {p(d, 'ws', 'String')} GROUP BY message_id) AS ta "
            "ON ta.message_id = e.message_id"
            if d == "duckdb"
            else f" LEFT JOIN (SELECT message_id, any(sentiment_score) AS sentiment_score FROM {ta} "
            f"WHERE workspace_id = {p(d, 'ws', 'String')} GROUP BY message_id) AS ta "
            "ON ta.message_id = e.message_id"
        )
    id_type = (
        "CASE WHEN e.user_id IS NOT NULL THEN 'user_id' ELSE 'anonymous_id' END"
        if d == "duckdb"
        else "if(e.user_id IS NOT NULL, 'user_id', 'anonymous_id')"
    )
    sql = (
        f"SELECT coalesce(m.profile_id, e.user_id, e.anonymous_id) AS case_id, {act} AS activity, "
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
    plain = not (details or sentiment or activities is not None)
    spec = IndexSpec("events", workspace_id, since_us, until_us) if plain else None
    return Source(sql, params, spec)


def table_source(table: str) -> Source:
    """A loaded case log (columns case_id, activity, ts, seq) as a case source."""
    return Source(f"SELECT case_id, activity, ts, seq FROM {table}", {}, IndexSpec("table", table))


# --- process discovery ------------------------------------------------------------------------


def dfg_sql(d: Dialect, src: Source) -> str:
    """Directly-follows edges: frequency and median/p90 seconds between the two events."""
    if d == "duckdb":
        nxt = (
            "lead(activity) OVER w AS nxt, lead(ts) OVER w AS nts "
            "FROM s WINDOW w AS (PARTITION BY case_id ORDER BY ts, seq)"
        )
    else:
        nxt = (
            "leadInFrame(toNullable(activity)) OVER w AS nxt, leadInFrame(toNullable(ts)) OVER w AS nts "
            "FROM s WINDOW w AS (PARTITION BY case_id ORDER BY ts, seq "
            "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
        )
    return (
        f"WITH s AS ({src.sql}), f AS (SELECT activity, ts, {nxt}) "
        f"SELECT activity AS source, nxt AS target, count(*) AS frequency, "
        f"{quantile(d, 0.5, 'nts - ts')} / 1e6 AS median_seconds, "
        f"{quantile(d, 0.9, 'nts - ts')} / 1e6 AS p90_seconds "
        f"FROM f WHERE nxt IS NOT NULL GROUP BY activity, nxt "
        f"ORDER BY frequency DESC, source, target{settings_clause(d)}"
    )


def case_sequences_sql(d: Dialect, src: Source) -> str:
    """One row per case: its activities in order (the basis of variants, starts and ends)."""
    if d == "duckdb":
        seqs = "SELECT case_id, list(activity ORDER BY ts, seq) AS acts FROM s GROUP BY case_id"
    else:
        seqs = (
            "SELECT case_id, arrayMap(x -> x.3, arraySort(groupArray((ts, seq, activity)))) "
            "AS acts FROM s GROUP BY case_id"
        )
    return f"WITH s AS ({src.sql}) {seqs}"


def _case_keys(d: Dialect, src: Source) -> str:
    """CTEs ``r`` (events numbered per case) and ``c`` (per case: variant key, first, last).

    A variant is keyed by its length and the sum of hashes of (position, activity): grouping
    by plain numbers is several times faster than grouping by the sequences themselves, and a
    collision of two different sequences of one length needs a 64-bit hash sum to coincide.
    """
    if d == "duckdb":
        h, first, last = "sum(hash(rn, activity))", "arg_min(activity, rn)", "arg_max(activity, rn)"
    else:
        h, first, last = (
            "sum(cityHash64(rn, activity))",
            "argMin(activity, rn)",
            "argMax(activity, rn)",
        )
    return (
        f"WITH s AS ({src.sql}), "
        "r AS (SELECT case_id, activity, row_number() OVER (PARTITION BY case_id ORDER BY ts, seq) "
        "AS rn FROM s), "
        f"c AS (SELECT case_id, {h} AS h, count(*) AS n, {first} AS first_act, "
        f"{last} AS last_act FROM r GROUP BY case_id)"
    )


def variant_summary_sql(d: Dialect, src: Source, limit: bool = False) -> str:
    """One query: cases by first and by last activity, the number of variants, and the
    (``nvar`` most frequent, with ``limit``) variants as a count and a representative case."""
    lim = f" LIMIT {p(d, 'nvar', 'Int64')}" if limit else ""
    return (
        f"{_case_keys(d, src)}, "
        "v AS (SELECT h, n, count(*) AS cnt, min(case_id) AS rep FROM c GROUP BY h, n) "
        "SELECT 'start' AS kind, first_act AS key, count(*) AS cnt FROM c GROUP BY first_act "
        "UNION ALL SELECT 'end' AS kind, last_act AS key, count(*) AS cnt FROM c GROUP BY last_act "
        "UNION ALL SELECT 'variants' AS kind, '' AS key, count(*) AS cnt FROM v "
        "UNION ALL SELECT kind, key, cnt FROM (SELECT 'variant' AS kind, rep AS key, cnt FROM v "
        f"ORDER BY cnt DESC, rep{lim}) AS top{settings_clause(d)}"
    )


def sequences_of_sql(d: Dialect, src: Source) -> str:
    """Activity sequences of the cases in param ``cases``."""
    if d == "duckdb":
        return (
            f"WITH s AS ({src.sql}) SELECT case_id, list(activity ORDER BY ts, seq) AS acts "
            "FROM s WHERE list_contains($cases, case_id) GROUP BY case_id"
        )
    return (
        f"WITH s AS ({src.sql}) SELECT case_id, "
        "arrayMap(x -> x.3, arraySort(groupArray((ts, seq, activity)))) AS acts "
        "FROM s WHERE has({cases:Array(String)}, case_id) GROUP BY case_id"
    )


# --- funnels ----------------------------------------------------------------------------------


def funnel_levels_sql(d: Dialect, src: Source, n_steps: int) -> str:
    """Per case: the last funnel step reached and the first time each step was reached.

    Params: ``s1..sN`` (step activities) and ``win`` (window, microseconds).
    """
    steps = [p(d, f"s{i}", "String") for i in range(1, n_steps + 1)]
    win = p(d, "win", "Int64")
    flags = ", ".join(f"activity = {s} AS m{i}" for i, s in enumerate(steps, start=1))
    in_list = ", ".join(steps)
    frame = "PARTITION BY case_id ORDER BY ts RANGE BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"
    ctes = [
        f"s AS ({src.sql})",
        f"e AS (SELECT case_id, ts, {flags} FROM s WHERE activity IN ({in_list}))",
        "l1 AS (SELECT *, CASE WHEN m1 THEN ts END AS c1 FROM e)",
    ]
    for k in range(2, n_steps + 1):
        ctes.append(
            f"l{k} AS (SELECT *, CASE WHEN m{k} AND ts - p{k} <= {win} THEN p{k} END AS c{k} "
            f"FROM (SELECT *, max(c{k - 1}) OVER ({frame}) AS p{k} FROM l{k - 1}) AS x{k})"
        )
    level = (
        "CASE "
        + " ".join(
            f"WHEN {count_if(d, f'c{k} IS NOT NULL')} > 0 THEN {k}" for k in range(n_steps, 0, -1)
        )
        + " ELSE 0 END"
    )
    firsts = ", ".join(
        f"min(CASE WHEN c{k} IS NOT NULL THEN ts END) AS t{k}" for k in range(1, n_steps + 1)
    )
    ctes.append(
        f"per AS (SELECT case_id, {level} AS level, {firsts} FROM l{n_steps} GROUP BY case_id)"
    )
    return "WITH " + ", ".join(ctes)


FunnelMode = Literal["strict", "any"]

#: Stands for "no such event" in the any-order SQL (sorts after every real time).
NEVER_US = 4611686018427387904


def funnel_any_levels_sql(d: Dialect, src: Source, n_steps: int) -> str:
    """Any-order funnel, per case: the largest level reached and the first time each was reached.

    Each step event opens a window ``[ts, ts + win]``; per step the first event of it in that
    window (``f1..fN``, ``NEVER_US`` when none). The window reaches level k at the k-th smallest
    of them; the case's level is the best window's and its first time at level k the earliest
    over its windows. Params: ``s1..sN`` (distinct step activities) and ``win``.
    """
    steps = [p(d, f"s{i}", "String") for i in range(1, n_steps + 1)]
    win = p(d, "win", "Int64")
    in_list = ", ".join(steps)
    frame = "PARTITION BY case_id ORDER BY ts RANGE BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING"
    nxt = ", ".join(
        f"min(CASE WHEN activity = {s} THEN ts END) OVER ({frame}) AS f{i}"
        for i, s in enumerate(steps, start=1)
    )
    within = ", ".join(
        f"CASE WHEN f{i} - ts <= {win} THEN f{i} ELSE {NEVER_US} END AS g{i}"
        for i in range(1, n_steps + 1)
    )
    arr = "[" + ", ".join(f"g{i}" for i in range(1, n_steps + 1)) + "]"
    srt = f"list_sort({arr})" if d == "duckdb" else f"arraySort({arr})"
    cnt = " + ".join(f"CAST(g{i} < {NEVER_US} AS INTEGER)" for i in range(1, n_steps + 1))
    firsts = ", ".join(
        f"min(CASE WHEN r[{k}] < {NEVER_US} THEN r[{k}] END) AS t{k}" for k in range(1, n_steps + 1)
    )
    return (
        f"WITH s AS ({src.sql}), "
        f"e AS (SELECT case_id, ts, {nxt} FROM s WHERE activity IN ({in_list})), "
        f"w AS (SELECT case_id, {within} FROM e), "
        f"x AS (SELECT case_id, {cnt} AS cnt, {srt} AS r FROM w), "
        f"per AS (SELECT case_id, max(cnt) AS level, {firsts} FROM x GROUP BY case_id)"
    )


def _levels_sql(d: Dialect, src: Source, n_steps: int, mode: FunnelMode) -> str:
    if mode == "any":
        return funnel_any_levels_sql(d, src, n_steps)
    return funnel_levels_sql(d, src, n_steps)


def funnel_summary_sql(d: Dialect, src: Source, n_steps: int, mode: FunnelMode = "strict") -> str:
    """Cases reaching each step, and median/p90 seconds from the previous step."""
    cols = [count_if(d, f"level >= {k}") + f" AS n{k}" for k in range(1, n_steps + 1)]
    for k in range(2, n_steps + 1):
        delta = f"t{k} - t{k - 1}"
        cols.append(f"{quantile(d, 0.5, delta)} / 1e6 AS med{k}")
        cols.append(f"{quantile(d, 0.9, delta)} / 1e6 AS p90_{k}")
    return (
        f"{_levels_sql(d, src, n_steps, mode)} SELECT {', '.join(cols)} FROM per"
        f"{settings_clause(d)}"
    )


def funnel_dropped_sql(d: Dialect, src: Source, n_steps: int, mode: FunnelMode = "strict") -> str:
    """Cases whose last step reached is ``level`` (a cohort, e.g. abandoned carts)."""
    return (
        f"{_levels_sql(d, src, n_steps, mode)} SELECT case_id FROM per "
        f"WHERE level = {p(d, 'level', 'Int64')} ORDER BY case_id LIMIT {p(d, 'lim', 'Int64')}"
        f"{settings_clause(d)}"
    )


def funnel_cases_sql(d: Dialect, src: Source, n_steps: int, mode: FunnelMode = "strict") -> str:
    """Per case that reached level 1: its level and first times (the rows of a breakdown)."""
    ts = ", ".join(f"t{k}" for k in range(1, n_steps + 1))
    return (
        f"{_levels_sql(d, src, n_steps, mode)} SELECT case_id, level, {ts} FROM per "
        f"WHERE level >= 1 ORDER BY case_id{settings_clause(d)}"
    )


# --- funnel breakdowns ------------------------------------------------------------------------


def json_scalar(d: Dialect, column: str, key_param: str) -> str:
    """A scalar JSON value as text, the same in both engines (NULL when missing, null, an
    object or an array). Strings as they are, booleans ``true``/``false``, whole numbers as
    integers (``1000`` for ``1e3`` or ``1000.0``), other numbers in shortest form."""
    if d == "duckdb":
        path = f"'$.' || ${key_param}"
        num = f"TRY_CAST(json_extract_string({column}, {path}) AS DOUBLE)"
        return (
            f"CASE json_type({column}, {path}) "
            f"WHEN 'VARCHAR' THEN json_extract_string({column}, {path}) "
            f"WHEN 'BOOLEAN' THEN json_extract_string({column}, {path}) "
            f"WHEN 'BIGINT' THEN CAST(CAST({num} AS HUGEINT) AS VARCHAR) "
            f"WHEN 'UBIGINT' THEN CAST(CAST({num} AS HUGEINT) AS VARCHAR) "
            f"WHEN 'DOUBLE' THEN CASE WHEN {num} = floor({num}) AND abs({num}) < 1e15 "
            f"THEN CAST(CAST({num} AS BIGINT) AS VARCHAR) ELSE CAST({num} AS VARCHAR) END END"
        )
    k = f"{{{key_param}:String}}"
    t = f"JSONType({column}, {k})"
    num = f"JSONExtractFloat({column}, {k})"
    return (
        f"multiIf({t} = 'String', toNullable(JSONExtractString({column}, {k})), "
        f"{t} = 'Bool', toNullable(JSONExtractRaw({column}, {k})), "
        f"{t} IN ('Int64', 'UInt64', 'Double'), toNullable(if({num} = floor({num}) "
        f"AND abs({num}) < 1e15, toString(toInt64({num})), toString({num}))), "
        "CAST(NULL AS Nullable(String)))"
    )


def entry_values_sql(
    d: Dialect, src: Source, n_steps: int, mode: FunnelMode, column: str, value: str
) -> str:
    """Per case: ``value`` (an expression over ``column`` of a ``details`` source) at its entry
    event.

    The entry event is the case's first event of step 1 (strict order) or of any step (any
    order): the event at which it reached level 1. Equal times: the smallest ``seq``. The
    column is picked first and the value computed once per case (JSON is parsed only there).
    """
    steps = [p(d, f"s{i}", "String") for i in range(1, n_steps + 1)]
    cond = f"activity = {steps[0]}" if mode == "strict" else f"activity IN ({', '.join(steps)})"
    agg = (
        f"first({column} ORDER BY ts, seq)"
        if d == "duckdb"
        else f"argMin(tuple({column}), (ts, seq)).1"
    )
    return (
        f"WITH s AS ({src.sql}) SELECT case_id, {value} AS value FROM "
        f"(SELECT case_id, {agg} AS {column} FROM s WHERE {cond} GROUP BY case_id) AS en "
        f"ORDER BY case_id{settings_clause(d)}"
    )


def latest_traits_sql(d: Dialect, src: Source, value: str | None = None) -> str:
    """Per case: the traits of its latest ``identify`` (equal times: the largest ``seq``), or
    ``value``, an expression over those ``traits``."""
    agg = "last(traits ORDER BY ts, seq)" if d == "duckdb" else "argMax(tuple(traits), (ts, seq)).1"
    sql = (
        f"WITH s AS ({src.sql}) SELECT case_id, {agg} AS traits FROM s "
        "WHERE type = 'identify' GROUP BY case_id"
    )
    if value is not None:
        sql = f"SELECT case_id, {value} AS value FROM ({sql}) AS lt"
    return f"{sql} ORDER BY case_id{settings_clause(d)}"


# --- paths ------------------------------------------------------------------------------------


def anchored_paths_sql(d: Dialect, src: Source, direction: Literal["after", "before"]) -> str:
    """Each case's activities after (or before) its first ``anchor``, ``depth`` steps, grouped.

    Params: ``anchor`` and ``depth``.
    """
    anchor = p(d, "anchor", "String")
    depth = p(d, "depth", "Int64")
    rng = (
        f"s2.rn BETWEEN a.r0 AND a.r0 + {depth}"
        if direction == "after"
        else (f"s2.rn BETWEEN a.r0 - {depth} AND a.r0")
    )
    if d == "duckdb":
        grouped = "SELECT case_id, list(activity ORDER BY rn) AS path FROM w GROUP BY case_id"
    else:
        grouped = (
            "SELECT case_id, arrayMap(x -> x.2, arraySort(groupArray((rn, activity)))) AS path "
            "FROM w GROUP BY case_id"
        )
    return (
        f"WITH s AS ({src.sql}), "
        "s2 AS (SELECT case_id, activity, row_number() OVER (PARTITION BY case_id ORDER BY ts, seq) AS rn FROM s), "
        f"a AS (SELECT case_id, min(rn) AS r0 FROM s2 WHERE activity = {anchor} GROUP BY case_id), "
        f"w AS (SELECT s2.case_id AS case_id, s2.rn AS rn, s2.activity AS activity FROM s2 "
        f"INNER JOIN a ON s2.case_id = a.case_id WHERE {rng}), "
        f"g AS ({grouped}) "
        f"SELECT path, count(*) AS count FROM g GROUP BY path ORDER BY count DESC, path"
        f"{settings_clause(d)}"
    )


def ngram_paths_sql(d: Dialect, src: Source, length: int) -> str:
    """The most common runs of ``length`` consecutive activities over all cases. Param ``k``."""
    if d == "duckdb":
        leads = ", ".join(f"lead(activity, {i}) OVER w AS a{i}" for i in range(1, length))
        win = "WINDOW w AS (PARTITION BY case_id ORDER BY ts, seq)"
    else:
        leads = ", ".join(
            f"leadInFrame(toNullable(activity), {i}) OVER w AS a{i}" for i in range(1, length)
        )
        win = (
            "WINDOW w AS (PARTITION BY case_id ORDER BY ts, seq "
            "ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
        )
    cols = ", ".join(["activity"] + [f"a{i}" for i in range(1, length)])
    return (
        f"WITH s AS ({src.sql}), f AS (SELECT activity, {leads} FROM s {win}) "
        f"SELECT {cols}, count(*) AS count FROM f WHERE a{length - 1} IS NOT NULL "
        f"GROUP BY {cols} ORDER BY count DESC, {cols} LIMIT {p(d, 'k', 'Int64')}"
        f"{settings_clause(d)}"
    )


# --- drivers on store data --------------------------------------------------------------------


def json_number(d: Dialect, column: str, key_param: str) -> str:
    """A numeric JSON property (NULL when missing or not a number)."""
    if d == "duckdb":
        return f"TRY_CAST(json_extract_string({column}, '$.' || ${key_param}) AS DOUBLE)"
    return f"JSONExtract({column}, {{{key_param}:String}}, 'Nullable(Float64)')"


def customer_scores_sql(d: Dialect, src: Source) -> str:
    """Per case: mean of the numeric property ``prop`` of events ``tev`` (the target score)."""
    score = json_number(d, "properties", "prop")
    return (
        f"WITH s AS ({src.sql}) SELECT case_id, avg(x) AS score FROM ("
        f"SELECT case_id, {score} AS x FROM s WHERE activity = {p(d, 'tev', 'String')}) AS v "
        f"WHERE x IS NOT NULL GROUP BY case_id ORDER BY case_id{settings_clause(d)}"
    )


def customer_touchpoints_sql(d: Dialect, src: Source) -> str:
    """Per scored case: events of each name and channel before its last score (touchpoints)."""
    score = json_number(d, "properties", "prop")
    tev = p(d, "tev", "String")
    return (
        f"WITH s AS ({src.sql}), "
        f"t AS (SELECT case_id, max(ts) AS last_ts FROM s WHERE activity = {tev} "
        f"AND {score} IS NOT NULL GROUP BY case_id) "
        f"SELECT s.case_id AS case_id, s.activity AS activity, s.channel AS channel, "
        f"count(*) AS n FROM s INNER JOIN t ON s.case_id = t.case_id "
        f"WHERE s.ts <= t.last_ts AND s.activity != {tev} "
        f"GROUP BY s.case_id, s.activity, s.channel{settings_clause(d)}"
    )


# --- journey maps: stages, emotion curve, stage KPIs ------------------------------------------


@dataclass(frozen=True)
class StageRule:
    """Which events belong to a stage: any of the conditions given must all hold."""

    name: str
    events: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    prop: str | None = None
    equals: str | None = None


def stage_expr(d: Dialect, stages: list[StageRule], params: dict[str, Any]) -> str:
    """CASE expression naming each row's stage (first matching stage wins, else NULL).

    Needs a source with ``details`` (activity, type, channel, properties). Fills ``params``.
    """
    whens = []
    for i, st in enumerate(stages):
        conds = []
        for col, values, key in (
            ("activity", st.events, f"st{i}_ev"),
            ("type", st.types, f"st{i}_ty"),
            ("channel", st.channels, f"st{i}_ch"),
        ):
            if values:
                params[key] = list(values)
                conds.append(
                    f"list_contains(${key}, {col})"
                    if d == "duckdb"
                    else f"has({{{key}:Array(String)}}, {col})"
                )
        if st.prop is not None:
            params[f"st{i}_pk"] = st.prop
            params[f"st{i}_pv"] = "" if st.equals is None else st.equals
            if d == "duckdb":
                conds.append(f"json_extract_string(properties, '$.' || $st{i}_pk) = $st{i}_pv")
            else:
                conds.append(
                    f"JSONExtractString(properties, {{st{i}_pk:String}}) = {{st{i}_pv:String}}"
                )
        params[f"st{i}_name"] = st.name
        whens.append(f"WHEN {' AND '.join(conds) or 'false'} THEN {p(d, f'st{i}_name', 'String')}")
    return (
        "CASE " + " ".join(whens) + " END"
        if d == "duckdb"
        else ("CAST(CASE " + " ".join(whens) + " ELSE NULL END AS Nullable(String))")
    )


def emotion_curve_sql(d: Dialect, src: Source, stage: str, with_sentiment: bool) -> str:
    """Per stage: mean NPS/CSAT/CES and text sentiment of events while the customer was there.

    An event belongs to the stage of the customer's latest stage event at or before it (a survey
    answered after delivery speaks about delivery). ``src`` needs ``details``.
    """
    scores = {k: json_number(d, "properties", f"k_{k}") for k in ("nps", "csat", "ces")}
    senti = (
        "sentiment"
        if with_sentiment
        else "CAST(NULL AS DOUBLE)"
        if d == "duckdb"
        else ("CAST(NULL AS Nullable(Float64))")
    )
    if d == "duckdb":
        cur = (
            "last_value(stage IGNORE NULLS) OVER (PARTITION BY case_id ORDER BY ts, seq "
            "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
        )
    else:
        cur = (
            "last_value(stage) OVER (PARTITION BY case_id ORDER BY ts, seq "
            "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
        )
    aggs = []
    for k in ("nps", "csat", "ces", "sentiment"):
        aggs.append(f"avg({k}) AS {k}_mean, count({k}) AS {k}_n")
    return (
        f"WITH s AS (SELECT *, {stage} AS stage FROM ({src.sql}) AS b), "
        f"x AS (SELECT case_id, {cur} AS cur_stage, "
        + ", ".join(f"{expr} AS {k}" for k, expr in scores.items())
        + f", {senti} AS sentiment FROM s) "
        f"SELECT cur_stage AS stage, {', '.join(aggs)} FROM x WHERE cur_stage IS NOT NULL "
        f"GROUP BY cur_stage ORDER BY cur_stage{settings_clause(d)}"
    )


def stage_kpis_sql(
    d: Dialect, src: Source, stage: str, order: list[str], params: dict[str, Any]
) -> str:
    """Per stage: cases, events, cases reaching the next designed stage after it, time to it."""
    nxt = []
    for i in range(len(order) - 1):
        params[f"o{i}"] = order[i]
        params[f"o{i + 1}"] = order[i + 1]
        nxt.append(f"WHEN stage = {p(d, f'o{i}', 'String')} THEN {p(d, f'o{i + 1}', 'String')}")
    nxt_expr = ("CASE " + " ".join(nxt) + " END") if nxt else "NULL"
    if d == "clickhouse":
        nxt_expr = f"CAST({nxt_expr} AS Nullable(String))"
    delta = "CASE WHEN b.t0 >= a.t0 THEN b.t0 - a.t0 END"
    return (
        f"WITH s AS (SELECT case_id, ts, {stage} AS stage FROM ({src.sql}) AS b0), "
        "f AS (SELECT case_id, stage, min(ts) AS t0, count(*) AS n FROM s "
        "WHERE stage IS NOT NULL GROUP BY case_id, stage), "
        f"g AS (SELECT *, {nxt_expr} AS nxt FROM f) "
        f"SELECT a.stage AS stage, count(*) AS cases, sum(a.n) AS events, "
        f"{count_if(d, 'b.t0 IS NOT NULL AND b.t0 >= a.t0')} AS next_cases, "
        f"{quantile(d, 0.5, delta)} / 1e6 AS med_to_next, "
        f"{quantile(d, 0.9, delta)} / 1e6 AS p90_to_next "
        "FROM g AS a LEFT JOIN f AS b ON b.case_id = a.case_id AND b.stage = a.nxt "
        f"GROUP BY a.stage ORDER BY a.stage{settings_clause(d)}"
    )


# --- personas ---------------------------------------------------------------------------------


def customer_profile_sql(d: Dialect, src: Source) -> str:
    """Per case: events, active days, value (numeric ``revenue``/``value``/``total`` summed),
    and the traits of its latest identify. ``src`` needs ``details``."""
    value = (
        "coalesce("
        + ", ".join(json_number(d, "properties", k) for k in ("k_rev", "k_val", "k_tot"))
        + ")"
    )
    if d == "duckdb":
        days = "count(DISTINCT ts // 86400000000)"
        traits = "arg_max(traits, ts) FILTER (WHERE type = 'identify')"
    else:
        days = "uniqExact(intDiv(ts, 86400000000))"
        traits = "argMaxIf(traits, ts, type = 'identify')"
    return (
        f"WITH s AS ({src.sql}) SELECT case_id, count(*) AS events, {days} AS days, "
        f"coalesce(sum({value}), 0) AS value, {traits} AS traits FROM s GROUP BY case_id "
        f"ORDER BY case_id{settings_clause(d)}"
    )


def customer_channels_sql(d: Dialect, src: Source) -> str:
    """Per case and channel: events (the channel mix)."""
    return (
        f"WITH s AS ({src.sql}) SELECT case_id, channel, count(*) AS n FROM s "
        f"GROUP BY case_id, channel ORDER BY case_id, channel{settings_clause(d)}"
    )
