"""Survey pages of the dashboard: list, create from a template, builder with live preview and
triggers, results with trends, intervals, verbatims and export; roles and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from safar.surveys import service as svc
from tests.web.factories import (
    Site,
    answered_survey,
    page_csrf,
    sign_in,
)

SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screens"


async def test_viewer_reads_results_but_cannot_edit(web: httpx.AsyncClient, site: Site) -> None:
    survey_id = answered_survey(site)
    await sign_in(web, "viewer")
    listing = await web.get("/surveys")
    assert listing.status_code == 200 and 'data-nav="surveys"' in listing.text
    assert "نظرسنجی‌ها" in listing.text and 'id="new-survey"' not in listing.text
    page = await web.get(f"/surveys/{survey_id}")
    assert page.status_code == 200
    assert 'id="kpi-nps"' in page.text and "۲۰" in page.text  # NPS 20 in Persian digits
    assert "chart-nps" in page.text and "پیک خیلی دیر رسید" in page.text
    assert "۱۴۰۵-۰۷" in page.text and "۱۴۰۵-۰۸" in page.text  # Mehr and Aban 1405
    assert 'id="change-nps"' in page.text
    week = await web.get(f"/surveys/{survey_id}?period=jalali_week")
    assert week.status_code == 200
    # The shared filters' period, carried by the menu, leaves the grouping at its default.
    carried = await web.get(f"/surveys/{survey_id}?period=30d&channel=email")
    assert carried.status_code == 200 and "۱۴۰۵-۰۷" in carried.text
    weekly = await web.get(f"/surveys/{survey_id}?group=jalali_week&period=30d")
    assert '<option value="jalali_week" selected' in weekly.text
    assert 'name="group"' in weekly.text and 'name="period"' not in weekly.text.split("<main", 1)[1]
    bad = await web.get(f"/surveys/{survey_id}?period=century")
    assert bad.status_code == 400 and "Traceback" not in bad.text
    missing = await web.get("/surveys/svy_nope")
    assert missing.status_code == 404
    csv_body = await web.get(f"/surveys/{survey_id}/export?format=csv")
    assert csv_body.status_code == 200 and "پیک خیلی دیر رسید" in csv_body.content.decode(
        "utf-8-sig"
    )
    csrf = await page_csrf(web, "/surveys")
    denied = await web.post("/surveys", data={"template": "nps", "csrf_token": csrf})
    assert denied.status_code == 403
    assert (await web.get(f"/surveys/{survey_id}/edit")).status_code == 403


async def test_analyst_builds_a_survey_with_triggers(web: httpx.AsyncClient, site: Site) -> None:
    await sign_in(web, "analyst")
    csrf = await page_csrf(web, "/surveys")
    created = await web.post(
        "/surveys", data={"template": "post_delivery", "name": "پس از تحویل", "csrf_token": csrf}
    )
    assert created.status_code == 303
    edit_url = created.headers["location"]
    survey_id = edit_url.split("/")[2]
    editor = await web.get(edit_url)
    assert editor.status_code == 200 and 'id="sb-state"' in editor.text
    state = json.loads(
        editor.text.split('<script type="application/json" id="sb-state">', 1)[1].split(
            "</script>"
        )[0]
    )
    definition = state["definition"]
    assert definition["questions"][0]["id"] == "csat" and state["types"]["nps"]
    headers = {"X-CSRF-Token": csrf}

    preview = await web.post(
        "/surveys/preview", json={"definition": definition, "lang": "fa"}, headers=headers
    )
    assert preview.status_code == 200 and 'dir="rtl"' in preview.text and "۵ ★" in preview.text
    broken = {**definition, "questions": [{**definition["questions"][0], "text": {}}]}
    refused = await web.post(
        "/surveys/preview", json={"definition": broken, "lang": "en"}, headers=headers
    )
    assert refused.status_code == 400
    assert refused.json()["field"] == "definition.questions.0.text"

    form = {"name": "پس از تحویل", "touchpoint": "delivery", "status": "active"}
    save_url = f"/surveys/{survey_id}/definition"
    bad = await web.post(save_url, json={**form, "definition": broken}, headers=headers)
    assert bad.status_code == 400 and bad.json()["field"] == "definition.questions.0.text"
    # The dashboard's own API answers in the signed-in user's language.
    assert bad.json()["message"] == "متن را به فارسی یا انگلیسی بنویسید."
    no_name = await web.post(
        save_url, json={**form, "name": "", "definition": definition}, headers=headers
    )
    assert no_name.status_code == 400 and no_name.json()["field"] == "name"
    definition["questions"][0]["text"]["fa"] = "از تحویل سفارش راضی بودید؟"
    ok = await web.post(save_url, json={**form, "definition": definition}, headers=headers)
    assert ok.status_code == 200 and ok.json()["saved"] is True
    with site.runtime.db.session() as s:
        saved = svc.get_survey(s, workspace_id=site.workspace_id, survey_id=survey_id)
        assert saved.definition["questions"][0]["text"]["fa"] == "از تحویل سفارش راضی بودید؟"

    send_url = f"/surveys/{survey_id}/send"
    fax = await web.post(send_url, json={"segment_id": "seg_x", "channel": "fax"}, headers=headers)
    assert fax.status_code == 400 and fax.json()["field"] == "channel"
    nowhere = await web.post(
        send_url, json={"segment_id": "seg_x", "channel": "sms"}, headers=headers
    )
    assert nowhere.status_code == 404 and nowhere.json()["field"] == "segment_id"
    reach = await web.get(f"/surveys/{survey_id}/audience?segment_id=seg_x")
    assert reach.status_code == 404 and reach.json()["field"] == "segment_id"
    qr = await web.get(f"/surveys/{survey_id}/qr.svg")
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")

    trig = {
        "event": "order_delivered",
        "channel": "email",
        "delay_minutes": "60",
        "fatigue_days": "30",
        "sample_percent": "50",
        "quiet_start": "22",
        "quiet_end": "8",
        "csrf_token": csrf,
    }
    bad = await web.post(f"/surveys/{survey_id}/triggers", data={**trig, "channel": "fax"})
    assert bad.status_code == 400 and "channel" in bad.text
    bad = await web.post(f"/surveys/{survey_id}/triggers", data={**trig, "quiet_start": "x"})
    assert bad.status_code == 400
    ok = await web.post(f"/surveys/{survey_id}/triggers", data=trig)
    assert ok.status_code == 200 and "order_delivered" in ok.text
    api = await web.get("/surveys")
    assert "پس از تحویل" in api.text
