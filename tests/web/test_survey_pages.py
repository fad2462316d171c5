"""Survey pages of the dashboard: list, create from a template, builder with live preview and
triggers, results with trends, intervals, verbatims and export; roles and bad input."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from safar.app import create_app
from safar.config import Settings
from safar.runtime import Runtime
from safar.surveys import service as svc
from tests.installation import fresh_data_dir
from tests.web.factories import (
    CHROMIUM,
    CHROMIUM_ARGS,
    PASSWORD,
    Site,
    answered_survey,
    make_site,
    page_csrf,
    serving,
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
    assert editor.status_code == 200 and 'id="definition"' in editor.text
    definition = json.loads(
        editor.text.split('name="definition"', 1)[1]
        .split(">", 1)[1]
        .split("</textarea>")[0]
        .replace("&#34;", '"')
        .replace("&quot;", '"')
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
    )
    assert definition["questions"][0]["id"] == "csat"

    preview = await web.post(
        "/surveys/preview",
        data={"definition": json.dumps(definition), "lang": "fa", "csrf_token": csrf},
    )
    assert preview.status_code == 200 and 'dir="rtl"' in preview.text and "۵ ★" in preview.text
    broken = await web.post(
        "/surveys/preview", data={"definition": "{oops", "lang": "en", "csrf_token": csrf}
    )
    assert broken.status_code == 400 and "not valid JSON" in broken.text

    form = {"name": "پس از تحویل", "touchpoint": "delivery", "status": "active", "csrf_token": csrf}
    bad = await web.post(
        edit_url, data={**form, "definition": '{"title": {"fa": "x"}, "questions": []}'}
    )
    assert bad.status_code == 400
    assert '<p class="error" role="alert" id="builder-error">' in bad.text
    assert 'id="builder-saved"' not in bad.text
    definition["questions"][0]["text"]["fa"] = "از تحویل سفارش راضی بودید؟"
    ok = await web.post(
        edit_url, data={**form, "definition": json.dumps(definition, ensure_ascii=False)}
    )
    assert ok.status_code == 200
    assert '<p class="notice" role="status" id="builder-saved">' in ok.text
    assert 'id="builder-error"' not in ok.text
    with site.runtime.db.session() as s:
        saved = svc.get_survey(s, workspace_id=site.workspace_id, survey_id=survey_id)
        assert saved.definition["questions"][0]["text"]["fa"] == "از تحویل سفارش راضی بودید؟"

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


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Site]]:
    """An empty site (users, no events) behind a real uvicorn server."""
    runtime = Runtime(Settings(data_dir=fresh_data_dir(tmp_path / "safar")))
    try:
        site = make_site(runtime, data=False)
        with serving(create_app(runtime=runtime)) as base:
            yield base, site
    finally:
        runtime.close()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="chromium missing")
def test_live_preview_in_chromium(served: tuple[str, Site]) -> None:
    from playwright.sync_api import sync_playwright

    base, site = served
    survey_id = answered_survey(site)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/login")
            page.fill("input[name=email]", "analyst@example.com")
            page.fill("input[name=password]", PASSWORD)
            page.press("input[name=password]", "Enter")
            page.wait_for_url(f"{base}/", wait_until="commit")
            page.goto(f"{base}/surveys/{survey_id}/edit")
            fa = page.frame_locator("#preview-fa")
            en = page.frame_locator("#preview-en")
            fa.get_by_text("چقدر احتمال دارد").wait_for()
            en.get_by_text("How likely are you").wait_for()
            text = page.input_value("#definition").replace(
                "How likely are you to recommend us", "Would you recommend our shop"
            )
            page.fill("#definition", text)
            en.get_by_text("Would you recommend our shop").wait_for(timeout=5000)
            page.goto(f"{base}/surveys/{survey_id}")
            assert page.evaluate("document.documentElement.dir") == "rtl"
            page.wait_for_selector("#chart-nps[data-drawn='1']")
            SHOTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SHOTS / "survey-results-fa.png"), full_page=True)
            page.goto(f"{base}/surveys/{survey_id}/edit")
            en.get_by_text("How likely are you").wait_for()
            page.screenshot(path=str(SHOTS / "survey-builder-fa.png"), full_page=True)
            # A failing save is red, a good one green: the two must not look alike.
            good = page.input_value("#definition")
            page.fill("#definition", '{"title": {"fa": "x"}, "questions": []}')
            page.click("#builder button[type=submit]")
            color = "el => getComputedStyle(el).color"
            page.wait_for_selector("#builder-error")
            assert page.eval_on_selector("#builder-error", color) == "rgb(198, 40, 40)"
            page.fill("#definition", good)
            page.click("#builder button[type=submit]")
            page.wait_for_selector("#builder-saved")
            assert page.eval_on_selector("#builder-saved", color) == "rgb(27, 127, 59)"
        finally:
            browser.close()
