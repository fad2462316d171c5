"""The journeys page: process map, funnel, Sankey, journey map and drivers, in fa and en."""

from __future__ import annotations

import json
import re

import httpx

from tests.web.conftest import page_csrf, sign_in


def _spec(html: str, chart_id: str) -> dict[str, object]:
    m = re.search(
        rf'<script type="application/json" id="{chart_id}-data">(.*?)</script>', html, re.S
    )
    assert m, f"no chart {chart_id}"
    return json.loads(m.group(1))


async def test_journeys_page_in_persian(web: httpx.AsyncClient) -> None:
    await sign_in(web, "viewer")
    res = await web.get(
        "/journeys",
        params={
            "steps": "Product Viewed, Order Completed",
            "window": "7d",
            "stages": "browse: Product Viewed\nbuy: Order Completed",
        },
    )
    assert res.status_code == 200, res.text[:500]
    html = res.text
    assert 'dir="rtl"' in html and "نقشهٔ فرایند" in html and "قیف" in html
    graph = _spec(html, "chart-process")
    assert graph["kind"] == "graph" and graph["links"]
    funnel = _spec(html, "chart-funnel")
    values = [d["value"] for d in funnel["series"][0]["data"]]  # type: ignore[index]
    assert values[0] >= values[1] > 0
    sankey = _spec(html, "chart-sankey")
    assert sankey["kind"] == "sankey" and sankey["links"]
    assert 'id="stages"' in html and "browse" in html
    # No survey answers in the seed: the drivers card says so instead of failing the page.
    assert "survey_answered" in html


async def test_journeys_page_in_english_with_bad_input(web: httpx.AsyncClient) -> None:
    await sign_in(web, "viewer")
    token = await page_csrf(web)
    await web.post("/prefs/language", data={"language": "en", "csrf_token": token})
    res = await web.get(
        "/journeys", params={"steps": "Product Viewed, Teleported", "stages": "no colon here"}
    )
    assert res.status_code == 200
    html = res.text
    assert 'dir="ltr"' in html and "Process map" in html
    assert "no events named &#39;Teleported&#39;" in html
    assert "should read" in html  # the stage line error, shown in its card
    assert "chart-process" in html  # the other cards still render
