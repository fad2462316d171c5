"""Discovery and path queries, for both engines side by side, each a query object (``kit.query``).

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

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from safar.journeys import index_ops as ops
from safar.journeys.index import JourneyIndex
from safar.journeys.params import Direction
from safar.journeys.sources import Source as Source
from safar.journeys.sources import events_source as events_source
from safar.journeys.sources import table_source as table_source
from safar.kit.query import ArrowQuery, Dialect, Query, Rendered, quantile, settings_clause
from safar.kit.query import param as p

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


# --- query objects ----------------------------------------------------------------------------

Edge = dict[str, Any]
PathCounts = list[tuple[list[str], int]]


def rounded(x: Any) -> float | None:
    """A number as results show it (3 decimals; None for missing or NaN)."""
    if x is None:
        return None
    f = float(x)
    return None if math.isnan(f) else round(f, 3)


def _edges(rows: Any, divisor: float) -> list[Edge]:
    return [
        {
            "source": r[0],
            "target": r[1],
            "frequency": int(r[2]),
            "median_seconds": rounded(r[3] if r[3] is None or divisor == 1 else r[3] / divisor),
            "p90_seconds": rounded(r[4] if r[4] is None or divisor == 1 else r[4] / divisor),
        }
        for r in rows
    ]


@dataclass(frozen=True)
class CountEvents(Query[int]):
    """Events of a source."""

    src: Source

    def render(self, d: Dialect) -> Rendered:
        self.src.check(d)
        return Rendered(f"SELECT count(*) FROM ({self.src.sql}) AS s", self.src.params)

    def shape(self, names: list[str], rows: list[tuple[Any, ...]]) -> int:
        return int(rows[0][0]) if rows and rows[0][0] else 0


@dataclass(frozen=True)
class CaseEvents(ArrowQuery[pa.Table]):
    """Every event of a source as (case_id, activity, ts, seq), ordered by case and time."""

    src: Source

    def render(self, d: Dialect) -> Rendered:
        self.src.check(d)
        sql = f"SELECT case_id, activity, ts, seq FROM ({self.src.sql}) AS s ORDER BY case_id, ts, seq"
        return Rendered(sql, self.src.params)

    def shape(self, table: pa.Table) -> pa.Table:
        return table


@dataclass(frozen=True)
class Activities(Query[set[str]]):
    """The activities that occur in a source."""

    src: Source

    def render(self, d: Dialect) -> Rendered:
        self.src.check(d)
        return Rendered(
            f"WITH s AS ({self.src.sql}) SELECT DISTINCT activity FROM s", self.src.params
        )

    def shape(self, names: list[str], rows: list[tuple[Any, ...]]) -> set[str]:
        return {r[0] for r in rows}

    def on_index(self, idx: JourneyIndex) -> set[str]:
        present = np.bincount(idx.act, minlength=len(idx.acts))
        return {a for a, c in zip(idx.acts, present.tolist(), strict=True) if c}


@dataclass(frozen=True)
class DirectlyFollows(Query[list[Edge]]):
    """Directly-follows edges with frequency and median/p90 seconds, most frequent first."""

    src: Source

    def render(self, d: Dialect) -> Rendered:
        self.src.check(d)
        return Rendered(dfg_sql(d, self.src), self.src.params)

    def shape(self, names: list[str], rows: list[tuple[Any, ...]]) -> list[Edge]:
        return _edges(rows, 1.0)

    def on_index(self, idx: JourneyIndex) -> list[Edge]:
        return edges_on_index(idx)


def edges_on_index(idx: JourneyIndex, keep_actor: np.ndarray | None = None) -> list[Edge]:
    """``DirectlyFollows`` on an index, optionally of the actors in mask ``keep_actor`` only."""
    return _edges(ops.dfg(idx, keep_actor), 1e6)


@dataclass
class VariantCounts:
    """Cases by first and last activity, the number of variants, and representatives."""

    starts: Counter[str]
    ends: Counter[str]
    representatives: dict[str, int]  # a case of each variant shown -> cases of that variant
    variant_count: int


@dataclass(frozen=True)
class VariantSummary(Query[VariantCounts]):
    """Starts, ends, variant count and the ``shown`` most frequent variants (all: None)."""

    src: Source
    shown: int | None = None

    def render(self, d: Dialect) -> Rendered:
        self.src.check(d)
        params = self.src.params if self.shown is None else {**self.src.params, "nvar": self.shown}
        return Rendered(variant_summary_sql(d, self.src, limit=self.shown is not None), params)

    def shape(self, names: list[str], rows: list[tuple[Any, ...]]) -> VariantCounts:
        out = VariantCounts(Counter(), Counter(), {}, 0)
        for kind, key, n in rows:
            if kind == "start":
                out.starts[key] += int(n)
            elif kind == "end":
                out.ends[key] += int(n)
            elif kind == "variants":
                out.variant_count = int(n)
            else:
                out.representatives[key] = int(n)
        return out


@dataclass(frozen=True)
class SequencesOf(ArrowQuery[dict[str, list[str]]]):
    """The activity sequences of the given cases."""

    src: Source
    cases: tuple[str, ...]

    def render(self, d: Dialect) -> Rendered:
        self.src.check(d)
        return Rendered(
            sequences_of_sql(d, self.src), {**self.src.params, "cases": list(self.cases)}
        )

    def shape(self, table: pa.Table) -> dict[str, list[str]]:
        ids = table.column("case_id").to_pylist()
        return dict(zip(ids, (list(a) for a in table.column("acts").to_pylist()), strict=True))


@dataclass(frozen=True)
class KeptVariantEdges(Query[list[Edge]]):
    """Directly-follows edges of the cases whose variant is one of ``kept`` (their durations)."""

    src: Source
    kept: tuple[tuple[str, ...], ...]

    def render(self, d: Dialect) -> Rendered:
        self.src.check(d)
        seqs = case_sequences_sql(d, self.src)
        cond = (
            "list_contains($kept, acts)"
            if d == "duckdb"
            else "has({kept:Array(Array(String))}, acts)"
        )
        sub = Source(
            f"SELECT * FROM ({self.src.sql}) AS s0 WHERE case_id IN "
            f"(SELECT case_id FROM ({seqs}) AS c WHERE {cond})",
            {**self.src.params, "kept": [list(k) for k in self.kept]},
        )
        return Rendered(dfg_sql(d, sub), sub.params)

    def shape(self, names: list[str], rows: list[tuple[Any, ...]]) -> list[Edge]:
        return _edges(rows, 1.0)


@dataclass(frozen=True)
class AnchoredPaths(ArrowQuery[PathCounts]):
    """Each case's activities after (or before) its first ``anchor``, ``depth`` steps, grouped,
    most frequent first."""

    src: Source
    anchor: str
    direction: Direction = "after"
    depth: int = 3

    def render(self, d: Dialect) -> Rendered:
        self.src.check(d)
        params = {**self.src.params, "anchor": self.anchor, "depth": self.depth}
        return Rendered(anchored_paths_sql(d, self.src, self.direction), params)

    def shape(self, table: pa.Table) -> PathCounts:
        paths = table.column("path").to_pylist()
        return [
            (list(p_), int(c))
            for p_, c in zip(paths, table.column("count").to_pylist(), strict=True)
        ]

    def on_index(self, idx: JourneyIndex) -> PathCounts:
        return ops.anchored(idx, self.anchor, self.direction, self.depth)


@dataclass(frozen=True)
class TopNgrams(Query[list[dict[str, Any]]]):
    """The ``top`` most common runs of ``length`` consecutive activities."""

    src: Source
    length: int = 3
    top: int = 10

    def render(self, d: Dialect) -> Rendered:
        self.src.check(d)
        return Rendered(
            ngram_paths_sql(d, self.src, self.length), {**self.src.params, "k": self.top}
        )

    def shape(self, names: list[str], rows: list[tuple[Any, ...]]) -> list[dict[str, Any]]:
        return [{"path": list(r[: self.length]), "count": int(r[self.length])} for r in rows]

    def on_index(self, idx: JourneyIndex) -> list[dict[str, Any]]:
        return [{"path": p_, "count": c} for p_, c in ops.ngrams(idx, self.length, self.top)]
