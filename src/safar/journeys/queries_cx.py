"""SQL of the analyses that read event details: key-driver scores and touchpoints, journey-map
stages with the emotion curve and stage KPIs, and persona features."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from safar.journeys.sources import Source
from safar.kit.query import Dialect, Query, Rendered, count_if, quantile, settings_clause
from safar.kit.query import param as p

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
    """Per stage: mean NPS/CSAT/CES and text sentiment of events while the customer was there,
    and the NPS answers' promoters and detractors.

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
    # The NPS of a stage (-100..100) needs its promoters (9-10) and detractors (0-6).
    aggs.append(
        "sum(CASE WHEN nps >= 9 THEN 1 ELSE 0 END) AS nps_promoters, "
        "sum(CASE WHEN nps <= 6 THEN 1 ELSE 0 END) AS nps_detractors"
    )
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


# --- query objects ----------------------------------------------------------------------------

Rows = list[tuple[Any, ...]]


@dataclass(frozen=True)
class _PerScoredCustomer(Query[Rows]):
    """A per-customer query about the customers with a numeric ``prop`` on ``event``."""

    src: Source  # with details
    event: str
    prop: str

    def sql(self, d: Dialect) -> str:
        raise NotImplementedError

    def render(self, d: Dialect) -> Rendered:
        self.src.check(d)
        return Rendered(self.sql(d), {**self.src.params, "tev": self.event, "prop": self.prop})

    def shape(self, names: list[str], rows: Rows) -> Rows:
        return rows


@dataclass(frozen=True)
class CustomerScores(_PerScoredCustomer):
    """(case_id, score): mean numeric ``prop`` of each customer's ``event`` events."""

    def sql(self, d: Dialect) -> str:
        return customer_scores_sql(d, self.src)


@dataclass(frozen=True)
class CustomerTouchpoints(_PerScoredCustomer):
    """(case_id, activity, channel, events) of each scored customer before its last score."""

    def sql(self, d: Dialect) -> str:
        return customer_touchpoints_sql(d, self.src)


def _by_stage(names: list[str], rows: Rows) -> dict[str, dict[str, Any]]:
    return {r[0]: dict(zip(names[1:], r[1:], strict=True)) for r in rows}


@dataclass(frozen=True)
class EmotionCurve(Query[dict[str, dict[str, Any]]]):
    """Per stage: mean and count of NPS, CSAT, CES and text sentiment (``nps_mean``, ``nps_n``..)."""

    src: Source  # with details (and sentiment when ``with_sentiment``)
    stages: tuple[StageRule, ...]
    with_sentiment: bool = False

    def render(self, d: Dialect) -> Rendered:
        self.src.check(d)
        params: dict[str, Any] = {
            **self.src.params,
            "k_nps": "nps",
            "k_csat": "csat",
            "k_ces": "ces",
        }
        stage = stage_expr(d, list(self.stages), params)
        return Rendered(emotion_curve_sql(d, self.src, stage, self.with_sentiment), params)

    def shape(self, names: list[str], rows: Rows) -> dict[str, dict[str, Any]]:
        return _by_stage(names, rows)


@dataclass(frozen=True)
class StageKpis(Query[dict[str, dict[str, Any]]]):
    """Per stage: cases, events, cases reaching the next designed stage, time to it."""

    src: Source  # with details
    stages: tuple[StageRule, ...]
    order: tuple[str, ...]

    def render(self, d: Dialect) -> Rendered:
        self.src.check(d)
        params: dict[str, Any] = dict(self.src.params)
        stage = stage_expr(d, list(self.stages), params)
        return Rendered(stage_kpis_sql(d, self.src, stage, list(self.order), params), params)

    def shape(self, names: list[str], rows: Rows) -> dict[str, dict[str, Any]]:
        return _by_stage(names, rows)


def staged_source(d: Dialect, src: Source, stages: tuple[StageRule, ...]) -> Source:
    """The source with each event's stage as its activity (events in no stage left out)."""
    src.check(d)
    params: dict[str, Any] = dict(src.params)
    stage = stage_expr(d, list(stages), params)
    return Source(
        f"SELECT case_id, stage AS activity, ts, seq FROM (SELECT *, {stage} AS stage "
        f"FROM ({src.sql}) AS b) AS x WHERE stage IS NOT NULL",
        params,
        dialect=d,
    )


@dataclass(frozen=True)
class CustomerProfiles(Query[Rows]):
    """(case_id, events, days, value, traits) per customer (``customer_profile_sql``)."""

    src: Source  # with details

    def render(self, d: Dialect) -> Rendered:
        self.src.check(d)
        params = {**self.src.params, "k_rev": "revenue", "k_val": "value", "k_tot": "total"}
        return Rendered(customer_profile_sql(d, self.src), params)

    def shape(self, names: list[str], rows: Rows) -> Rows:
        return rows


@dataclass(frozen=True)
class CustomerChannels(Query[Rows]):
    """(case_id, channel, events) per customer and channel."""

    src: Source  # with details

    def render(self, d: Dialect) -> Rendered:
        self.src.check(d)
        return Rendered(customer_channels_sql(d, self.src), self.src.params)

    def shape(self, names: list[str], rows: Rows) -> Rows:
        return rows
