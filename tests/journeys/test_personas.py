"""Personas on both engines: planted customer groups are found by clustering and by rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from safar.events.messages import SegmentMessage, normalize
from safar.runtime import Runtime
from tests.workspaces.factories import Workspace

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def _load(runtime: Runtime, ws: str) -> None:
    rows: list[dict[str, Any]] = []
    n = 0

    def add(**kw: Any) -> None:
        nonlocal n
        n += 1
        ts = T0 + timedelta(hours=n % 500)
        rows.append(
            normalize(
                SegmentMessage(messageId=f"m{n}", timestamp=ts, **kw),
                workspace_id=ws,
                received_at=T0,
            )
        )

    for i in range(30):  # app loyalists: many events, high spend, 30s, goal "save time"
        u = f"app{i}"
        add(type="identify", userId=u, traits={"age": 31 + i % 5, "goal": "save time"})
        for j in range(20):
            add(
                type="track",
                userId=u,
                event="order_completed" if j % 4 == 0 else "open",
                channel="app",
                properties={"revenue": 200} if j % 4 == 0 else {},
            )
    for i in range(30):  # web browsers: few events, small spend, 50s
        u = f"web{i}"
        add(type="identify", userId=u, traits={"age": 52 + i % 5})
        for j in range(3):
            add(
                type="track",
                userId=u,
                event="page_view" if j else "order_completed",
                channel="web",
                properties={"revenue": 10},
            )
    for i in range(30):  # support callers: phone heavy, no purchases
        u = f"tel{i}"
        add(type="identify", userId=u, traits={"age": 70})
        for _ in range(6):
            add(type="track", userId=u, event="call", channel="phone")
    runtime.applier.apply(rows)


async def test_clustering_finds_planted_groups(
    client: httpx.AsyncClient, runtime: Runtime, workspace: Workspace
) -> None:
    _load(runtime, workspace.id)
    r = await client.post("/api/journeys/personas", json={"k": 3}, headers=workspace.bearer)
    assert r.status_code == 200, r.text
    ps = r.json()["personas"]
    assert sorted(p["customers"] for p in ps) == [30, 30, 30]
    by_channel = {next(iter(p["channel_mix"])): p for p in ps}
    assert set(by_channel) == {"app", "web", "phone"}
    app = by_channel["app"]
    assert app["age_band"] == "30-39" and app["goals"] == {"save time": 30}
    assert app["median_value"] == 1000.0
    assert "high value" in app["summary"] and "mostly app" in app["summary"]


async def test_rule_based_personas(
    client: httpx.AsyncClient, runtime: Runtime, workspace: Workspace
) -> None:
    _load(runtime, workspace.id)
    rules = [
        {"name": "seniors", "all_of": [{"trait": "age", "op": "gte", "value": 65}]},
        {"name": "goal-driven", "all_of": [{"trait": "goal", "op": "exists"}]},
    ]
    r = await client.post("/api/journeys/personas", json={"rules": rules}, headers=workspace.bearer)
    assert r.status_code == 200, r.text
    got = {p["name"]: p["customers"] for p in r.json()["personas"]}
    assert got == {"seniors": 30, "goal-driven": 30, "other": 30}
    r = await client.post("/api/journeys/personas", json={"k": 50}, headers=workspace.bearer)
    assert r.status_code == 400
    assert r.json()["field"] == "k"
