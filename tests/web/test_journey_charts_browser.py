"""The journey charts as a manager reads them, in real headless Chromium, in fa and en: the
layered process map and its frequency/performance toggle, funnel labels that stay inside the
chart with long Persian and English step names, the Sankey's "Other", the emotion curve's own
axes, and the drill-down from a funnel step to a saved segment, a CSV and a journey."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import httpx
import pytest

from tests.web.factories import Site, needs_chromium, shot, sign_in_page
from tests.web.seed import NOW, rows_for

pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium

LONG_FA = "مشاهدهٔ صفحهٔ محصول در فروشگاه اینترنتی با نامی بسیار بلند برای آزمودن برچسب‌ها"
LONG_EN = "Completed the checkout after comparing several delivery options and coupons"
#: lp-1..lp-4 go on to the second step; lp-5 and lp-6 drop after the first.
GOING_ON, DROPPING = ("lp-1", "lp-2", "lp-3", "lp-4"), ("lp-5", "lp-6")
FUNNEL = {"steps": f"{LONG_FA}, {LONG_EN}", "window": "7d"}
SPEC = "el => echarts.getInstanceByDom(el).getOption()"


@pytest.fixture(scope="module")
def shop(served: tuple[str, Site]) -> tuple[str, Site]:
    """Six more customers on the seeded site, with long step names and NPS answers."""
    base, site = served
    msgs: list[dict[str, Any]] = []
    for i, uid in enumerate(GOING_ON + DROPPING):
        t0 = NOW - timedelta(days=1, minutes=10 * i)
        msgs.append({"type": "track", "userId": uid, "event": LONG_FA, "messageId": f"lp-a-{i}",
                     "timestamp": t0.isoformat()})  # fmt: skip
        if uid in GOING_ON:
            later = t0 + timedelta(minutes=5)
            msgs.append({"type": "track", "userId": uid, "event": LONG_EN,
                         "messageId": f"lp-b-{i}", "timestamp": later.isoformat()})  # fmt: skip
            msgs.append({"type": "track", "userId": uid, "event": "survey_answered",
                         "messageId": f"lp-c-{i}", "properties": {"nps": [10, 9, 3, 8][i]},
                         "timestamp": (later + timedelta(seconds=30)).isoformat()})  # fmt: skip
    site.runtime.applier.apply(rows_for(site.workspace_id, msgs))
    return base, site


def _api(site: Site, base: str) -> httpx.Client:
    return httpx.Client(base_url=base, headers={"Authorization": f"Bearer {site.secret_key}"})


def _open(browser: Any, base: str, role: str = "viewer") -> tuple[Any, list[str]]:
    page = browser.new_context(viewport={"width": 1100, "height": 1400}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in_page(page, base, role)
    return page, errors


def _each_language(page: Any, base: str, path: str) -> Iterator[str]:
    """Load ``path`` in Persian, then in English (the language is the reader's preference)."""
    for lang in ("fa", "en"):
        page.goto(base + path)
        if page.evaluate("document.documentElement.lang") != lang:
            page.click("#lang-switch")
            page.wait_for_load_state()
            page.goto(base + path)
        assert page.evaluate("document.documentElement.lang") == lang
        page.wait_for_function("document.querySelectorAll('[data-drawn]').length >= 1")
        yield lang


def test_process_map_layers_and_its_two_views(browser: Any, shop: tuple[str, Site]) -> None:
    base, _ = shop
    page, errors = _open(browser, base)
    for lang in _each_language(page, base, "/journeys?pm_min=1"):
        chart = page.locator("#chart-process")
        option = chart.evaluate(SPEC)
        nodes = option["series"][0]["data"]
        assert option["series"][0]["layout"] == "none"  # laid out in layers, not a force tangle
        xs = {n["name"]: n["x"] for n in nodes}
        # The funnel's first step comes before its second: right of it in Persian, left in English.
        assert (xs[LONG_FA] > xs[LONG_EN]) if lang == "fa" else (xs[LONG_FA] < xs[LONG_EN])
        counts = [link["label"]["formatter"] for link in option["series"][0]["links"]]
        assert all(c and c[0] in "0123456789۰۱۲۳۴۵۶۷۸۹" for c in counts)
        shot(page, f"{lang}-journeys-process-frequency")
        page.check("#pm-view input[value=performance]")  # submits the form by itself
        page.wait_for_url("**pm_view=performance**")
        page.wait_for_function("document.querySelectorAll('[data-drawn]').length >= 1")
        times = [x["label"]["formatter"] for x in page.locator("#chart-process").evaluate(SPEC)[
            "series"][0]["links"]]  # fmt: skip
        unit = ("دقیقه", "ساعت", "روز") if lang == "fa" else ("min", "h", "days")
        assert times and all(any(u in t for u in unit) for t in times), times
        assert "pm_min=1" in page.url  # the card's other choices are kept
        shot(page, f"{lang}-journeys-process-performance")
        page.goto(f"{base}/journeys?pm_top=1&pm_min=1")
        assert page.locator("#process-summary").inner_text().split()[0] in ("1", "۱")
    assert errors == []


def test_funnel_labels_stay_inside_the_chart(browser: Any, shop: tuple[str, Site]) -> None:
    base, _ = shop
    page, errors = _open(browser, base)
    for lang in _each_language(page, base, "/journeys?" + urlencode(FUNNEL)):
        box = page.locator("#chart-funnel").bounding_box()
        texts = page.locator("#chart-funnel svg text").evaluate_all(
            "ts => ts.map(t => { const r = t.getBoundingClientRect();"
            " return {text: t.textContent, left: r.left, right: r.right, top: r.top,"
            " bottom: r.bottom}; })"
        )
        assert texts, "the funnel has no labels"
        for t in texts:
            assert box["x"] - 1 <= t["left"] and t["right"] <= box["x"] + box["width"] + 1, t
            assert box["y"] - 1 <= t["top"] and t["bottom"] <= box["y"] + box["height"] + 1, t
        shown = " ".join(t["text"] for t in texts)
        for word in (*LONG_FA.split(), *LONG_EN.split()):
            assert word in shown, word  # wrapped, never cut
        shot(page, f"{lang}-journeys-funnel-long-names")
    assert errors == []


def test_sankey_folds_each_step_into_other(browser: Any, shop: tuple[str, Site]) -> None:
    base, _ = shop
    page, errors = _open(browser, base)
    for lang in _each_language(page, base, "/journeys?per_step=1"):
        option = page.locator("#chart-sankey").evaluate(SPEC)
        nodes = option["series"][0]["data"]
        steps: dict[str, int] = {}
        for n in nodes:
            steps[n["name"].split(":", 1)[0]] = steps.get(n["name"].split(":", 1)[0], 0) + 1
        assert max(steps.values()) <= 2  # one kept activity and "Other" per step
        other = "سایر" if lang == "fa" else "Other"
        assert any(n["label"] == other for n in nodes)
        shot(page, f"{lang}-journeys-sankey-other")
    assert errors == []


def test_emotion_curve_has_an_axis_per_measure(browser: Any, shop: tuple[str, Site]) -> None:
    base, _ = shop
    page, errors = _open(browser, base)
    query = urlencode({"stages": f"browse: {LONG_FA}\nbuy: {LONG_EN}"})
    for lang in _each_language(page, base, "/journeys?" + query):
        page.wait_for_function("document.querySelector('#chart-emotion[data-drawn]') !== null")
        option = page.locator("#chart-emotion").evaluate(SPEC)
        axes = option["yAxis"]
        nps = axes[option["series"][0]["yAxisIndex"]]
        assert (nps["min"], nps["max"]) == (-100, 100)
        assert nps["name"] == ("NPS (از −۱۰۰ تا ۱۰۰)" if lang == "fa" else "NPS (−100 to 100)")
        # Two promoters, one passive, one detractor: an NPS of 25 in the buying stage.
        assert option["series"][0]["data"] == [None, 25.0]
        legend = [s["name"] for s in option["series"]]
        assert legend[0] == ("شاخص خالص ترویج (NPS)" if lang == "fa" else "Net Promoter Score")
        for s in option["series"][1:]:
            axis = axes[s["yAxisIndex"]]
            assert s["yAxisIndex"] != 0 and axis["name"] != nps["name"]
            if s["name"] in ("احساس متن", "Text sentiment"):
                assert (axis["min"], axis["max"]) == (-1, 1)
        shot(page, f"{lang}-journeys-emotion")
    assert errors == []


def test_funnel_step_to_customers_to_segment_csv_and_journey(
    browser: Any, shop: tuple[str, Site]
) -> None:
    base, site = shop
    api = _api(site, base)
    expected = sorted(
        api.get("/api/profiles/lookup", params={"type": "user_id", "value": u}).json()["id"]
        for u in DROPPING
    )
    page, errors = _open(browser, base, "analyst")
    page.goto(f"{base}/journeys?" + urlencode(FUNNEL))
    page.click("#funnel-steps a.drill[data-step='1']")
    page.wait_for_url("**/journeys/customers?**")
    assert page.locator("#drill-customers tbody tr").count() == 2
    assert "۲" in page.locator("#drill-count").inner_text()
    shot(page, "fa-journeys-drilldown")
    drill_url = page.url

    # CSV: the same customers.
    res = page.request.get(base + page.locator("#export-csv").get_attribute("href"))
    assert res.ok
    rows = list(csv.DictReader(io.StringIO(res.text())))
    assert sorted(r["profile_id"] for r in rows) == expected

    # Save as a segment: its members are exactly those customers.
    page.fill("#save-segment input[name=name]", "ریزش پس از مشاهده")
    page.click("#save-segment button[type=submit]")
    page.wait_for_url("**/customers?segment=**")
    segment_id = parse_qs(urlparse(page.url).query)["segment"][0]
    members = api.get(f"/api/segments/{segment_id}/members").json()
    assert members["profile_ids"] == expected
    assert api.get(f"/api/segments/{segment_id}").json()["listed"] is True

    # The page's segment filter then narrows the charts to them (they never did step 2, so
    # the funnel says so in place).
    page.goto(f"{base}/journeys?" + urlencode({**FUNNEL, "segment": segment_id}))
    assert page.locator("#f-segment").input_value() == segment_id
    assert "۲ از ۲ مشتری" in page.locator("#process-summary").inner_text()
    assert "steps:" in page.locator("#funnel .error").inner_text()

    # Enter them into a live journey started from the API, once each.
    flow = api.post("/api/journeys/flows", json={
        "name": "پیگیری ریزش", "trigger": {"type": "api"}, "start": "pause",
        "nodes": [{"id": "pause", "type": "delay", "seconds": 86400}]}).json()  # fmt: skip
    assert api.post(f"/api/journeys/flows/{flow['id']}/publish").status_code == 200
    for attempt in (2, 0):  # a repeated click enters nobody again
        page.goto(drill_url)
        page.select_option("#flow-id", flow["id"])
        page.click("#enter-journey button[type=submit]")
        page.wait_for_selector("#entered")
        assert page.locator("#entered").inner_text().startswith("۲" if attempt else "۰")
    instances = api.get(f"/api/journeys/flows/{flow['id']}/instances").json()
    assert sorted(i["profile_id"] for i in instances) == expected
    shot(page, "fa-journeys-drilldown-entered")
    assert errors == []
