"""Process discovery, conformance and paths on an engine, from the query objects of ``queries``.

An *engine* is anything that runs rendered SQL (``kit.query.QueryEngine``): the event store
(DuckDB or ClickHouse) or a ``CaseLog`` (a file loaded into an in-memory DuckDB). On DuckDB a
plain source is served by the journey index (``journeys.index``) unless the caller passes
``accelerate=False``; the SQL stays the reference (ClickHouse runs it, tests compare both).
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from safar.errors import ValidationFailed
from safar.events.store.analytics import LocalEngine, MissingTable
from safar.journeys import index as ix
from safar.journeys import index_ops as ops
from safar.journeys import queries as q
from safar.journeys.params import Direction
from safar.kit.query import QueryEngine, run

Engine = QueryEngine


class CaseLog(LocalEngine):
    """A case table (see ``journeys.xes_schema``) in an in-memory DuckDB, as an analysis engine."""

    def __init__(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            raise ValidationFailed("file: the log has no events", field="file")
        super().__init__(table, "caselog")
        self.source = q.table_source("caselog")


def index_of(engine: Engine, src: q.Source, accelerate: bool = True) -> ix.JourneyIndex | None:
    """The journey index serving ``src`` on ``engine``, or None (SQL answers)."""
    spec = src.index
    if spec is None or not accelerate or engine.engine_name != "duckdb":
        return None
    full = (
        q.events_source("duckdb", db="safar", workspace_id=spec.name)
        if spec.kind == "events"
        else q.table_source(spec.name)
    )
    try:
        return ix.get_index(engine, spec, full.sql, full.params)
    except MissingTable:  # no identity map yet: plain SQL
        return None


_r = q.rounded


# --- process discovery ------------------------------------------------------------------------


@dataclass
class Discovery:
    edges: list[dict[str, Any]]
    variants: list[dict[str, Any]]
    start_activities: dict[str, int]
    end_activities: dict[str, int]
    cases: int
    variant_count: int
    #: Every case of the source, also when ``top_variants`` drew the graph from fewer.
    all_cases: int = 0
    #: The variants the graph is drawn from (0: every variant).
    kept_variants: int = 0

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
    accelerate: bool = True,
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
    shown = (
        top_variants if max_variants is None else min(top_variants or max_variants, max_variants)
    )
    idx = index_of(engine, src, accelerate)
    if idx is not None:
        return _discover_index(idx, top_variants, min_frequency, shown)
    vc = run(engine, q.VariantSummary(src, shown))
    seqs = run(engine, q.SequencesOf(src, tuple(vc.representatives)))
    variants: list[dict[str, Any]] = sorted(
        ({"activities": a, "count": vc.representatives[c]} for c, a in seqs.items()),
        key=lambda v: (-v["count"], v["activities"]),
    )
    starts, ends = vc.starts, vc.ends
    all_cases = sum(starts.values())
    if top_variants is None:
        edges = run(engine, q.DirectlyFollows(src))
    else:
        starts, ends = _ends_of(variants)
        kept = tuple(tuple(v["activities"]) for v in variants)
        edges = run(engine, q.KeptVariantEdges(src, kept))
    return _discovery(edges, min_frequency, variants, starts, ends, vc.variant_count, all_cases)


def variants_covering(counts: list[int], cases: int, coverage: float) -> int:
    """How many of the most frequent variants (``counts``, most frequent first) it takes to
    cover ``coverage`` (0-1] of ``cases``; at least one, at most every variant listed."""
    need = coverage * cases - 1e-9
    covered = 0
    for k, n in enumerate(counts, start=1):
        covered += n
        if covered >= need:
            return k
    return max(len(counts), 1)


def _ends_of(variants: list[dict[str, Any]]) -> tuple[Counter[str], Counter[str]]:
    starts: Counter[str] = Counter()
    ends: Counter[str] = Counter()
    for v in variants:
        starts[v["activities"][0]] += v["count"]
        ends[v["activities"][-1]] += v["count"]
    return starts, ends


def _discovery(
    edges: list[dict[str, Any]],
    min_frequency: int,
    variants: list[dict[str, Any]],
    starts: Counter[str],
    ends: Counter[str],
    variant_count: int,
    all_cases: int,
) -> Discovery:
    return Discovery(
        edges=[e for e in edges if e["frequency"] >= min_frequency],
        variants=variants,
        start_activities=dict(sorted(starts.items(), key=lambda kv: (-kv[1], kv[0]))),
        end_activities=dict(sorted(ends.items(), key=lambda kv: (-kv[1], kv[0]))),
        cases=sum(starts.values()),
        variant_count=variant_count,
        all_cases=all_cases,
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


def _discover_index(
    idx: ix.JourneyIndex, top_variants: int | None, min_frequency: int, shown: int | None
) -> Discovery:
    vs = ops.variants(idx, shown)
    variants: list[dict[str, Any]] = sorted(
        ({"activities": a, "count": c} for a, c in vs.top),
        key=lambda v: (-v["count"], v["activities"]),
    )
    starts: Counter[str] = Counter(vs.starts)
    ends: Counter[str] = Counter(vs.ends)
    all_cases = sum(starts.values())
    if top_variants is None:
        edges = q.edges_on_index(idx)
    else:
        starts, ends = _ends_of(variants)
        edges = q.edges_on_index(idx, np.isin(vs.variant_of_actor, vs.top_groups))
    return _discovery(edges, min_frequency, variants, starts, ends, vs.variant_count, all_cases)


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


#: The node that stands for the activities folded away at one step of a Sankey.
OTHER = "other"


def paths(
    engine: Engine,
    src: q.Source,
    *,
    anchor: str,
    direction: Direction = "after",
    depth: int = 3,
    top: int = 10,
    per_step: int | None = None,
    accelerate: bool = True,
) -> dict[str, Any]:
    """Top paths from (or to) an event, and Sankey nodes/links over all cases.

    With ``per_step``, each step of the Sankey keeps its ``per_step`` most travelled
    activities and folds the rest into one ``other`` node (``"<step>:"``, ``other: true``), so
    every column stays readable; the top paths are never folded.
    """
    if not 1 <= depth <= 10:
        raise ValidationFailed("depth: between 1 and 10", field="depth")
    if direction not in ("after", "before"):
        raise ValidationFailed("direction: 'after' or 'before'", field="direction")
    if per_step is not None and per_step < 1:
        raise ValidationFailed("per_step: must be at least 1", field="per_step")
    groups = run(
        engine,
        q.AnchoredPaths(src, anchor, direction, depth),
        index=index_of(engine, src, accelerate),
    )
    if not groups:
        raise ValidationFailed(f"anchor: no events named {anchor!r}", field="anchor")
    placed = [(_placed(path, direction), int(count)) for path, count in groups]
    kept = _kept_per_step(placed, per_step)
    links: Counter[tuple[tuple[int, str | None], tuple[int, str | None]]] = Counter()
    for steps, count in placed:
        folded = [(i, a if kept is None or a in kept[i] else None) for i, a in steps]
        for a, b in itertools.pairwise(folded):
            links[(a, b)] += count
    nodes = sorted({n for ab in links for n in ab}, key=_node_order)
    return {
        "anchor": anchor,
        "direction": direction,
        "cases": sum(c for _, c in placed),
        "top_paths": [{"path": list(pth), "count": int(c)} for pth, c in groups[:top]],
        "sankey": {
            "nodes": [
                {"id": _node_id(n), "step": n[0], "activity": n[1] or OTHER, "other": n[1] is None}
                for n in nodes
            ],
            "links": [
                {"source": _node_id(a), "target": _node_id(b), "value": v}
                for (a, b), v in sorted(
                    links.items(), key=lambda kv: (-kv[1], _node_id(kv[0][0]), _node_id(kv[0][1]))
                )
            ],
        },
    }


def _placed(path: list[str], direction: Direction) -> list[tuple[int, str]]:
    """A path's activities with their step (0 = the anchor; negative before it)."""
    offset = 0 if direction == "after" else -(len(path) - 1)
    return [(i + offset, a) for i, a in enumerate(path)]


def _kept_per_step(
    placed: list[tuple[list[tuple[int, str]], int]], per_step: int | None
) -> dict[int, set[str]] | None:
    """Per step, the ``per_step`` activities most cases pass through (ties by name)."""
    if per_step is None:
        return None
    through: dict[int, Counter[str]] = {}
    for steps, count in placed:
        for i, a in steps:
            through.setdefault(i, Counter())[a] += count
    return {
        i: {a for a, _ in sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))[:per_step]}
        for i, c in through.items()
    }


def _node_id(node: tuple[int, str | None]) -> str:
    return f"{node[0]}:{node[1] if node[1] is not None else ''}"


def _node_order(node: tuple[int, str | None]) -> tuple[int, bool, str]:
    return node[0], node[1] is None, node[1] or ""


def top_ngrams(
    engine: Engine, src: q.Source, *, length: int = 3, top: int = 10, accelerate: bool = True
) -> list[dict[str, Any]]:
    """The most common runs of ``length`` consecutive activities."""
    if not 2 <= length <= 6:
        raise ValidationFailed("length: between 2 and 6", field="length")
    return run(engine, q.TopNgrams(src, length, top), index=index_of(engine, src, accelerate))
