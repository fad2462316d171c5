"""Overview aggregates: both engines return the same, hand-checked answers."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from safar.events.messages import normalize, parse_message
from safar.runtime import Runtime
from tests.workspaces.factories import Workspace

START = datetime(2026, 2, 1, tzinfo=UTC)


def _messages() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    channels = ["web", "app", "email", "sms"]
    for i in range(60):
        msg: dict[str, Any] = {
            "type": ["track", "track", "page", "identify"][i % 4],
            "messageId": f"m-{i}",
            "timestamp": (START + timedelta(hours=7 * i)).isoformat(),
            "context": {"channel": channels[i % 3]},
        }
        if i % 5 == 0:
            msg["anonymousId"] = f"anon-{i % 7}"
        else:
            msg["userId"] = f"u-{i % 9}"
        if msg["type"] == "track":
            msg["event"] = ["Viewed", "Bought", "Viewed"][i % 3]
        if msg["type"] == "page":
            msg["name"] = "Home"
        out.append(msg)
    return out


def _expected(
    msgs: list[dict[str, Any]],
    since: datetime,
    until: datetime,
    tz: str = "UTC",
    channel: str | None = None,
) -> dict[str, Any]:
    inside = [
        m
        for m in msgs
        if since <= datetime.fromisoformat(m["timestamp"]) < until
        and channel in (None, m["context"]["channel"])
    ]
    daily = Counter(
        (datetime.fromisoformat(m["timestamp"]).astimezone(ZoneInfo(tz)).date(),
         m["context"]["channel"])
        for m in inside
    )  # fmt: skip
    top = Counter(m.get("event") if m["type"] == "track" else m["type"] for m in inside)
    people = {m.get("userId") or "anon:" + m["anonymousId"] for m in inside}
    return {
        "daily": sorted((d, c, n) for (d, c), n in daily.items()),
        "top": sorted(top.items(), key=lambda kv: (-kv[1], kv[0])),
        "active": len(people),
    }


def test_overview_aggregates(runtime: Runtime, workspace: Workspace) -> None:
    msgs = _messages()
    rows = [normalize(parse_message(m), workspace_id=workspace.id, received_at=START) for m in msgs]
    runtime.applier.apply(rows)
    # Another workspace's events must never leak into these numbers.
    other = [
        normalize(parse_message(m), workspace_id="ws_other", received_at=START) for m in msgs[:10]
    ]
    runtime.store.insert(other)
    store = runtime.store
    since, until = START + timedelta(days=2), START + timedelta(days=12)
    want = _expected(msgs, since, until)

    daily = store.daily_channel_counts(workspace.id, since=since, until=until)
    assert daily == want["daily"]
    assert all(isinstance(d, date) for d, _, _ in daily)
    assert store.top_events(workspace.id, since=since, until=until, limit=10) == want["top"]
    assert store.top_events(workspace.id, since=since, until=until, limit=1) == want["top"][:1]
    assert store.active_customers(workspace.id, since=since, until=until) == want["active"]

    latest = store.latest_events(workspace.id, limit=3)
    assert [e["message_id"] for e in latest] == ["m-59", "m-58", "m-57"]
    assert latest[0]["channel"] == "email" and isinstance(latest[0]["properties"], dict)

    empty_since = START + timedelta(days=400)
    assert store.daily_channel_counts(workspace.id, since=empty_since, until=empty_since) == []
    assert store.top_events(workspace.id, since=empty_since, until=empty_since) == []
    assert store.active_customers(workspace.id, since=empty_since, until=empty_since) == 0
    assert store.latest_events("ws_nobody") == []


def test_overview_aggregates_in_local_days_and_one_channel(
    runtime: Runtime, workspace: Workspace
) -> None:
    """Tehran days start at 20:30 UTC the evening before; a channel keeps only its events."""
    msgs = _messages()
    runtime.applier.apply(
        [normalize(parse_message(m), workspace_id=workspace.id, received_at=START) for m in msgs]
    )
    store = runtime.store
    since, until = START + timedelta(days=2), START + timedelta(days=12)
    local = store.daily_channel_counts(workspace.id, since=since, until=until, tz="Asia/Tehran")
    assert local == _expected(msgs, since, until, "Asia/Tehran")["daily"]
    assert local != _expected(msgs, since, until)["daily"]  # the days really differ
    want = _expected(msgs, since, until, channel="app")
    got = store.daily_channel_counts(workspace.id, since=since, until=until, channel="app")
    assert got == want["daily"] and {c for _, c, _ in got} == {"app"}
    assert store.top_events(workspace.id, since=since, until=until, channel="app") == want["top"]
    assert (
        store.active_customers(workspace.id, since=since, until=until, channel="app")
        == want["active"]
    )
