"""The survey API and pages with bad input: clear errors, nothing stored twice, nothing lost."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select, update

from safar.app import create_app
from safar.db import utcnow
from safar.runtime import Runtime
from safar.surveys.models import Invitation, SurveyResponse
from safar.workspaces.service import create_workspace
from tests.surveys.factories import customer, survey_events


@pytest.fixture
async def api(rt: Runtime) -> AsyncIterator[tuple[httpx.AsyncClient, dict[str, str], str]]:
    with rt.db.session() as s:
        ws, _, secret = create_workspace(s, name="Shop")
        ws_id = ws.id
    transport = httpx.ASGITransport(app=create_app(runtime=rt))
    async with httpx.AsyncClient(transport=transport, base_url="http://safar.test") as c:
        yield c, {"Authorization": f"Bearer {secret}"}, ws_id


def profile_of(rt: Runtime, ws_id: str, user_id: str) -> str:
    from safar.identity.service import lookup

    customer(rt, ws_id, user_id, email=f"{user_id}@example.com", language="en")
    with rt.db.session() as s:
        return lookup(s, workspace_id=ws_id, type_="user_id", value=user_id)


async def invite(
    c: httpx.AsyncClient, auth: dict[str, str], survey_id: str, profile_id: str, **kw: str
) -> dict[str, str]:
    r = await c.post(
        f"/api/surveys/{survey_id}/invitations",
        json={"profile_id": profile_id, **kw},
        headers=auth,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_definitions_templates_and_bad_definitions(
    rt: Runtime, api: tuple[httpx.AsyncClient, dict[str, str], str]
) -> None:
    c, auth, _ = api
    assert (await c.get("/api/surveys")).status_code == 401
    r = await c.post("/api/surveys/from-template", json={"template": "nps"}, headers=auth)
    assert r.status_code == 201 and r.json()["definition"]["questions"][0]["type"] == "nps"
    r = await c.post("/api/surveys/from-template", json={"template": "nope"}, headers=auth)
    assert r.status_code == 404 and r.json()["field"] == "template"
    bad_logic = {
        "name": "x",
        "definition": {
            "title": {"en": "x"},
            "questions": [
                {
                    "id": "why",
                    "type": "text",
                    "text": {"en": "Why?"},
                    "show_if": {"question": "score", "op": "lte", "value": 6},
                },
                {"id": "score", "type": "nps", "text": {"en": "Score"}},
            ],
        },
    }
    r = await c.post("/api/surveys", json=bad_logic, headers=auth)
    assert r.status_code == 400 and "show_if must refer to an earlier question" in r.text
    r = await c.post(
        "/api/surveys",
        json={
            "name": "x",
            "definition": {
                "title": {"en": "x"},
                "questions": [
                    {
                        "id": "pick",
                        "type": "single",
                        "text": {"en": "?"},
                        "choices": [{"id": "a", "label": {"en": "A"}}],
                    }
                ],
            },
        },
        headers=auth,
    )
    assert r.status_code == 400 and "at least two choices" in r.text
    r = await c.get("/api/surveys/svy_missing", headers=auth)
    assert r.status_code == 404 and r.json()["field"] == "survey_id"
    r = await c.post("/api/surveys/preview?lang=en", json=bad_logic["definition"], headers=auth)
    assert r.status_code == 400
    ok_def = (await c.get("/api/surveys", headers=auth)).json()[0]["definition"]
    r = await c.post("/api/surveys/preview?lang=en", json=ok_def, headers=auth)
    assert r.status_code == 200 and 'dir="ltr"' in r.text and "recommend" in r.text


async def test_in_app_json_answers_and_bad_answers(
    rt: Runtime, api: tuple[httpx.AsyncClient, dict[str, str], str]
) -> None:
    c, auth, ws_id = api
    survey = (
        await c.post("/api/surveys/from-template", json={"template": "nps"}, headers=auth)
    ).json()
    pid = profile_of(rt, ws_id, "app-user")
    inv = await invite(c, auth, survey["id"], pid, channel="app")
    assert inv["language"] == "en"  # from the profile's language trait
    pending = (await c.get(f"/api/surveys/pending?profile_id={pid}", headers=auth)).json()
    assert [p["id"] for p in pending] == [inv["id"]]
    token = inv["token"]
    cases = [
        ({"nps": 11}, "answers.nps", "must be between 0 and 10"),
        ({"nps": "high"}, "answers.nps", "must be a whole number"),
        ({"nps": 4.5}, "answers.nps", "must be a whole number"),
        ({}, "answers.nps", "is required"),
        ({"nps": 5, "bogus": 1}, "answers.bogus", "not a question of this survey"),
        ({"nps": 5, "comment": "x"}, "answers.comment", "not asked at this step"),
    ]
    for answers, field, message in cases:
        r = await c.post(f"/api/surveys/answers/{token}", json={"answers": answers})
        assert r.status_code == 400, (answers, r.text)
        assert r.json()["field"] == field and message in r.json()["message"]
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(SurveyResponse)) == 0
    r = await c.post(f"/api/surveys/answers/{token}", json={"answers": {"nps": 2}})
    assert r.status_code == 200 and r.json()["next"][0]["id"] == "what_wrong"
    dup = await c.post(f"/api/surveys/answers/{token}", json={"answers": {"nps": 10}})
    assert dup.json()["duplicate"] is True
    r = await c.post(
        f"/api/surveys/answers/{token}", json={"answers": {"what_wrong": "x" * 2001}, "step": 1}
    )
    assert r.status_code == 400 and "longer than 2000" in r.json()["message"]
    r = await c.post(
        f"/api/surveys/answers/{token}",
        json={"answers": {"what_wrong": "Slow", "comment": ""}, "step": 1},
    )
    assert r.json()["complete"] is True
    r = await c.post(
        f"/api/surveys/answers/{token}", json={"answers": {"what_wrong": "again"}, "step": 1}
    )
    assert r.status_code == 409 and r.json()["field"] == "token"
    with rt.db.session() as s:
        rows = list(s.scalars(select(SurveyResponse)))
    assert len(rows) == 1 and rows[0].nps == 2 and rows[0].answers["what_wrong"] == "Slow"
    assert (await c.get(f"/api/surveys/pending?profile_id={pid}", headers=auth)).json() == []
    assert len(survey_events(rt, ws_id)) == 2
    responses = (await c.get(f"/api/surveys/{survey['id']}/responses", headers=auth)).json()
    assert responses[0]["answers"] == {"nps": 2, "what_wrong": "Slow"}
    m = (
        await c.get(f"/api/surveys/metrics?survey_id={survey['id']}&metric=nps", headers=auth)
    ).json()
    assert m["rows"][0]["score"] == -100.0
    r = await c.get("/api/surveys/metrics?metric=xyz", headers=auth)
    assert r.status_code == 400 and r.json()["field"] == "metric"
    r = await c.get("/api/surveys/metrics?metric=nps&by=planet", headers=auth)
    assert r.status_code == 400 and r.json()["field"] == "by"
    r = await c.get("/api/surveys/metrics?survey_id=svy_nope", headers=auth)
    assert r.status_code == 404


async def test_forged_expired_and_unknown_links(
    rt: Runtime, api: tuple[httpx.AsyncClient, dict[str, str], str]
) -> None:
    c, auth, ws_id = api
    survey = (
        await c.post("/api/surveys/from-template", json={"template": "csat"}, headers=auth)
    ).json()
    pid = profile_of(rt, ws_id, "u1")
    inv = await invite(c, auth, survey["id"], pid, language="fa")
    token = inv["token"]
    forged = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for bad in (forged, "nonsense", "x" * 400):
        page = await c.get(f"/s/{bad}")
        assert page.status_code == 404 and "معتبر نیست" in page.text
        r = await c.post(f"/s/{bad}", data={"_step": "0", "csat": "5"})
        assert r.status_code == 404
    other = rt.survey_signer.sign("inv_does_not_exist")
    assert (await c.get(f"/s/{other}")).status_code == 404
    with rt.db.session() as s:
        s.execute(update(Invitation).values(expires_at=utcnow() - timedelta(minutes=1)))
    page = await c.get(f"/s/{token}")
    assert page.status_code == 410 and "مهلت این پیوند تمام شده است" in page.text
    r = await c.post(f"/api/surveys/answers/{token}", json={"answers": {"csat": 5}})
    assert r.status_code == 410
    with rt.db.session() as s:
        assert s.scalar(select(func.count()).select_from(SurveyResponse)) == 0


async def test_form_validation_keeps_answers_and_rejects_oversize(
    rt: Runtime, api: tuple[httpx.AsyncClient, dict[str, str], str]
) -> None:
    c, auth, ws_id = api
    survey = (
        await c.post("/api/surveys/from-template", json={"template": "csat"}, headers=auth)
    ).json()
    pid = profile_of(rt, ws_id, "u2")
    token = (await invite(c, auth, survey["id"], pid, language="fa"))["token"]
    page = await c.get(f"/s/{token}")
    font = page.text.split('@font-face{font-family:Vazirmatn;src:url("', 1)[1].split('"')[0]
    assert (await c.get(font)).status_code == 200  # the dashboard's vendored Persian font
    r = await c.post(f"/s/{token}", data={"_step": "0", "csat": "9"})
    assert r.status_code == 400 and "باید بین ۱ و ۵ باشد" in r.text
    assert 'role="alert"' in r.text and 'href="#q-csat"' in r.text
    r = await c.post(f"/s/{token}", data={"_step": "0", "csat": "5", "comment": "خ" * 70_000})
    assert r.status_code == 413
    r = await c.post(f"/s/{token}", data={"_step": "0", "csat": "5", "comment": "خیلی خوب"})
    assert r.status_code == 303
    with rt.db.session() as s:
        row = s.scalar(select(SurveyResponse))
        assert (
            row is not None and row.complete and row.answers == {"csat": 5, "comment": "خیلی خوب"}
        )


async def test_triggers_api_and_export(
    rt: Runtime, api: tuple[httpx.AsyncClient, dict[str, str], str]
) -> None:
    c, auth, ws_id = api
    survey = (
        await c.post("/api/surveys/from-template", json={"template": "post_ride"}, headers=auth)
    ).json()
    base = {"name": "after ride", "event": "ride_finished", "action": "survey", "channel": "sms"}
    r = await c.post("/api/triggers", json={**base, "params": {"survey_id": "svy_x"}}, headers=auth)
    assert r.status_code == 400 and r.json()["field"] == "params.survey_id"
    r = await c.post("/api/triggers", json={**base, "action": "fax", "params": {}}, headers=auth)
    assert r.status_code == 400 and r.json()["field"] == "action"
    r = await c.post(
        "/api/triggers",
        json={**base, "params": {"survey_id": survey["id"]}, "sample_rate": 2},
        headers=auth,
    )
    assert r.status_code == 400 and r.json()["field"] == "sample_rate"
    r = await c.post(
        "/api/triggers",
        json={**base, "params": {"survey_id": survey["id"]}, "timezone": "Mars/Olympus"},
        headers=auth,
    )
    assert r.status_code == 400 and r.json()["field"] == "timezone"
    r = await c.post(
        "/api/triggers",
        json={
            **base,
            "params": {"survey_id": survey["id"]},
            "delay_seconds": 600,
            "fatigue_days": 14,
        },
        headers=auth,
    )
    assert r.status_code == 201
    trigger = r.json()
    r = await c.patch(f"/api/triggers/{trigger['id']}", json={"active": False}, headers=auth)
    assert r.json()["active"] is False
    assert (await c.get("/api/jobs?status=bogus", headers=auth)).status_code == 400

    pid = profile_of(rt, ws_id, "rider")
    token = (await invite(c, auth, survey["id"], pid, language="fa"))["token"]
    # A low driver rating brings up "what went wrong" (multiple choice) in the next step.
    r = await c.post(f"/s/{token}", data={"_step": "0", "driver": "2"})
    assert r.status_code == 303
    step2 = await c.get(f"/s/{token}")
    assert 'type="checkbox"' in step2.text and "خودرو" in step2.text
    r = await c.post(
        f"/s/{token}",
        data={"_step": "1", "issues": ["car", "price"], "nps": "8", "comment": "کولر خراب بود"},
    )
    assert r.status_code == 303 and r.headers["location"].endswith("/thanks")
    csv_body = (await c.get(f"/api/surveys/{survey['id']}/export?format=csv", headers=auth)).content
    text = csv_body.decode("utf-8-sig")
    assert "q_issues" in text and "car|price" in text and "کولر خراب بود" in text
    pq_body = (
        await c.get(f"/api/surveys/{survey['id']}/export?format=parquet", headers=auth)
    ).content
    table = pq.read_table(io.BytesIO(pq_body)).to_pylist()
    assert table[0]["nps"] == 8 and table[0]["q_driver"] == "2" and table[0]["complete"] is True
    res = (await c.get(f"/api/surveys/{survey['id']}/results", headers=auth)).json()
    assert res["metrics"]["nps"]["overall"]["n"] == 1 and "csat" not in res["metrics"]
    assert res["metrics"]["nps"]["breakdowns"]["channel"][0]["group"] == "app"
    assert res["verbatims"][0]["text"] == "کولر خراب بود" and res["verbatims"][0]["nps"] == 8
    assert res["response_rate"]["completed"] == 1
    r = await c.get(f"/api/surveys/{survey['id']}/results?period=decade", headers=auth)
    assert r.status_code == 400 and r.json()["field"] == "period"
    r = await c.get(f"/api/surveys/{survey['id']}/export?format=xls", headers=auth)
    assert r.status_code == 400 and r.json()["field"] == "format"


async def test_widget_is_served_by_the_app(
    api: tuple[httpx.AsyncClient, dict[str, str], str],
) -> None:
    c, _, _ = api
    r = await c.get("/s/widget.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/javascript")
    assert "SafarSurvey" in r.text and "http" not in r.text.split("*/", 1)[1].replace(
        "location.href", ""
    )
