"""Saved segments give the same members on both stacks: traits, event history in a window with
property conditions, consent, segment references, and a merge and its unmerge."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from safar.runtime import Runtime
from safar.segments import service
from tests.events.factories import Api
from tests.identity.factories import Labels

NOW = datetime.now(UTC)


def _ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def _track(mid: str, days: float, event: str, **fields: Any) -> dict[str, Any]:
    return {"type": "track", "messageId": mid, "event": event, "timestamp": _ago(days), **fields}


def _identify(mid: str, days: float, **fields: Any) -> dict[str, Any]:
    return {"type": "identify", "messageId": mid, "timestamp": _ago(days), **fields}


EMAIL_NO = {"preferences": [{"purpose": "marketing", "channel": "email", "granted": False}]}
MESSAGES = [
    _identify("s1", 40, userId="u-1", traits={"plan": "Gold", "age": "34"},
              context={"consent": {"categoryPreferences": {"marketing": True}}}),
    _identify("s2", 40, userId="u-2", traits={"plan": "silver", "age": 22}),
    _identify("s3", 40, userId="u-3", traits={"plan": " gold ", "age": 51},
              context={"consent": EMAIL_NO}),
    _track("s4", 2, "Order Completed", userId="u-1", properties={"total": "250", "city": "Tehran"}),
    _track("s5", 12, "Order Completed", userId="u-1", properties={"total": 40}),
    _track("s6", 1, "Order Completed", userId="u-2", properties={"total": 300, "city": "tehran "}),
    _track("s7", 45, "Order Completed", userId="u-3", properties={"total": 900}),
    # An anonymous visitor orders twice, then signs in as u-2: one person, three orders.
    _track("s8", 3, "Order Completed", anonymousId="a-9", properties={"total": 10}),
    _track("s9", 4, "Order Completed", anonymousId="a-9", properties={"total": 20}),
    _identify("s10", 0.5, userId="u-2", anonymousId="a-9"),
]  # fmt: skip

SEGMENTS: dict[str, dict[str, Any]] = {
    "gold": {"conditions": [{"kind": "trait", "key": "plan", "value": "GOLD"}]},
    "older": {"conditions": [{"kind": "trait", "key": "age", "op": "gte", "value": 30}]},
    "big_recent": {"conditions": [{"kind": "event", "event": "Order Completed", "within_days": 7,
                                   "where": [{"key": "total", "op": "gt", "value": 100},
                                             {"key": "city", "value": "TEHRAN"}]}]},
    "repeat": {"conditions": [{"kind": "event", "event": "Order Completed", "min_count": 3}]},
    "lapsed": {"conditions": [{"kind": "event", "event": "Order Completed", "within_days": 30,
                               "performed": False}]},
    "email_ok": {"conditions": [{"kind": "consent", "purpose": "marketing", "channel": "email"}]},
}  # fmt: skip


async def _members(api: Api, ids: dict[str, str], labels: Labels) -> dict[str, list[str]]:
    out = {}
    for name, seg_id in ids.items():
        page = await api.get(f"/api/segments/{seg_id}/members", limit=100)
        out[name] = sorted(labels(p) for p in page["profile_ids"])
    return out


async def test_segment_members_agree_on_both_stacks(api: Api) -> None:
    await api.batch(MESSAGES)
    await api.flush()
    labels = Labels()
    people = {u: (await api.lookup("user_id", u))["id"] for u in ("u-1", "u-2", "u-3")}
    assert [labels(people[u]) for u in ("u-1", "u-2", "u-3")] == ["P1", "P2", "P3"]
    ids: dict[str, str] = {}
    for name, body in SEGMENTS.items():
        r = await api.client.post("/api/segments", json={"name": name, **body}, headers=api.bearer)
        assert r.status_code == 201, r.text
        ids[name] = r.json()["id"]
    combo = {"match": "any", "conditions": [
        {"kind": "segment", "segment_id": ids["gold"], "member": False},
        {"kind": "segment", "segment_id": ids["repeat"]}]}  # fmt: skip
    r = await api.client.post("/api/segments", json={"name": "combo", **combo}, headers=api.bearer)
    ids["not_gold_or_repeat"] = r.json()["id"]

    assert await _members(api, ids, labels) == {
        "gold": ["P1", "P3"],
        "older": ["P1", "P3"],
        "big_recent": ["P1", "P2"],
        "repeat": ["P2"],  # its own order plus the two the anonymous visitor made
        "lapsed": ["P3"],
        "email_ok": ["P1"],  # the 'all' decision covers email; P3 refused email
        "not_gold_or_repeat": ["P2"],
    }

    # Undo the sign-in: the anonymous orders go back to the visitor's own profile.
    await api.unmerge(people["u-2"])
    visitor = (await api.lookup("anonymous_id", "a-9"))["id"]
    assert labels(visitor) == "P4"
    after = await _members(api, {"repeat": ids["repeat"], "lapsed": ids["lapsed"]}, labels)
    assert after == {"repeat": [], "lapsed": ["P3"]}


async def test_refreshes_emit_the_same_events_on_both_stacks(api: Api, runtime: Runtime) -> None:
    await api.batch(MESSAGES[:3])
    await api.flush()
    r = await api.client.post(
        "/api/segments", json={"name": "gold", **SEGMENTS["gold"]}, headers=api.bearer
    )
    seg_id = r.json()["id"]
    ws = (await api.get("/api/stats"))["workspace_id"]
    # Its first segment starts the workspace's periodic refresh: the baseline, on its thread.
    for _ in range(100):
        seg = await api.get(f"/api/segments/{seg_id}")
        if seg["refreshes"]:
            break
        await asyncio.sleep(0.1)
    assert (seg["refreshes"], seg["member_count"]) == (1, 2)
    # u-2 moves to gold, u-3 leaves it.
    await api.batch([_identify("r1", 0.1, userId="u-2", traits={"plan": "GOLD"}),
                     _identify("r2", 0.1, userId="u-3", traits={"plan": "basic"})])  # fmt: skip
    await api.flush()
    diffs = []
    for _ in range(2):
        with runtime.db.session() as session:
            diffs.append(
                service.refresh(
                    session, runtime.store, workspace_id=ws, segment_id=seg_id,
                    now=datetime.now(UTC), jobs=runtime.jobs,
                )
            )  # fmt: skip
    u2 = (await api.lookup("user_id", "u-2"))["id"]
    u3 = (await api.lookup("user_id", "u-3"))["id"]
    assert [(d.refresh, d.entered, d.left) for d in diffs] == [(2, [u2], [u3]), (3, [], [])]
    for pid, event, change in (
        (u2, "segment_entered", "entered"),
        (u3, "segment_exited", "exited"),
    ):
        for _ in range(100):  # the scheduler's thread stores them
            found = [e for e in await api.timeline(pid) if e["event"] == event]
            if found:
                break
            await asyncio.sleep(0.1)
        assert [(e["message_id"], e["properties"]) for e in found] == [
            (f"seg:{seg_id}:{pid}:{change}:2", {"segment_id": seg_id, "segment_name": "gold"})
        ]
