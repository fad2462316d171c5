"""Funnels on both engines equal a brute-force reference on random data (conformance)."""

from __future__ import annotations

import random

import numpy as np
import pytest

from safar.errors import ValidationFailed
from safar.journeys import service
from safar.runtime import Runtime
from tests.journeys.factories import any_order_cases, events_table, strict_cases
from tests.workspaces.factories import Workspace

ACTIVITIES = ["a", "b", "c", "d", "e"]


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
