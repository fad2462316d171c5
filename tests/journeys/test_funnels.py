"""Funnels on both engines equal a brute-force reference on random data (conformance)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from safar.errors import ValidationFailed
from safar.journeys import service
from safar.runtime import Runtime
from tests.conftest import Workspace
from tests.journeys.conftest import events_table

ACTIVITIES = ["a", "b", "c", "d", "e"]


def strict_cases(
    events: list[tuple[str, str, int]], steps: list[str], window: int
) -> dict[str, tuple[int, list[int | None]]]:
    """Per case with a step event: last step reached and the first time each was reached.

    Chains use distinct events with strictly increasing times, last minus first <= window.
    """
    by_case: dict[str, list[tuple[int, str]]] = {}
    for c, a, t in events:
        by_case.setdefault(c, []).append((t, a))
    n = len(steps)
    out: dict[str, tuple[int, list[int | None]]] = {}
    for case, evs in by_case.items():
        evs.sort()
        # best[k][j]: latest start of a chain of steps 1..k+1 ending at event j (None if none).
        best: list[list[int | None]] = [[None] * len(evs) for _ in range(n)]
        for j, (t, a) in enumerate(evs):
            if a == steps[0]:
                best[0][j] = t
            for k in range(1, n):
                if a != steps[k]:
                    continue
                starts = [
                    best[k - 1][i]
                    for i in range(len(evs))
                    if evs[i][0] < t and best[k - 1][i] is not None
                ]
                valid = [s for s in starts if s is not None and t - s <= window]
                best[k][j] = max(valid) if valid else None
        first: list[int | None] = []
        for k in range(n):
            times = [evs[j][0] for j in range(len(evs)) if best[k][j] is not None]
            first.append(min(times) if times else None)
        if any(a in steps for _, a in evs):
            out[case] = (sum(f is not None for f in first), first)
    return out


def any_order_cases(
    events: list[tuple[str, str, int]], steps: list[str], window: int
) -> dict[str, tuple[int, list[int | None]]]:
    """Any order, by brute force over every (start, end) pair of a case's step events: level k
    is reached at time T when some step event at t0 <= T <= t0 + window has k distinct steps
    among the case's step events in [t0, T]."""
    by_case: dict[str, list[tuple[int, str]]] = {}
    for c, a, t in events:
        if a in steps:
            by_case.setdefault(c, []).append((t, a))
    out: dict[str, tuple[int, list[int | None]]] = {}
    for case, evs in by_case.items():
        first: list[int | None] = [None] * len(steps)
        for t0, _ in evs:
            for t1, _ in evs:
                if not t0 <= t1 <= t0 + window:
                    continue
                k = len({a for t, a in evs if t0 <= t <= t1})
                for level in range(1, k + 1):
                    f = first[level - 1]
                    first[level - 1] = t1 if f is None else min(f, t1)
        out[case] = (sum(f is not None for f in first), first)
    return out


def summarise(
    cases: dict[str, tuple[int, list[int | None]]], n: int
) -> tuple[list[int], list[list[float]]]:
    """Cases reaching each step, and per step the seconds from first reaching the previous one."""
    reached = [0] * n
    deltas: list[list[float]] = [[] for _ in range(n)]
    for level, first in cases.values():
        for k in range(level):
            reached[k] += 1
            if k:
                f, prev = first[k], first[k - 1]
                assert f is not None and prev is not None
                deltas[k].append(float(f - prev))
    return reached, deltas


def reference(
    events: list[tuple[str, str, int]], steps: list[str], window: int, mode: str = "strict"
) -> tuple[list[int], list[list[float]]]:
    cases = (strict_cases if mode == "strict" else any_order_cases)(events, steps, window)
    return summarise(cases, len(steps))


def random_events(seed: int, cases: int = 150) -> list[tuple[str, str, int]]:
    rng = random.Random(seed)
    out = []
    for c in range(cases):
        for _ in range(rng.randint(0, 14)):
            # Few distinct seconds, so equal timestamps (ties) are common.
            out.append((f"c{c:03d}", rng.choice(ACTIVITIES), rng.randint(0, 40)))
    return out


@pytest.mark.parametrize(
    ("steps", "window", "mode"),
    [
        (["a", "b", "c", "d"], 12, "strict"),
        (["a", "b", "a", "c"], 20, "strict"),
        (["e", "d"], 3, "strict"),
        (["a", "b", "c", "d"], 6, "any"),
        (["d", "a", "e"], 0.5, "any"),
        (["c", "b"], 3, "any"),
    ],
)
def test_funnel_equals_brute_force(
    runtime: Runtime, workspace: Workspace, steps: list[str], window: float, mode: str
) -> None:
    events = random_events(len(steps) * 100 + int(window * 10))
    runtime.store.insert_arrow("events", events_table(workspace.id, events))
    with runtime.db.session() as session:
        got = service.funnel(
            session, runtime.store, workspace_id=workspace.id, steps=steps,
            window_seconds=window, mode=mode, dropped_limit=1000,
        )  # fmt: skip
        counts_only = service.funnel(
            session, runtime.store, workspace_id=workspace.id, steps=steps,
            window_seconds=window, mode=mode,
        )  # fmt: skip
    # Without cohorts SQL engines count in the engine; with them from per-customer rows.
    assert counts_only.steps == got.steps
    cases = (strict_cases if mode == "strict" else any_order_cases)(events, steps, int(window))
    reached, deltas = summarise(cases, len(steps))
    assert [s.cases for s in got.steps] == reached
    assert reached[-1] > 0  # the data exercises the whole funnel
    assert reached[-1] < reached[0]
    for k, step in enumerate(got.steps):
        if k == 0 or not deltas[k]:
            continue
        assert step.median_seconds_from_previous == pytest.approx(np.percentile(deltas[k], 50))
        assert step.p90_seconds_from_previous == pytest.approx(np.percentile(deltas[k], 90))
    assert [s.dropped for s in got.steps[:-1]] == [
        reached[i] - reached[i + 1] for i in range(len(steps) - 1)
    ]
    want: dict[str, list[str]] = {}
    for level in range(1, len(steps)):  # a repeated step's key holds its last level
        key = steps[level - 1] if mode == "strict" else str(level)
        want[key] = sorted(c for c, (lv, _) in cases.items() if lv == level)
    assert got.dropped_sample == want


def test_dropped_cohort(runtime: Runtime, workspace: Workspace) -> None:
    events = [
        ("u1", "view", 0), ("u1", "cart", 5), ("u1", "buy", 9),
        ("u2", "view", 0), ("u2", "cart", 5),
        ("u3", "view", 0), ("u3", "cart", 100), ("u3", "buy", 101),
    ]  # fmt: skip
    runtime.store.insert_arrow("events", events_table(workspace.id, events))
    with runtime.db.session() as session:
        got = service.funnel(
            session,
            runtime.store,
            workspace_id=workspace.id,
            steps=["view", "cart", "buy"],
            window_seconds=60,
            dropped_limit=10,
        )
    assert [s.cases for s in got.steps] == [3, 2, 1]
    assert got.dropped_sample == {"view": ["u3"], "cart": ["u2"]}


@pytest.mark.parametrize(
    ("steps", "window", "field"),
    [
        (["view", "teleport"], 60, "steps"),
        (["view"], 60, "steps"),
        (["view", "cart"], 0, "window"),
    ],
)
def test_funnel_bad_input(
    runtime: Runtime, workspace: Workspace, steps: list[str], window: int, field: str
) -> None:
    runtime.store.insert_arrow(
        "events", events_table(workspace.id, [("u1", "view", 0), ("u1", "cart", 1)])
    )
    with runtime.db.session() as session, pytest.raises(ValidationFailed) as err:
        service.funnel(
            session, runtime.store, workspace_id=workspace.id, steps=steps, window_seconds=window
        )
    assert err.value.field == field
    if steps[-1] == "teleport":
        assert "teleport" in err.value.message
