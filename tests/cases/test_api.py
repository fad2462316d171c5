"""``/api/cases`` through the real app: open, filter and page, change with the allowed
transitions, notes, and bad input refused with the field named and nothing changed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.cases.factories import Site, ingest, profile_of, row


async def _open(site: Site, **body: Any) -> dict[str, Any]:
    out: dict[str, Any] = await site.call("POST", "/api/cases", 201, json=body)
    return out


async def test_open_read_and_list_with_filters_and_pages(site: Site) -> None:
    ingest(site, row(site, type="identify", userId="sara", traits={"name": "Sara"}))
    sara = profile_of(site, "sara")
    bodies: list[dict[str, Any]] = [
        {"subject": "Refund not received", "priority": "high", "profile_id": sara},
        {"subject": "Courier was rude", "tags": ["Courier", "courier ", "rude"]},
        {"subject": "REFUND twice", "assignee": site.agent_id},
        {"subject": "App crashes", "priority": "urgent", "channel": "app"},
        {"subject": "Late delivery", "priority": "low", "profile_id": sara},
    ]
    made = []
    for body in bodies:  # a minute apart: the list is newest first
        made.append(await _open(site, **body))
        site.clock.advance(minutes=1)
    first = made[0]
    assert first["id"].startswith("cas_") and first["status"] == "new"
    assert (first["profile_id"], first["origin"], first["created_at"][:19]) == (
        sara,
        "api",
        "2026-12-08T09:00:00",
    )
    assert made[1]["tags"] == ["courier", "rude"]  # trimmed, lower-cased, once each
    got = await site.call("GET", f"/api/cases/{first['id']}", 200)
    assert got["subject"] == "Refund not received" and got["log"][0]["kind"] == "created"

    async def ids(**params: Any) -> list[str]:
        page = await site.call("GET", "/api/cases", 200, **params)
        return [c["subject"] for c in page["cases"]]

    assert await ids(q="refund") == ["REFUND twice", "Refund not received"]
    assert await ids(priority=["high", "urgent"]) == ["App crashes", "Refund not received"]
    assert await ids(profile_id=sara) == ["Late delivery", "Refund not received"]
    assert await ids(assignee=site.agent_id) == ["REFUND twice"]
    assert await ids(q="50%_off") == []  # LIKE wildcards are text, not patterns
    await site.call("PATCH", f"/api/cases/{made[3]['id']}", 200, json={"status": "solved"})
    assert await ids(status=["solved"]) == ["App crashes"]
    assert len(await ids(status=["new", "open"])) == 4

    page1 = await site.call("GET", "/api/cases", 200, limit=2)
    page3 = await site.call("GET", "/api/cases", 200, limit=2, offset=4)
    assert (page1["total"], page1["next_offset"], len(page1["cases"])) == (5, 2, 2)
    assert (page3["next_offset"], [c["subject"] for c in page3["cases"]]) == (
        None,
        ["Refund not received"],  # the oldest, last
    )
    r = await site.client.get("/api/cases")
    assert r.status_code == 401  # a secret key is required


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        (["open", "pending", "open", "solved", "open", "closed"], None),
        (["solved", "closed", "open"], "open"),  # closed is final
        (["open", "new"], "new"),  # nothing goes back to new
        (["on_hold", "solved", "pending"], "pending"),  # a solved case only reopens
    ],
)
async def test_status_moves_only_along_allowed_transitions(
    site: Site, path: list[str], refused: str | None
) -> None:
    case = await _open(site, subject="Wrong size")
    done = path if refused is None else path[:-1]
    for status in done:
        await site.call("PATCH", f"/api/cases/{case['id']}", 200, json={"status": status})
    if refused is not None:
        before = await site.call("GET", f"/api/cases/{case['id']}", 200)
        mixed = {"status": refused, "priority": "urgent", "assignee": site.agent_id}
        for body in ({"status": refused}, mixed):
            err = await site.call("PATCH", f"/api/cases/{case['id']}", 409, json=body)
            assert err["field"] == "status"
        assert await site.call("GET", f"/api/cases/{case['id']}", 200) == before
    after = await site.call("GET", f"/api/cases/{case['id']}", 200)
    assert after["status"] == done[-1]
    moves = [(e["data"]["from"], e["data"]["to"]) for e in after["log"][1:]]
    assert moves == list(zip(["new", *done[:-1]], done, strict=True))


async def test_solving_stamps_and_reopening_clears_the_solved_time(site: Site) -> None:
    case = await _open(site, subject="Broken box")
    site.clock.advance(hours=2)
    solved = await site.call("PATCH", f"/api/cases/{case['id']}", 200, json={"status": "solved"})
    assert solved["solved_at"][:19] == "2026-12-08T11:00:00"
    reopened = await site.call("PATCH", f"/api/cases/{case['id']}", 200, json={"status": "open"})
    assert reopened["solved_at"] is None and reopened["status"] == "open"


async def test_bad_input_names_the_field_and_changes_nothing(site: Site) -> None:
    err = await site.call("POST", "/api/cases", 400, json={"subject": "x", "assignee": "usr_no"})
    assert err["field"] == "assignee"
    err = await site.call("POST", "/api/cases", 400, json={"subject": "x", "profile_id": "prf_x"})
    assert err["field"] == "profile_id"
    assert (await site.call("GET", "/api/cases", 200))["total"] == 0
    case = await _open(site, subject="Missing item", priority="low")
    body = {"assignee": "usr_nobody", "priority": "high", "tags": ["vip"]}
    err = await site.call("PATCH", f"/api/cases/{case['id']}", 400, json=body)
    assert err["field"] == "assignee"
    unchanged = await site.call("GET", f"/api/cases/{case['id']}", 200)
    assert (unchanged["priority"], unchanged["tags"], len(unchanged["log"])) == ("low", [], 1)
    for method, path, body in [
        ("GET", "/api/cases/cas_missing", None),
        ("PATCH", "/api/cases/cas_missing", {"status": "open"}),
        ("POST", "/api/cases/cas_missing/notes", {"body": "hello"}),
    ]:
        assert (await site.call(method, path, 404, json=body))["field"] == "case_id"
    for body, field in [({"status": "done"}, "status"), ({"color": "red"}, "color")]:
        err = await site.call("PATCH", f"/api/cases/{case['id']}", 400, json=body)
        assert err["field"] == field


async def test_every_change_is_in_the_log_in_order(site: Site) -> None:
    case = await _open(site, subject="Damaged parcel", assignee=site.agent_id, tags=["parcel"])
    cid = case["id"]
    steps: list[tuple[str, dict[str, Any]]] = [
        ("PATCH", {"status": "open"}),
        ("PATCH", {"priority": "urgent", "tags": ["parcel", "vip"]}),
        ("NOTE", {"body": "Called the courier; they will redeliver."}),
        ("PATCH", {"assignee": None}),
        ("PATCH", {"priority": "urgent", "status": "open"}),  # nothing really changes
        ("PATCH", {"status": "solved"}),
    ]
    for method, body in steps:
        site.clock.advance(minutes=10)
        if method == "NOTE":
            note = await site.call("POST", f"/api/cases/{cid}/notes", 201, json=body)
            assert note["kind"] == "note" and note["data"] == body
        else:
            await site.call("PATCH", f"/api/cases/{cid}", 200, json=body)
    log = (await site.call("GET", f"/api/cases/{cid}", 200))["log"]
    assert [(e["seq"], e["kind"], e["at"][11:16]) for e in log] == [
        (1, "created", "09:00"),
        (2, "assigned", "09:00"),
        (3, "status_changed", "09:10"),
        (4, "priority_changed", "09:20"),
        (5, "tagged", "09:20"),
        (6, "note", "09:30"),
        (7, "assigned", "09:40"),
        (8, "status_changed", "10:00"),
    ]
    assert log[4]["data"] == {"added": ["vip"], "removed": [], "tags": ["parcel", "vip"]}
    assert log[6]["data"] == {"from": site.agent_id, "to": None}
    assert {e["actor"] for e in log} == {log[0]["actor"]} and log[0]["actor"].startswith("key:")
    # A closed case takes no more notes or changes.
    await site.call("PATCH", f"/api/cases/{cid}", 200, json={"status": "closed"})
    err = await site.call("POST", f"/api/cases/{cid}/notes", 409, json={"body": "late"})
    assert err["field"] == "status"
    err = await site.call("PATCH", f"/api/cases/{cid}", 409, json={"priority": "low"})
    assert err["field"] == "status"
