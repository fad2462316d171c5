"""Run the journey analyses of ``queries`` on an engine and shape their results.

An *engine* is anything with ``engine_name``, ``query`` and ``query_arrow``: the event store
(DuckDB or ClickHouse) or a ``CaseLog`` (a file loaded into an in-memory DuckDB).
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal, Protocol

import duckdb
import numpy as np
import pyarrow as pa

from safar.errors import ValidationFailed
from safar.journeys import index as ix
from safar.journeys import queries as q

# Serve plain sources on DuckDB from a journey index (``journeys.index``); the SQL of
# ``queries`` stays the reference (ClickHouse runs it, tests compare both on DuckDB).
USE_INDEX = True


class Engine(Protocol):
    engine_name: str

    def query(
        self, sql: str, params: dict[str, Any] | None = None
    ) -> tuple[list[str], list[tuple[Any, ...]]]: ...

    def query_arrow(self, sql: str, params: dict[str, Any] | None = None) -> pa.Table: ...


class CaseLog:
    """A case table (see ``journeys.xes``) in an in-memory DuckDB, as an analysis engine."""

    engine_name = "duckdb"

    def __init__(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            raise ValidationFailed("file: the log has no events", field="file")
        self.con = duckdb.connect()
        self.con.register("caselog_arrow", table)
        self.con.execute("CREATE TABLE caselog AS SELECT * FROM caselog_arrow")
        self.con.unregister("caselog_arrow")
        self.source = q.table_source("caselog")

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


def _dialect(engine: Engine) -> q.Dialect:
    name = engine.engine_name
    if name not in ("duckdb", "clickhouse"):
        raise ValueError(f"unsupported engine {name}")
    return name  # type: ignore[return-value]


def _index(engine: Engine, src: q.Source) -> ix.JourneyIndex | None:
    spec = src.index
    if spec is None or not USE_INDEX or engine.engine_name != "duckdb":
        return None
    full = (
        q.events_source("duckdb", db="safar", workspace_id=spec.name)
        if spec.kind == "events"
        else q.table_source(spec.name)
    )
    try:
        return ix.get_index(engine, spec, full.sql, full.params)
    except duckdb.CatalogException:  # no identity map yet: plain SQL
        return None


def _r(x: Any) -> float | None:
    if x is None:
        return None
    f = float(x)
    return None if math.isnan(f) else round(f, 3)


# --- process discovery ------------------------------------------------------------------------


@dataclass
class Discovery:
    edges: list[dict[str, Any]]
    variants: list[dict[str, Any]]
    start_activities: dict[str, int]
    end_activities: dict[str, int]
    cases: int
    variant_count: int

    def as_dict(self, *, durations_p90: bool = False) -> dict[str, Any]:
        edges = [
            {k: v for k, v in e.items() if durations_p90 or k != "p90_seconds"} for e in self.edges
        ]
        return {
            "edges": edges,
            "variants": self.variants,
            "start_activities": self.start_activities,
            "end_activities": self.end_activities,
        }


def discover(
    engine: Engine,
    src: q.Source,
    *,
    top_variants: int | None = None,
    min_frequency: int = 1,
    max_variants: int | None = None,
) -> Discovery:
    """Directly-follows graph, variants, start and end activities of a case source.

    ``top_variants`` keeps the k most frequent variants (graph, starts and ends are then drawn
    from the cases of those variants only); ``min_frequency`` drops rarer edges;
    ``max_variants`` only shortens the variant list returned (counts stay whole-log).
    """
    if top_variants is not None and top_variants < 1:
        raise ValidationFailed("top_variants: must be at least 1", field="top_variants")
    if min_frequency < 1:
        raise ValidationFailed("min_frequency: must be at least 1", field="min_frequency")
    d = _dialect(engine)
    shown = (
        top_variants if max_variants is None else min(top_variants or max_variants, max_variants)
    )
    idx = _index(engine, src)
    if idx is not None:
        return _discover_index(idx, top_variants, min_frequency, shown)
    params = {**src.params, "nvar": shown} if shown is not None else src.params
    _, summary = engine.query(q.variant_summary_sql(d, src, limit=shown is not None), params)
    starts: Counter[str] = Counter()
    ends: Counter[str] = Counter()
    reps: dict[str, int] = {}
    variant_count = 0
    for kind, key, n in summary:
        if kind == "start":
            starts[key] += int(n)
        elif kind == "end":
            ends[key] += int(n)
        elif kind == "variants":
            variant_count = int(n)
        else:
            reps[key] = int(n)
    seq_tbl = engine.query_arrow(q.sequences_of_sql(d, src), {**src.params, "cases": list(reps)})
    variants: list[dict[str, Any]] = sorted(
        (
            {"activities": list(a), "count": reps[c]}
            for c, a in zip(
                seq_tbl.column("case_id").to_pylist(),
                seq_tbl.column("acts").to_pylist(),
                strict=True,
            )
        ),
        key=lambda v: (-v["count"], v["activities"]),
    )
    if top_variants is None:
        _, rows = engine.query(q.dfg_sql(d, src), src.params)
        edges = [
            {
                "source": r[0],
                "target": r[1],
                "frequency": int(r[2]),
                "median_seconds": _r(r[3]),
                "p90_seconds": _r(r[4]),
            }
            for r in rows
        ]
    else:
        starts, ends = Counter(), Counter()
        for v in variants:
            starts[v["activities"][0]] += v["count"]
            ends[v["activities"][-1]] += v["count"]
        edges = _edges_of_variants(engine, d, src, variants)
    edges = [e for e in edges if e["frequency"] >= min_frequency]
    return Discovery(
        edges=edges,
        variants=variants,
        start_activities=dict(sorted(starts.items(), key=lambda kv: (-kv[1], kv[0]))),
        end_activities=dict(sorted(ends.items(), key=lambda kv: (-kv[1], kv[0]))),
        cases=sum(starts.values()),
        variant_count=variant_count,
    )


def discover_table(
    table: pa.Table,
    *,
    top_variants: int | None = None,
    min_frequency: int = 1,
    max_variants: int | None = None,
) -> Discovery:
    """``discover`` on a case table (e.g. a log file just read), without an engine: the
    journey index is built from the table's columns in memory. Same result as
    ``discover(CaseLog(table), ...)`` (tested)."""
    if table.num_rows == 0:
        raise ValidationFailed("file: the log has no events", field="file")
    if top_variants is not None and top_variants < 1:
        raise ValidationFailed("top_variants: must be at least 1", field="top_variants")
    if min_frequency < 1:
        raise ValidationFailed("min_frequency: must be at least 1", field="min_frequency")
    shown = (
        top_variants if max_variants is None else min(top_variants or max_variants, max_variants)
    )
    idx = ix.from_case_table(table)
    idx.groups()
    return _discover_index(idx, top_variants, min_frequency, shown)


def _edge_dicts(rows: list[tuple[str, str, int, float, float]]) -> list[dict[str, Any]]:
    return [
        {
            "source": a,
            "target": b,
            "frequency": int(f),
            "median_seconds": _r(med / 1e6),
            "p90_seconds": _r(p90 / 1e6),
        }
        for a, b, f, med, p90 in rows
    ]


def _discover_index(
    idx: ix.JourneyIndex, top_variants: int | None, min_frequency: int, shown: int | None
) -> Discovery:
    vs = ix.variants(idx, shown)
    variants: list[dict[str, Any]] = sorted(
        ({"activities": a, "count": c} for a, c in vs.top),
        key=lambda v: (-v["count"], v["activities"]),
    )
    starts: Counter[str] = Counter(vs.starts)
    ends: Counter[str] = Counter(vs.ends)
    if top_variants is None:
        edges = _edge_dicts(ix.dfg(idx))
    else:
        starts, ends = Counter(), Counter()
        for v in variants:
            starts[v["activities"][0]] += v["count"]
            ends[v["activities"][-1]] += v["count"]
        keep = np.isin(vs.variant_of_actor, vs.top_groups)
        edges = _edge_dicts(ix.dfg(idx, keep))
    edges = [e for e in edges if e["frequency"] >= min_frequency]
    return Discovery(
        edges=edges,
        variants=variants,
        start_activities=dict(sorted(starts.items(), key=lambda kv: (-kv[1], kv[0]))),
        end_activities=dict(sorted(ends.items(), key=lambda kv: (-kv[1], kv[0]))),
        cases=sum(starts.values()),
        variant_count=vs.variant_count,
    )


def _edges_of_variants(
    engine: Engine, d: q.Dialect, src: q.Source, kept: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """DFG restricted to the cases whose variant is kept (durations from those cases)."""
    seqs = q.case_sequences_sql(d, src)
    if d == "duckdb":
        filt = f"SELECT case_id FROM ({seqs}) AS c WHERE list_contains($kept, acts)"
    else:
        filt = f"SELECT case_id FROM ({seqs}) AS c WHERE has({{kept:Array(Array(String))}}, acts)"
    sub = q.Source(
        f"SELECT * FROM ({src.sql}) AS s0 WHERE case_id IN ({filt})",
        {**src.params, "kept": [v["activities"] for v in kept]},
    )
    _, rows = engine.query(q.dfg_sql(d, sub), sub.params)
    return [
        {
            "source": r[0],
            "target": r[1],
            "frequency": int(r[2]),
            "median_seconds": _r(r[3]),
            "p90_seconds": _r(r[4]),
        }
        for r in rows
    ]


def conformance(
    discovery: Discovery, designed: list[str], *, top: int = 5, ignore_others: bool = True
) -> dict[str, Any]:
    """Share of cases whose stage sequence follows the designed order, and top deviations.

    A case follows the design when its activities, with repeats collapsed, are a prefix of the
    designed order. With ``ignore_others`` activities outside the design are skipped (raw events
    around the key ones); without it they are deviations (an unplanned support stage).
    """
    if not designed:
        raise ValidationFailed("designed: give the designed stage order", field="designed")
    known = set(designed)
    following = 0
    deviations: Counter[tuple[str, ...]] = Counter()
    for v in discovery.variants:
        seq: list[str] = []
        for a in v["activities"]:
            if (a in known or not ignore_others) and (not seq or seq[-1] != a):
                seq.append(a)
        if seq == designed[: len(seq)]:
            following += v["count"]
        else:
            deviations[tuple(seq)] += v["count"]
    total = sum(v["count"] for v in discovery.variants)
    return {
        "cases": total,
        "following": following,
        "share_following": round(following / total, 4) if total else None,
        "deviations": [{"stages": list(k), "count": c} for k, c in deviations.most_common(top)],
    }


# --- paths ------------------------------------------------------------------------------------


def paths(
    engine: Engine,
    src: q.Source,
    *,
    anchor: str,
    direction: Literal["after", "before"] = "after",
    depth: int = 3,
    top: int = 10,
) -> dict[str, Any]:
    """Top paths from (or to) an event, and Sankey nodes/links over all cases."""
    if not 1 <= depth <= 10:
        raise ValidationFailed("depth: between 1 and 10", field="depth")
    if direction not in ("after", "before"):
        raise ValidationFailed("direction: 'after' or 'before'", field="direction")
    d = _dialect(engine)
    idx = _index(engine, src)
    if idx is not None:
        groups = ix.anchored(idx, anchor, direction, depth)
    else:
        tbl = engine.query_arrow(
            q.anchored_paths_sql(d, src, direction),
            {**src.params, "anchor": anchor, "depth": depth},
        )
        groups = list(
            zip(tbl.column("path").to_pylist(), tbl.column("count").to_pylist(), strict=True)
        )
    if not groups:
        raise ValidationFailed(f"anchor: no events named {anchor!r}", field="anchor")
    links: Counter[tuple[str, str]] = Counter()
    for path, count in groups:
        offset = 0 if direction == "after" else -(len(path) - 1)
        names = [f"{i + offset}:{a}" for i, a in enumerate(path)]
        for a, b in itertools.pairwise(names):
            links[(a, b)] += int(count)
    nodes = sorted({n for ab in links for n in ab}, key=lambda s: (int(s.split(":", 1)[0]), s))
    return {
        "anchor": anchor,
        "direction": direction,
        "cases": sum(int(c) for _, c in groups),
        "top_paths": [{"path": list(pth), "count": int(c)} for pth, c in groups[:top]],
        "sankey": {
            "nodes": [
                {"id": n, "step": int(n.split(":", 1)[0]), "activity": n.split(":", 1)[1]}
                for n in nodes
            ],
            "links": [
                {"source": a, "target": b, "value": v}
                for (a, b), v in sorted(links.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
        },
    }


def top_ngrams(
    engine: Engine, src: q.Source, *, length: int = 3, top: int = 10
) -> list[dict[str, Any]]:
    """The most common runs of ``length`` consecutive activities."""
    if not 2 <= length <= 6:
        raise ValidationFailed("length: between 2 and 6", field="length")
    d = _dialect(engine)
    idx = _index(engine, src)
    if idx is not None:
        return [{"path": pth, "count": c} for pth, c in ix.ngrams(idx, length, top)]
    _, rows = engine.query(q.ngram_paths_sql(d, src, length), {**src.params, "k": top})
    return [{"path": list(r[:length]), "count": int(r[length])} for r in rows]
