"""The journeys page in real headless Chromium: process map, funnel and Sankey are drawn."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import pytest

from tests.web.factories import Site, needs_chromium
from tests.web.factories import shot as _shot
from tests.web.factories import sign_in_page as _sign_in

pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium

QUERY = urlencode(
    {
        "steps": "Product Viewed, Order Completed",
        "stages": "browse: Product Viewed\nbuy: Order Completed",
    }
)
DRAWN = """() => [...document.querySelectorAll('[data-chart-for]')].map(el => {
    const canvas = el.querySelector('canvas');
    let painted = 0;
    if (canvas) {
        const px = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        for (let i = 3; i < px.length; i += 4) { if (px[i] > 0) painted++; }
    } else {  // an SVG chart (the funnel): the area its filled shapes cover
        for (const p of el.querySelectorAll('svg path')) {
            const r = p.getBoundingClientRect();
            if (p.getAttribute('fill') && p.getAttribute('fill') !== 'none') painted += r.width * r.height;
        }
    }
    return {id: el.id, type: echarts.getInstanceByDom(el).getOption().series[0].type, painted};
})"""


def test_journeys_page_draws_its_charts(browser: Any, served: tuple[str, Site]) -> None:
    base, _ = served
    page = browser.new_context(viewport={"width": 1280, "height": 1400}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, base, "viewer")
    for lang in ("fa", "en"):
        page.goto(f"{base}/journeys?{QUERY}")
        page.wait_for_function("document.querySelectorAll('[data-drawn]').length === 3")
        charts = {c["id"]: c for c in page.evaluate(DRAWN)}
        assert {k: c["type"] for k, c in charts.items()} == {
            "chart-process": "graph",
            "chart-funnel": "funnel",
            "chart-sankey": "sankey",
        }
        for chart in charts.values():
            assert chart["painted"] > 1000, chart
        assert page.locator("#stages tbody tr").count() == 2
        _shot(page, f"{lang}-journeys")
        if lang == "fa":
            page.click("#lang-switch")
            page.wait_for_load_state()
    assert errors == []


def test_funnel_breakdown_draws_a_chart_per_value(browser: Any, served: tuple[str, Site]) -> None:
    base, _ = served
    page = browser.new_context(viewport={"width": 1280, "height": 1400}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, base, "viewer")
    page.goto(f"{base}/journeys?" + urlencode(
        {"steps": "Product Viewed, Order Completed", "window": "30d", "mode": "any",
         "breakdown": "channel"}))  # fmt: skip
    n_values = page.locator("#funnel-breakdown tbody tr").count()
    assert n_values >= 2
    # process map, funnel, one funnel per value, Sankey
    page.wait_for_function(f"document.querySelectorAll('[data-drawn]').length === {n_values + 3}")
    charts = {c["id"]: c for c in page.evaluate(DRAWN)}
    per_value = [c for k, c in charts.items() if k.startswith("chart-funnel-")]
    assert len(per_value) == n_values
    for chart in per_value:
        assert chart["type"] == "funnel" and chart["painted"] > 1000, chart
    _shot(page, "fa-journeys-breakdown")
    # Changing the mode and breakdown in the form redraws the page with them.
    page.select_option("#funnel-form select[name=breakdown]", "")
    page.select_option("#funnel-form select[name=mode]", "strict")
    page.click("#funnel-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("#funnel-breakdown").count() == 0
    assert "mode=strict" in page.url
    assert errors == []
