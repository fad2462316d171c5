"""Journey maps: stages from events and conditions, KPIs, the emotion curve, on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pyarrow as pa

from safar.events.messages import SegmentMessage, normalize
from safar.events.store import analytics
from safar.runtime import Runtime
from tests.workspaces.factories import Workspace

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

JOURNEY = {
    "name": "order to delivery",
    "stages": [
        {"name": "browse", "types": ["page"]},
        {"name": "buy", "events": ["order_completed"]},
        {"name": "delivery", "events": ["order_delivered"]},
        {"name": "support", "channels": ["phone"]},
        {"name": "refund", "events": ["ticket_closed"], "property": "outcome", "equals": "refund"},
    ],
    "designed_order": ["browse", "buy", "delivery"],
}


def _msg(ws: str, i: int, hours: float, **kw: Any) -> dict[str, Any]:
    msg = SegmentMessage(messageId=f"m{i}", timestamp=T0 + timedelta(hours=hours), **kw)
    return normalize(msg, workspace_id=ws, received_at=T0)


def _load(runtime: Runtime, ws: str) -> None:
    rows = []
    i = 0
    for c in range(4):
        u = f"u{c}"
        late = c % 2 == 1
        seq = [
            (0, {"type": "page", "name": "Home"}),
            (1, {"type": "track", "event": "order_completed"}),
            (2, {"type": "track", "event": "survey_answered", "properties": {"csat": 5}}),
            (50 if late else 20, {"type": "track", "event": "order_delivered"}),
            (51 if late else 21, {"type": "track", "event": "survey_answered", "properties": {"nps": 2 if late else 10}}),
        ]  # fmt: skip
        if late:
            seq.append((52, {"type": "track", "event": "call", "channel": "phone"}))
            seq.append(
                (
                    53,
                    {
                        "type": "track",
                        "event": "ticket_closed",
                        "properties": {"outcome": "refund"},
                    },
                )
            )
        for h, kw in seq:
            i += 1
            rows.append(_msg(ws, i, h, userId=u, **kw))
    runtime.applier.apply(rows)


def _add_sentiment(runtime: Runtime, ws: str) -> None:
    store = runtime.store
    analytics.ensure_text_analyses(store)  # the table the text worker writes
    # The calls of the two late customers (m11: u1's call, m23: u3's call) were angry.
    store.insert_arrow(
        "text_analyses",
        pa.table(
            {
                "workspace_id": [ws, ws],
                "message_id": ["m11", "m23"],
                "sentiment_label": ["negative", "negative"],
                "sentiment_score": [-0.8, -0.6],
                "analysed_at": pa.array(
                    [datetime(2026, 3, 2, tzinfo=UTC)] * 2, pa.timestamp("us", tz="UTC")
                ),
            }
        ),
    )


async def test_journey_map(
    client: httpx.AsyncClient, runtime: Runtime, workspace: Workspace
) -> None:
    _load(runtime, workspace.id)
    r = await client.post("/api/journeys/map", json={"journey": JOURNEY}, headers=workspace.bearer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["text_sentiment_available"] is False
    st = {s["stage"]: s for s in body["stages"]}
    assert [s["stage"] for s in body["stages"]] == [
        "browse",
        "buy",
        "delivery",
        "support",
        "refund",
    ]
    assert st["browse"]["cases"] == 4 and st["browse"]["conversion_to_next"] == 1.0
    assert st["buy"]["median_seconds_to_next"] == 34 * 3600  # 19 h, 19 h, 49 h, 49 h
    assert st["buy"]["emotion"]["csat"] == {"mean": 5.0, "count": 4}
    # Two promoters (10) and two detractors (2): a mean answer of 6 but an NPS of 0.
    assert st["delivery"]["emotion"]["nps"] == {"mean": 6.0, "count": 4, "score": 0.0}
    assert st["support"]["cases"] == 2 and st["refund"]["cases"] == 2
    assert st["support"]["in_design"] is False
    assert body["conformance"]["share_following"] == 0.5
    assert body["conformance"]["deviations"] == [
        {"stages": ["browse", "buy", "delivery", "support", "refund"], "count": 2}
    ]
    assert [s["cases"] for s in body["funnel"]["steps"]] == [4, 4, 4]
    assert body["process"]["start_activities"] == {"browse": 4}


async def test_journey_map_with_text_sentiment(
    client: httpx.AsyncClient, runtime: Runtime, workspace: Workspace
) -> None:
    _load(runtime, workspace.id)
    _add_sentiment(runtime, workspace.id)
    r = await client.post("/api/journeys/map", json={"journey": JOURNEY}, headers=workspace.bearer)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["text_sentiment_available"] is True
    st = {s["stage"]: s for s in body["stages"]}
    assert st["support"]["emotion"]["sentiment"] == {"mean": -0.7, "count": 2}
    assert st["delivery"]["emotion"]["sentiment"]["count"] == 0


async def test_bad_definition(
    client: httpx.AsyncClient, runtime: Runtime, workspace: Workspace
) -> None:
    _load(runtime, workspace.id)
    bad = {**JOURNEY, "designed_order": ["browse", "teleport"]}
    r = await client.post("/api/journeys/map", json={"journey": bad}, headers=workspace.bearer)
    assert r.status_code == 400
    assert r.json()["field"] == "designed_order"
    bad = {"name": "x", "stages": [{"name": "empty"}]}
    r = await client.post("/api/journeys/map", json={"journey": bad}, headers=workspace.bearer)
    assert r.status_code == 400
    assert "journey.stages" in r.json()["field"]
