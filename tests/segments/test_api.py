"""``/api/segments`` through the real app: CRUD, refused definitions naming their field,
members, the streamed CSV export and the preview of an unsaved definition."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator
from typing import Any

import pytest

from safar.config import Settings
from tests.events.factories import Api, at, open_api

GOLD = {"kind": "trait", "key": "plan", "op": "eq", "value": "gold"}
PEOPLE = [
    {"type": "identify", "messageId": "p1", "userId": "u1", "timestamp": at(0),
     "traits": {"plan": "Gold", "email": "sara@example.com", "first_name": "سارا",
                "last_name": "Karimi", "city": "Shiraz"}},
    {"type": "identify", "messageId": "p2", "userId": "u2", "timestamp": at(0),
     "traits": {"plan": "silver", "phone": "+989121234567"}},
    {"type": "identify", "messageId": "p3", "userId": "u3", "timestamp": at(0),
     "traits": {"plan": " gold "}},
    {"type": "track", "messageId": "p4", "userId": "u3", "event": "Order Completed",
     "timestamp": at(1), "properties": {"total": 120}},
]  # fmt: skip


@pytest.fixture
async def api(embedded_settings: Settings) -> AsyncIterator[Api]:
    async with open_api(embedded_settings) as api:
        await api.batch(PEOPLE)
        await api.flush()
        yield api


async def _post(api: Api, path: str, body: Any, expect: int) -> Any:
    r = await api.client.post(path, json=body, headers=api.bearer)
    assert r.status_code == expect, r.text
    return r.json()


async def _patch(api: Api, path: str, body: Any, expect: int) -> Any:
    r = await api.client.patch(path, json=body, headers=api.bearer)
    assert r.status_code == expect, r.text
    return r.json()


async def test_create_list_get_update_delete(api: Api) -> None:
    seg = await _post(api, "/api/segments", {"name": "Gold", "conditions": [GOLD]}, 201)
    assert seg["id"].startswith("seg_") and seg["match"] == "all"
    assert seg["conditions"] == [GOLD | {"kind": "trait"}]
    assert [s["id"] for s in await api.get("/api/segments")] == [seg["id"]]
    assert (await api.get(f"/api/segments/{seg['id']}"))["name"] == "Gold"
    updated = await _patch(
        api, f"/api/segments/{seg['id']}", {"name": "طلایی", "match": "any"}, 200
    )
    assert (updated["name"], updated["match"], updated["conditions"]) == (
        "طلایی",
        "any",
        seg["conditions"],
    )
    r = await api.client.delete(f"/api/segments/{seg['id']}", headers=api.bearer)
    assert r.status_code == 204
    await api.get(f"/api/segments/{seg['id']}", expect=404)
    r = await api.client.get("/api/segments")
    assert r.status_code == 401  # a secret key is required


@pytest.mark.parametrize(
    ("conditions", "field"),
    [
        ([{"kind": "segment", "segment_id": "seg_nope"}], "conditions.0.segment_id"),
        ([GOLD, {"kind": "group", "conditions": [{"kind": "segment", "segment_id": "seg_x"}]}],
         "conditions.1.conditions.0.segment_id"),
        ([{"kind": "trait", "key": "plan", "op": "like", "value": "g"}], "conditions.0.trait.op"),
        ([{"kind": "trait", "key": "plan", "op": "in", "value": "gold"}], "conditions.0.trait"),
        ([{"kind": "event", "event": "Order Completed", "within_days": 0}],
         "conditions.0.event.within_days"),
        ([{"kind": "colour", "value": 1}], "conditions.0"),
    ],
)  # fmt: skip
async def test_bad_definitions_are_refused_naming_the_field(
    api: Api, conditions: list[Any], field: str
) -> None:
    body = await _post(api, "/api/segments", {"name": "x", "conditions": conditions}, 400)
    assert body["field"] == field, body
    assert await api.get("/api/segments") == []


async def test_self_references_and_cycles_are_refused(api: Api) -> None:
    a = await _post(api, "/api/segments", {"name": "A", "conditions": [GOLD]}, 201)
    b = await _post(
        api, "/api/segments",
        {"name": "B", "conditions": [{"kind": "segment", "segment_id": a["id"]}]}, 201,
    )  # fmt: skip
    itself = {"conditions": [{"kind": "segment", "segment_id": a["id"]}]}
    body = await _patch(api, f"/api/segments/{a['id']}", itself, 400)
    assert body["field"] == "conditions.0.segment_id" and "itself" in body["message"]
    cycle = {"conditions": [GOLD, {"kind": "segment", "segment_id": b["id"], "member": False}]}
    body = await _patch(api, f"/api/segments/{a['id']}", cycle, 400)
    assert body["field"] == "conditions.1.segment_id" and "cycle" in body["message"]
    # B uses A: A cannot be deleted while it does.
    r = await api.client.delete(f"/api/segments/{a['id']}", headers=api.bearer)
    assert r.status_code == 409 and r.json()["field"] == "segment_id"


async def test_members_csv_and_preview(api: Api) -> None:
    seg = await _post(api, "/api/segments", {"name": "Gold", "conditions": [GOLD]}, 201)
    u1 = (await api.lookup("user_id", "u1"))["id"]
    u3 = (await api.lookup("user_id", "u3"))["id"]
    page = await api.get(f"/api/segments/{seg['id']}/members", limit=1, offset=0)
    assert page["count"] == 2 and page["profile_ids"] == sorted([u1, u3])[:1]
    rest = await api.get(f"/api/segments/{seg['id']}/members", limit=10, offset=1)
    assert rest["profile_ids"] == sorted([u1, u3])[1:]
    await api.get(f"/api/segments/{seg['id']}/members", expect=400, limit=0)

    r = await api.client.get(f"/api/segments/{seg['id']}/members.csv", headers=api.bearer)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = {row["profile_id"]: row for row in csv.DictReader(io.StringIO(r.text))}
    assert set(rows) == {u1, u3}
    assert rows[u1]["email"] == "sara@example.com" and rows[u1]["name"] == "سارا Karimi"
    assert (rows[u1]["user_id"], rows[u1]["city"], rows[u3]["plan"]) == ("u1", "Shiraz", " gold ")

    preview = await _post(
        api, "/api/segments/preview",
        {"match": "all", "conditions": [GOLD, {"kind": "event", "event": "Order Completed",
                                                "where": [{"key": "total", "op": "gte", "value": "100"}]}]},
        200,
    )  # fmt: skip
    assert preview == {"count": 1, "sample": [u3]}
    body = await _post(api, "/api/segments/preview", {"conditions": [{"kind": "segment", "segment_id": "seg_0"}]}, 400)  # fmt: skip
    assert body["field"] == "conditions.0.segment_id"
