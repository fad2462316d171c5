"""Ingest, de-duplication, timeline and stats: identical answers on both engine stacks.

Each test computes one canonical result (message ids, channels, times, counts) through the
HTTP API and compares it with a hand-written expectation, so the two stacks are held to the
same answer, not merely to each other.
"""

from __future__ import annotations

from typing import Any

from tests.events.factories import Api, at


def _msg(mid: str, kind: str, minute: float, **fields: Any) -> dict[str, Any]:
    return {"messageId": mid, "type": kind, "timestamp": at(minute), **fields}


def _ctx(channel: str) -> dict[str, Any]:
    return {"context": {"channel": channel}}


BATCH_1 = [
    _msg("m01", "page", 0, anonymousId="a-1", name="Home"),
    _msg(
        "m02",
        "track",
        1,
        anonymousId="a-1",
        event="Product Viewed",
        context={"library": {"name": "analytics.js"}},
    ),
    _msg(
        "m03",
        "identify",
        2,
        userId="u-1",
        anonymousId="a-1",
        traits={"email": "Sara@Example.com", "name": "Sara"},
    ),
    _msg(
        "m04",
        "track",
        3,
        userId="u-1",
        event="Order Completed",
        properties={"total": 120},
        **_ctx("app"),
    ),
    _msg("m05", "track", 4, userId="u-1", event="Email Opened", **_ctx("email")),
    _msg("m06", "track", 5, userId="u-1", event="SMS Clicked", **_ctx("text")),
    _msg("m07", "screen", 6, userId="u-1", name="Cart"),
    _msg("m08", "track", 7, userId="u-1", event="Call Ended", **_ctx("phone")),
    # Same time as m08: ties are ordered by message id, newest first, on both engines.
    _msg("m09", "track", 7, userId="u-1", event="Store Visit", **_ctx("pos")),
    _msg("m10", "track", 3, userId="u-2", event="Product Viewed", **_ctx("web")),
]
BATCH_3 = [
    _msg("m11", "track", 8, userId="u-1", event="Review Written", **_ctx("instagram")),
    # A retried message with different content: the first stored copy wins.
    _msg("m05", "track", 4, userId="u-1", event="Changed On Retry", **_ctx("email")),
    _msg("m11", "track", 8, userId="u-1", event="Review Written", **_ctx("instagram")),
]

EXPECTED_STATS = {
    "events": 11,
    "events_by_channel": {
        "app": 2,
        "email": 1,
        "other": 1,
        "phone": 1,
        "sms": 1,
        "social": 1,
        "store": 1,
        "web": 3,
    },
    "profiles": 2,
    "ingest_lag_bytes": 0,
}
EXPECTED_TIMELINE = [
    ("m11", "track", "Review Written", None, "social", "2026-03-01T09:08:00Z"),
    ("m09", "track", "Store Visit", None, "store", "2026-03-01T09:07:00Z"),
    ("m08", "track", "Call Ended", None, "phone", "2026-03-01T09:07:00Z"),
    ("m07", "screen", None, "Cart", "app", "2026-03-01T09:06:00Z"),
    ("m06", "track", "SMS Clicked", None, "sms", "2026-03-01T09:05:00Z"),
    ("m05", "track", "Email Opened", None, "email", "2026-03-01T09:04:00Z"),
    ("m04", "track", "Order Completed", None, "app", "2026-03-01T09:03:00Z"),
    ("m03", "identify", None, None, "other", "2026-03-01T09:02:00Z"),
    ("m02", "track", "Product Viewed", None, "web", "2026-03-01T09:01:00Z"),
    ("m01", "page", None, "Home", "web", "2026-03-01T09:00:00Z"),
]
EXPECTED_FILTERS = {
    "pages of 3": [["m11", "m09", "m08"], ["m07", "m06", "m05"], ["m04", "m03", "m02"], ["m01"]],
    "channel=sms": ["m06"],
    "channel=web&channel=app": ["m07", "m04", "m02", "m01"],
    "channel=web,app": ["m07", "m04", "m02", "m01"],
    "type=track": ["m11", "m09", "m08", "m06", "m05", "m04", "m02"],
    "type=page,screen": ["m07", "m01"],
    "event=Order Completed": ["m04"],
    "event=Order Completed&event=Email Opened": ["m05", "m04"],
    "since=09:03Z&until=09:07Z": ["m07", "m06", "m05", "m04"],
    "since=12:33+03:30": ["m11", "m09", "m08", "m07", "m06", "m05", "m04"],
    "until=09:01Z": ["m01"],
    "type=track pages of 2": [["m11", "m09"], ["m08", "m06"], ["m05", "m04"], ["m02"]],
    "channel=chat": [],
    "u-2": ["m10"],
}


async def _pages(api: Api, pid: str, limit: int, **params: Any) -> list[list[str]]:
    pages: list[list[str]] = []
    cursor = None
    while True:
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        page = await api.timeline_page(pid, **query)
        pages.append([e["message_id"] for e in page["events"]])
        cursor = page["next_cursor"]
        if cursor is None:
            return pages


async def test_ingest_dedupe_timeline_and_stats(api: Api) -> None:
    await api.batch(BATCH_1)
    first = await api.stats()
    # The client retries the whole batch (its first answer was lost): nothing is stored twice.
    await api.batch(BATCH_1)
    await api.send("track", BATCH_1[3])
    await api.batch(BATCH_3)
    stats = await api.stats()

    sara = await api.lookup("user_id", "u-1")
    pid = sara["id"]
    other = (await api.lookup("user_id", "u-2"))["id"]
    events = await api.timeline(pid)
    timeline = [
        (e["message_id"], e["type"], e["event"], e["name"], e["channel"], e["timestamp"])
        for e in events
    ]
    tl = api.timeline_ids
    filters = {
        "pages of 3": await _pages(api, pid, 3),
        "channel=sms": await tl(pid, channel="sms"),
        "channel=web&channel=app": await tl(pid, channel=["web", "app"]),
        "channel=web,app": await tl(pid, channel="web,app"),
        "type=track": await tl(pid, type="track"),
        "type=page,screen": await tl(pid, type="page,screen"),
        "event=Order Completed": await tl(pid, event="Order Completed"),
        "event=Order Completed&event=Email Opened": await tl(
            pid, event=["Order Completed", "Email Opened"]
        ),
        "since=09:03Z&until=09:07Z": await tl(
            pid, since="2026-03-01T09:03:00Z", until="2026-03-01T09:07:00Z"
        ),
        "since=12:33+03:30": await tl(pid, since="2026-03-01T12:33:00+03:30"),
        "until=09:01Z": await tl(pid, until="2026-03-01T09:01:00Z"),
        "type=track pages of 2": await _pages(api, pid, 2, type="track"),
        "channel=chat": await tl(pid, channel="chat"),
        "u-2": await tl(other),
    }
    by_id = {e["message_id"]: e for e in events}

    assert first["events"] == 10
    assert {k: stats[k] for k in EXPECTED_STATS} == EXPECTED_STATS
    assert timeline == EXPECTED_TIMELINE
    assert filters == EXPECTED_FILTERS
    assert by_id["m04"]["properties"] == {"total": 120}
    assert by_id["m05"]["event"] == "Email Opened"
    assert by_id["m03"]["traits"] == {"email": "Sara@Example.com", "name": "Sara"}
    assert sara["traits"] == {"email": "Sara@Example.com", "name": "Sara"}
    assert sorted((i["type"], i["value"]) for i in sara["identities"]) == [
        ("anonymous_id", "a-1"),
        ("email", "sara@example.com"),
        ("user_id", "u-1"),
    ]
