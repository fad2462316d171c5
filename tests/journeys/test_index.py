"""The journey index (DuckDB) gives exactly the results of the reference SQL of ``queries``."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest

from safar.journeys import analysis, service
from safar.journeys import index as ix
from safar.journeys import index_ops as ops
from safar.runtime import Runtime
from tests.journeys.factories import BASE_US, events_table
from tests.workspaces.factories import Workspace

ACTIVITIES = ["a", "b", "c", "d", "e", "ü"]


def random_events(seed: int, cases: int = 120) -> list[tuple[str, str, int]]:
    rng = random.Random(seed)
    out = []
    for _c in range(cases):
        for _ in range(rng.randint(0, 12)):
            out.append(
                (f"c{rng.randint(0, cases):03d}", rng.choice(ACTIVITIES), rng.randint(0, 30))
            )
    return out


def both(fn: Any) -> tuple[Any, Any]:
    """``fn(accelerate)`` served by the index, then by the SQL of ``queries``."""
    return fn(True), fn(False)


def run_all(
    rt: Runtime, ws: str, since: datetime | None = None, accelerate: bool = True
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with rt.db.session() as s:
        for steps, win in ((["a", "b", "c"], 10), (["a", "b", "a", "d"], 20), (["e", "ü"], 2)):
            out[f"funnel{steps}"] = service.funnel(
                s, rt.store, workspace_id=ws, steps=steps, window_seconds=win,
                dropped_limit=5, since=since, accelerate=accelerate,
            ).as_dict()  # fmt: skip
        for steps, win in ((["a", "b", "c"], 5), (["ü", "d", "e", "a"], 8)):
            out[f"any{steps}"] = service.funnel(
                s, rt.store, workspace_id=ws, steps=steps, window_seconds=win, mode="any",
                dropped_limit=5, since=since, breakdown="channel", breakdown_limit=1,
                accelerate=accelerate,
            ).as_dict()  # fmt: skip
        for direction in ("after", "before"):
            for depth in (1, 3):
                out[f"paths{direction}{depth}"] = service.paths(
                    s, rt.store, workspace_id=ws, anchor="b", direction=direction, depth=depth,
                    top=50, since=since, accelerate=accelerate,
                )  # fmt: skip
        for length in (2, 3, 4):
            out[f"ngrams{length}"] = analysis.top_ngrams(
                rt.store, service.source(rt.store, workspace_id=ws, since=since), length=length,
                top=30, accelerate=accelerate,
            )  # fmt: skip
        for top_variants, max_variants in ((None, None), (None, 5), (3, None)):
            d = service.discover(
                s, rt.store, workspace_id=ws, top_variants=top_variants,
                max_variants=max_variants, since=since, accelerate=accelerate,
            )  # fmt: skip
            out[f"discover{top_variants}{max_variants}"] = (
                d.as_dict(durations_p90=True),
                d.cases,
                d.variant_count,
            )
    return out


def test_index_equals_sql(runtime: Runtime, workspace: Workspace) -> None:
    if runtime.store.engine_name != "duckdb":
        pytest.skip("the journey index serves the embedded DuckDB engine")
    events = random_events(7)
    runtime.store.insert_arrow("events", events_table(workspace.id, events))
    ix.forget(runtime.store)
    fast, slow = both(lambda acc: run_all(runtime, workspace.id, accelerate=acc))
    assert any(k[0] == id(runtime.store) for k in ix._CACHE)  # the index served ``fast``
    assert fast == slow
    assert fast["funnel['a', 'b', 'c']"]["steps"][-1]["cases"] > 0
    since = datetime.fromtimestamp(BASE_US / 1e6 + 10, UTC)
    fast, slow = both(lambda acc: run_all(runtime, workspace.id, since, acc))
    assert fast == slow
    # New events make the index stale: it is rebuilt and still agrees.
    before = run_all(runtime, workspace.id)
    more = [("z1", "a", 1), ("z1", "b", 2), ("z1", "c", 3)]
    runtime.store.insert_arrow("events", events_table(workspace.id, more))
    fast, slow = both(lambda acc: run_all(runtime, workspace.id, accelerate=acc))
    assert fast == slow
    assert fast != before


def test_anchored_before_orders_like_lists() -> None:
    import numpy as np
    import pyarrow as pa

    idx = ix.JourneyIndex(
        actor=np.array([0, 0, 1, 2, 2, 2], dtype=np.int32),
        ts=np.array([1, 2, 1, 1, 2, 3], dtype=np.int64),
        act=np.array([2, 0, 0, 1, 2, 0], dtype=np.int32),
        actors=pa.array(["x", "y", "z"]),
        acts=["a", "b", "c"],
    )
    got = ops.anchored(idx, "a", "before", 2)
    assert got == [(["a"], 1), (["b", "c", "a"], 1), (["c", "a"], 1)]


def test_identity_changes_reach_the_index(runtime: Runtime, workspace: Workspace) -> None:
    """The identity map is copied only when the graph changed, and the index follows it."""
    from datetime import timedelta

    from safar.events.messages import SegmentMessage, normalize

    t0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    ws = workspace.id

    def msg(i: int, minutes: float, **kw: Any) -> dict[str, Any]:
        m = SegmentMessage(messageId=f"m{i}", timestamp=t0 + timedelta(minutes=minutes), **kw)
        return normalize(m, workspace_id=ws, received_at=t0)

    runtime.applier.apply(
        [
            msg(1, 0, type="track", anonymousId="anon-9", event="view"),
            msg(2, 1, type="track", anonymousId="anon-9", event="cart"),
            msg(3, 5, type="track", userId="dan", event="buy"),
        ]
    )

    def funnel(accelerate: bool) -> list[int]:
        with runtime.db.session() as s:
            f = service.funnel(
                s, runtime.store, workspace_id=ws, steps=["view", "cart", "buy"],
                window_seconds=3600, accelerate=accelerate,
            )  # fmt: skip
        return [st.cases for st in f.steps]

    fast, slow = both(funnel)
    assert fast == slow == [1, 1, 0]
    with runtime.db.session() as s:
        assert service.refresh_identity_map(s, runtime.store, workspace_id=ws) is None
    runtime.applier.apply([msg(4, 2, type="identify", anonymousId="anon-9", userId="dan")])
    fast, slow = both(funnel)
    assert fast == slow == [1, 1, 1]  # anon-9 and dan are now one customer
    with runtime.db.session() as s:
        assert service.refresh_identity_map(s, runtime.store, workspace_id=ws) is None
        assert service.refresh_identity_map(s, runtime.store, workspace_id=ws, force=True)
