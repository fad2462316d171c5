"""Every journey query object: its SQL per dialect against a committed snapshot (SQL and bound
parameters), and its result on a tiny real dataset in DuckDB and ClickHouse (chdb).

A change to a query's SQL shows up here as a diff to review; ``SAFAR_UPDATE_SNAPSHOTS=1``
rewrites the files after such a review.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from safar.events.store import COLUMNS, EventStore, analytics
from safar.events.store.arrow import SCHEMA
from safar.journeys import analysis
from safar.journeys import queries as q
from safar.journeys.queries_cx import (
    CustomerChannels,
    CustomerProfiles,
    CustomerScores,
    CustomerTouchpoints,
    EmotionCurve,
    StageKpis,
    StageRule,
)
from safar.journeys.queries_funnel import (
    EntryValues,
    FunnelCases,
    FunnelDropped,
    FunnelSpec,
    FunnelSummary,
    LatestTraits,
)
from safar.kit.query import DIALECTS, Accelerated, ArrowQuery, Dialect, Query, run

SNAPSHOTS = Path(__file__).parent / "snapshots"
WS = "ws_snap"
T0 = 1_767_225_600_000_000  # 2026-01-01 UTC, microseconds
STAGES = (
    StageRule("browse", events=("view",)),
    StageRule("buy", events=("cart", "buy")),
    StageRule("feedback", types=("track",), prop="nps", equals="9"),
)
STRICT = FunnelSpec(("view", "cart", "buy"), 60_000_000, "strict")
ANY = FunnelSpec(("view", "cart"), 60_000_000, "any")


def _src(d: Dialect, **kw: Any) -> q.Source:
    return q.events_source(d, db="safar", workspace_id=WS, **kw)


#: Every query object, built for one dialect (name -> factory).
QUERIES: dict[str, Callable[[Dialect], Query[Any] | ArrowQuery[Any]]] = {
    "count_events": lambda d: q.CountEvents(_src(d, since_us=T0)),
    "activities": lambda d: q.Activities(_src(d)),
    "case_events": lambda d: q.CaseEvents(_src(d, until_us=T0 + 10**7)),
    "directly_follows": lambda d: q.DirectlyFollows(_src(d)),
    "variant_summary": lambda d: q.VariantSummary(_src(d)),
    "variant_summary_top2": lambda d: q.VariantSummary(_src(d), 2),
    "sequences_of": lambda d: q.SequencesOf(_src(d), ("alice", "carol")),
    "kept_variant_edges": lambda d: q.KeptVariantEdges(_src(d), (("cart", "view"),)),
    "anchored_paths_after": lambda d: q.AnchoredPaths(_src(d), "cart", "after", 1),
    "anchored_paths_before": lambda d: q.AnchoredPaths(_src(d), "cart", "before", 2),
    "top_ngrams": lambda d: q.TopNgrams(_src(d, activities=["view", "cart", "buy"]), 2, 5),
    "funnel_summary_strict": lambda d: FunnelSummary(_src(d), STRICT),
    "funnel_summary_any": lambda d: FunnelSummary(_src(d), ANY),
    "funnel_dropped": lambda d: FunnelDropped(_src(d), STRICT, 2, 10),
    "funnel_cases_any": lambda d: FunnelCases(_src(d), ANY),
    "entry_values_channel": lambda d: EntryValues(_src(d, details=True), STRICT),
    "entry_values_property": lambda d: EntryValues(_src(d, details=True), ANY, "coupon"),
    "latest_traits": lambda d: LatestTraits(_src(d, details=True)),
    "latest_traits_city": lambda d: LatestTraits(_src(d, details=True), "city"),
    "customer_scores": lambda d: CustomerScores(_src(d, details=True), "survey", "nps"),
    "customer_touchpoints": lambda d: CustomerTouchpoints(_src(d, details=True), "survey", "nps"),
    "emotion_curve": lambda d: EmotionCurve(_src(d, details=True), STAGES),
    "emotion_curve_sentiment": lambda d: EmotionCurve(
        _src(d, details=True, sentiment=True), STAGES, True
    ),
    "stage_kpis": lambda d: StageKpis(_src(d, details=True), STAGES, ("browse", "buy")),
    "customer_profiles": lambda d: CustomerProfiles(_src(d, details=True)),
    "customer_channels": lambda d: CustomerChannels(_src(d, details=True)),
}


@pytest.mark.parametrize("dialect", DIALECTS)
@pytest.mark.parametrize("name", sorted(QUERIES))
def test_sql_matches_snapshot(name: str, dialect: Dialect) -> None:
    text = QUERIES[name](dialect).render(dialect).snapshot()
    path = SNAPSHOTS / f"{name}.{dialect}.sql"
    if os.environ.get("SAFAR_UPDATE_SNAPSHOTS") == "1":
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"no snapshot {path.name}: review the SQL, then SAFAR_UPDATE_SNAPSHOTS=1"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} changed: review the diff"


def test_every_snapshot_belongs_to_a_query() -> None:
    expected = {f"{n}.{d}.sql" for n in QUERIES for d in DIALECTS}
    assert {p.name for p in SNAPSHOTS.glob("*.sql")} == expected


def test_a_source_refuses_the_other_dialect() -> None:
    with pytest.raises(ValueError, match="duckdb source"):
        q.CountEvents(_src("duckdb")).render("clickhouse")


def test_values_are_bound_never_formatted() -> None:
    hostile = "x' OR '1'='1"
    for d in DIALECTS:
        r = q.AnchoredPaths(_src(d), hostile, "after", 1).render(d)
        assert hostile not in r.sql and r.params["anchor"] == hostile


# --- results on a tiny dataset ---------------------------------------------------------------

#: (customer, event, second, channel, properties, message type, traits)
ROWS: list[tuple[str, str, int, str, dict[str, Any], str, dict[str, Any]]] = [
    ("alice", "view", 0, "web", {}, "track", {}),
    ("alice", "cart", 10, "web", {"coupon": "NOWRUZ"}, "track", {}),
    ("alice", "buy", 20, "web", {"revenue": 120}, "track", {}),
    ("alice", "survey", 30, "email", {"nps": 9}, "track", {}),
    ("alice", "identify", 40, "web", {}, "identify", {"city": "Tehran"}),
    ("bob", "view", 0, "app", {}, "track", {}),
    ("bob", "cart", 5, "app", {}, "track", {}),
    ("bob", "survey", 50, "email", {"nps": 3}, "track", {}),
    ("bob", "view", 100, "app", {}, "track", {}),
    ("carol", "cart", 0, "web", {"coupon": 5}, "track", {}),
    ("carol", "view", 3, "web", {}, "track", {}),
]


def _table() -> pa.Table:
    data: dict[str, list[Any]] = {c: [None] * len(ROWS) for c in COLUMNS}
    for i, (cust, name, sec, chan, props, typ, traits) in enumerate(ROWS):
        mid = f"m{i:03d}"
        ts = T0 + sec * 1_000_000
        row = {
            "workspace_id": WS, "message_id": mid, "type": typ, "channel": chan,
            "message_hash": int.from_bytes(hashlib.blake2b(mid.encode(), digest_size=8).digest()),
            "event": name if typ == "track" else None, "user_id": cust, "timestamp": ts,
            "received_at": ts, "properties": json.dumps(props), "traits": json.dumps(traits),
            "context": "{}",
        }  # fmt: skip
        for k, v in row.items():
            data[k][i] = v
    return pa.Table.from_pydict(data, schema=SCHEMA)


@pytest.fixture(scope="module", params=DIALECTS)
def store(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[EventStore]:
    root = tmp_path_factory.mktemp(f"snap-{request.param}")
    s: EventStore
    if request.param == "duckdb":
        from safar.events.store.duckdb import DuckDBEventStore

        s = DuckDBEventStore(root / "events.duckdb")
    else:
        pytest.importorskip("chdb")
        from safar.events.store.clickhouse import ClickHouseEventStore

        s = ClickHouseEventStore(f"chdb://{root / 'ch'}")
    s.init()
    analytics.ensure_identity_map(s)
    s.insert_arrow("events", _table())
    yield s
    s.close()


def _plain(x: Any) -> Any:
    """Results as comparable Python values (Arrow tables as sorted rows, floats rounded)."""
    if isinstance(x, pa.Table):
        return sorted((list(r.values()) for r in x.to_pylist()), key=repr)
    if isinstance(x, tuple) and len(x) == 3 and isinstance(x[0], pa.Array):
        return [x[0].to_pylist(), x[1].tolist(), x[2].tolist()]
    if isinstance(x, float):
        return round(x, 6)
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in sorted(x.items())}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    if hasattr(x, "__dict__"):
        return _plain(vars(x))
    return x


EXPECTED: dict[str, Any] = {
    "count_events": 11,
    "activities": {"view", "cart", "buy", "survey", "identify"},
    "case_events": [
        ["alice", "view", T0, "m000"],
        ["bob", "view", T0, "m005"],
        ["bob", "cart", T0 + 5 * 10**6, "m006"],
        ["carol", "cart", T0, "m009"],
        ["carol", "view", T0 + 3 * 10**6, "m010"],
    ],
    "funnel_summary_strict": {
        "n1": 3,
        "n2": 2,
        "n3": 1,
        "med2": 7.5,
        "p90_2": 9.5,
        "med3": 10.0,
        "p90_3": 10.0,
    },
    "funnel_summary_any": {"n1": 3, "n2": 3, "med2": 5.0, "p90_2": 9.0},
    "funnel_dropped": ["bob"],
    "funnel_cases_any": [
        ["alice", "bob", "carol"],
        [2, 2, 2],
        [[T0, T0 + 10**7], [T0, T0 + 5 * 10**6], [T0, T0 + 3 * 10**6]],
    ],
    "anchored_paths_after": [(["cart", "buy"], 1), (["cart", "survey"], 1), (["cart", "view"], 1)],
    "anchored_paths_before": [(["view", "cart"], 2), (["cart"], 1)],
    "top_ngrams": [
        {"path": ["cart", "view"], "count": 2},
        {"path": ["view", "cart"], "count": 2},
        {"path": ["cart", "buy"], "count": 1},
    ],
    "entry_values_channel": [("alice", "web"), ("bob", "app"), ("carol", "web")],
    "entry_values_property": [("alice", None), ("bob", None), ("carol", "5")],
    "latest_traits_city": [("alice", "Tehran")],
    "customer_scores": [("alice", 9.0), ("bob", 3.0)],
    "sequences_of": {
        "alice": ["view", "cart", "buy", "survey", "identify"],
        "carol": ["cart", "view"],
    },
}


@pytest.mark.parametrize("name", sorted(set(QUERIES) - {"emotion_curve_sentiment"}))
def test_result_on_a_tiny_dataset(store: EventStore, name: str) -> None:
    d = analytics.dialect_of(store)
    query = QUERIES[name](d)
    result = run(store, query)
    got = _plain(result)
    if name == "case_events":  # its order is part of the result
        got = [list(r.values()) for r in result.to_pylist()]
    if name in EXPECTED:
        assert got == _plain(EXPECTED[name])
    else:
        assert got, f"{name} answered nothing"
    if d == "duckdb" and isinstance(query, Accelerated):
        idx = analysis.index_of(store, query.src)  # type: ignore[attr-defined]
        if idx is not None:
            assert _plain(run(store, query, index=idx)) == got  # the index agrees with the SQL
