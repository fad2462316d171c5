"""Each change of a case is one event on the customer's timeline, stored once however often
its job runs or its rows are replayed; the Customer 360 header shows the person's open cases."""

from __future__ import annotations

from safar.cases import service
from safar.cases import timeline as case_timeline
from safar.identity import service as identity
from safar.web import customer360
from tests.cases.factories import Site, ingest, profile_of, row, run_jobs, timeline


async def test_changes_reach_the_timeline_once(site: Site) -> None:
    ingest(site, row(site, type="identify", userId="omid", anonymousId="a-omid"))
    omid = profile_of(site, "omid")
    body = {"subject": "Charged twice", "profile_id": omid, "assignee": site.agent_id}
    case = await site.call("POST", "/api/cases", 201, json=body)
    cid = case["id"]
    changes = [
        {"status": "open"},
        {"priority": "high"},
        {"tags": ["billing"]},
        {"status": "solved"},
        {"status": "open"},
        {"status": "closed"},
    ]
    for i, change in enumerate(changes):
        site.clock.advance(minutes=5)
        await site.call("PATCH", f"/api/cases/{cid}", 200, json=change)
        if i == 2:
            await site.call("POST", f"/api/cases/{cid}/notes", 201, json={"body": "Secret"})
    assert timeline(site, omid) == []  # stored by the scheduler's task, after the commit
    run_jobs(site)
    events = timeline(site, omid)
    assert [(e["event"], e["message_id"]) for e in events] == [
        (name, f"case:{cid}:{n}")
        for n, name in enumerate(
            ["Case Opened", "Case Assigned", "Case Status Changed", "Case Priority Changed",
             "Case Tagged", "Case Note Added", "Case Solved", "Case Reopened", "Case Closed"],
            start=1,
        )
    ]  # fmt: skip
    props = events[6]["properties"]
    assert (props["case_id"], props["from"], props["to"], props["subject"]) == (
        cid,
        "open",
        "solved",
        "Charged twice",
    )
    assert "body" not in events[5]["properties"]  # internal notes stay in the case log
    assert events[-1]["timestamp"] > events[0]["timestamp"]

    # A replay of every change stores nothing twice.
    with site.runtime.db.session() as s:
        stored = service.get_case(s, workspace_id=site.workspace_id, case_id=cid)
        log = service.case_log(s, workspace_id=site.workspace_id, case_id=cid)
        rows = case_timeline.rows_for(s, stored, log, site.clock.now)
    assert len(rows) == 9 and ingest(site, *rows) == 0
    run_jobs(site)
    assert len(timeline(site, omid)) == 9


async def test_the_customer_360_header_shows_the_open_cases(site: Site) -> None:
    # As an anonymous visitor she answered a survey badly; then she signed in (one person).
    answer = row(site, type="track", event="survey_answered", anonymousId="anon-n",
                 properties={"nps": 1, "response_id": "rsp_9", "survey_name": "App"})  # fmt: skip
    ingest(site, answer)
    ingest(site, row(site, type="identify", userId="nazanin", anonymousId="anon-n"))
    person = profile_of(site, "nazanin")
    site.clock.advance(hours=1)
    done = await site.call("POST", "/api/cases", 201, json={"subject": "Old", "profile_id": person})
    await site.call("PATCH", f"/api/cases/{done['id']}", 200, json={"status": "solved"})
    site.clock.advance(hours=1)
    await site.call(
        "POST", "/api/cases", 201, json={"subject": "Wrong colour", "profile_id": person}
    )
    with site.runtime.db.session() as s:
        prof = identity.get_profile(s, workspace_id=site.workspace_id, profile_id=person)
        header = customer360.summary(
            s, site.runtime.store, workspace_id=site.workspace_id, profile_id=prof.id,
            consent=prof.consent,
        )  # fmt: skip
    assert [(c.subject, c.priority, c.status) for c in header.cases] == [
        ("Wrong colour", "normal", "new"),
        ("NPS 1: App", "high", "new"),
    ]  # the solved one is not open


async def test_a_privacy_request_exports_and_erases_the_persons_cases(site: Site) -> None:
    from safar.runtime import erase_person, export_person

    ingest(site, row(site, type="identify", userId="arash"))
    arash = profile_of(site, "arash")
    case = await site.call("POST", "/api/cases", 201, json={"subject": "Lost", "profile_id": arash})
    await site.call("POST", f"/api/cases/{case['id']}/notes", 201, json={"body": "Called him"})
    other = await site.call("POST", "/api/cases", 201, json={"subject": "Someone else's"})
    kw = {"workspace_id": site.workspace_id, "profile_id": arash}
    exported = export_person(site.runtime, **kw)["cases"]
    assert [c["subject"] for c in exported["cases"]] == ["Lost"]
    assert [e["kind"] for e in exported["case_events"]] == ["created", "note"]
    assert erase_person(site.runtime, **kw)["cases"] == 3
    await site.call("GET", f"/api/cases/{case['id']}", 404)
    assert (await site.call("GET", "/api/cases", 200))["cases"][0]["id"] == other["id"]
