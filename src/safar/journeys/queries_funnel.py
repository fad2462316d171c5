"""Funnel SQL for both engines: levels per case (strict and any order), summaries, cohorts,
and the values a breakdown groups by. Semantics: ``queries`` and docs/journeys.md."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from safar.journeys import index_ops as ops
from safar.journeys.index import JourneyIndex
from safar.journeys.params import FunnelMode
from safar.journeys.sources import Source
from safar.kit.query import (
    ArrowQuery,
    Dialect,
    Query,
    Rendered,
    count_if,
    quantile,
    settings_clause,
)
from safar.kit.query import param as p

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


# --- query objects ----------------------------------------------------------------------------

#: Per customer that reached level 1, ordered by id: ids, levels, first times (customers x
#: steps, -1 where not reached).
CaseLevels = tuple[pa.Array, np.ndarray, np.ndarray]


@dataclass(frozen=True)
class FunnelSpec:
    """Steps, window and order of a funnel: what every funnel query shares."""

    steps: tuple[str, ...]
    window_us: int
    mode: FunnelMode = "strict"

    def params(self, src: Source, first: int | None = None) -> dict[str, Any]:
        """The source's parameters with the window and steps (``s1``.. up to ``first``)."""
        used = self.steps if first is None else self.steps[:first]
        return {**src.params, "win": self.window_us, **{f"s{i}": s for i, s in enumerate(used, 1)}}

    def levels(self, idx: JourneyIndex) -> ops.FunnelLevels:
        """The levels per customer on an index (computed once per index and spec)."""
        key = ("funnel", self)
        if key not in idx.memo:
            fn = ops.funnel_any_levels if self.mode == "any" else ops.funnel_levels
            idx.memo[key] = fn(idx, list(self.steps), self.window_us)
        levels: ops.FunnelLevels = idx.memo[key]
        return levels


@dataclass(frozen=True)
class FunnelSummary(Query[dict[str, Any]]):
    """Cases reaching each level (``n1``..) and median/p90 seconds from the previous one."""

    src: Source
    spec: FunnelSpec

    def render(self, d: Dialect) -> Rendered:
        self.src.check(d)
        sql = funnel_summary_sql(d, self.src, len(self.spec.steps), self.spec.mode)
        return Rendered(sql, self.spec.params(self.src))

    def shape(self, names: list[str], rows: list[tuple[Any, ...]]) -> dict[str, Any]:
        return dict(zip(names, rows[0], strict=True))

    def on_index(self, idx: JourneyIndex) -> dict[str, Any]:
        return ops.funnel_summary(self.spec.levels(idx), len(self.spec.steps))


@dataclass(frozen=True)
class FunnelDropped(Query[list[str]]):
    """Up to ``limit`` cases whose last level reached is ``level`` (a cohort to act on)."""

    src: Source
    spec: FunnelSpec
    level: int
    limit: int

    def render(self, d: Dialect) -> Rendered:
        self.src.check(d)
        sql = funnel_dropped_sql(d, self.src, len(self.spec.steps), self.spec.mode)
        return Rendered(sql, {**self.spec.params(self.src), "level": self.level, "lim": self.limit})

    def shape(self, names: list[str], rows: list[tuple[Any, ...]]) -> list[str]:
        return [r[0] for r in rows]

    def on_index(self, idx: JourneyIndex) -> list[str]:
        return ops.funnel_dropped(idx, self.spec.levels(idx), self.level, self.limit)


@dataclass(frozen=True)
class FunnelCases(ArrowQuery[CaseLevels]):
    """Level and first times of every case that entered (the rows breakdowns group)."""

    src: Source
    spec: FunnelSpec

    def render(self, d: Dialect) -> Rendered:
        self.src.check(d)
        sql = funnel_cases_sql(d, self.src, len(self.spec.steps), self.spec.mode)
        return Rendered(sql, self.spec.params(self.src))

    def shape(self, table: pa.Table) -> CaseLevels:
        n = len(self.spec.steps)
        tbl = table.take(pc.sort_indices(table, [("case_id", "ascending")]))
        ids = tbl.column("case_id").combine_chunks().cast(pa.string())
        lv = tbl.column("level").to_numpy().astype(np.int64)
        firsts = np.full((len(ids), n), -1, dtype=np.int64)
        for k in range(n):
            firsts[:, k] = tbl.column(f"t{k + 1}").cast(pa.int64()).fill_null(-1).to_numpy()
        return ids, lv, firsts

    def on_index(self, idx: JourneyIndex) -> CaseLevels:
        return ops.funnel_cases(idx, self.spec.levels(idx))


@dataclass(frozen=True)
class EntryValues(ArrowQuery[pa.Table]):
    """(case_id, value): the channel, or property ``key``, of each case's entry event."""

    src: Source  # with details
    spec: FunnelSpec
    key: str | None = None  # None: the channel

    def render(self, d: Dialect) -> Rendered:
        self.src.check(d)
        column = "channel" if self.key is None else "properties"
        expr = "channel" if self.key is None else json_scalar(d, "properties", "bkey")
        n = len(self.spec.steps)
        sql = entry_values_sql(d, self.src, n, self.spec.mode, column, expr)
        params = {
            k: v
            for k, v in self.spec.params(self.src, 1 if self.spec.mode == "strict" else n).items()
            if k != "win"
        }
        if self.key is not None:
            params["bkey"] = self.key
        return Rendered(sql, params)

    def shape(self, table: pa.Table) -> pa.Table:
        return table


@dataclass(frozen=True)
class LatestTraits(ArrowQuery[pa.Table]):
    """(case_id, traits) of each case's latest identify, or (case_id, value) of trait ``key``."""

    src: Source  # with details
    key: str | None = None

    def render(self, d: Dialect) -> Rendered:
        self.src.check(d)
        if self.key is None:
            return Rendered(latest_traits_sql(d, self.src), self.src.params)
        expr = json_scalar(d, "traits", "bkey")
        return Rendered(latest_traits_sql(d, self.src, expr), {**self.src.params, "bkey": self.key})

    def shape(self, table: pa.Table) -> pa.Table:
        return table
