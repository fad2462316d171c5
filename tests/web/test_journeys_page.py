"""The journeys page: process map, funnel, Sankey, journey map and drivers, in fa and en."""

from __future__ import annotations

import json
import re

import httpx

from tests.web.factories import Site, page_csrf, scored_customers, sign_in


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
    # Each card's error names its field by the form's label, the reader's words isolated.
    assert "Steps: no events named <bdi>&#39;Teleported&#39;</bdi> in the chosen period" in html
    assert "Stages: line <bdi>1</bdi> should read <bdi>stage: event, event</bdi>" in html
    assert "chart-process" in html  # the other cards still render


async def test_funnel_any_order_with_breakdown_charts(web: httpx.AsyncClient) -> None:
    await sign_in(web, "viewer")
    params = {"steps": "Order Completed, Product Viewed", "window": "30d", "mode": "any"}
    res = await web.get("/journeys", params={**params, "breakdown": "channel"})
    assert res.status_code == 200, res.text[:500]
    html = res.text
    assert "به هر ترتیب" in html and "۲ از ۲ گام" in html  # any order, levels in Persian
    assert 'value="any" selected' in html and 'value="channel" selected' in html
    charts = re.findall(r'id="(chart-funnel-\d+)-data"', html)
    assert len(charts) >= 2  # one funnel per channel
    first = _spec(html, charts[0])
    assert first["kind"] == "funnel"
    assert 'id="funnel-breakdown"' in html
    # The other cards' forms and the filter bar keep the funnel's choices.
    assert html.count('name="breakdown" value="channel"') == 5  # filters, 4 cards
    res = await web.get(
        "/journeys",
        params={**params, "breakdown": "persona",
                "personas": "gold: plan eq gold\nnamed: name exists"},
    )  # fmt: skip
    assert res.status_code == 200
    names = {_spec(res.text, c)["series"][0]["name"]  # type: ignore[index]
             for c in re.findall(r'id="(chart-funnel-\d+)-data"', res.text)}  # fmt: skip
    assert "named" in names


async def test_funnel_breakdown_in_english_with_bad_input(web: httpx.AsyncClient) -> None:
    await sign_in(web, "viewer")
    token = await page_csrf(web)
    await web.post("/prefs/language", data={"language": "en", "csrf_token": token})
    steps = {"steps": "Product Viewed, Order Completed", "window": "30d"}
    res = await web.get("/journeys", params={**steps, "mode": "any", "breakdown": "trait",
                                             "bkey": "plan"})  # fmt: skip
    assert res.status_code == 200
    assert "In any order" in res.text and "No value" in res.text and "2 of 2 steps" in res.text
    for bad, message in (
        ({"breakdown": "trait", "bkey": "a b"}, "Break down by: <bdi>trait</bdi> needs a key"),
        ({"breakdown": "persona", "personas": "just words"}, "Personas: line <bdi>1</bdi> should"),
        ({"breakdown": "persona"}, "Personas: a persona breakdown needs persona rules"),
        ({"mode": "sideways"}, "Order: <bdi>sideways</bdi> is not one of the offered orders"),
        ({"breakdown": "colour"}, "Break down by: <bdi>colour</bdi> is not offered"),
    ):
        res = await web.get("/journeys", params={**steps, **bad})
        assert res.status_code == 200
        assert message in res.text, bad
        assert "chart-process" in res.text  # the other cards still render


async def test_key_drivers_in_words_with_the_unit_in_both_languages(
    web: httpx.AsyncClient, site: Site
) -> None:
    """The card runs the API's driver query and says its findings with the unit it was given
    (it used to drop it), in Persian with Persian digits and in English."""
    scored_customers(site)
    await sign_in(web, "viewer")
    res = await web.get("/journeys", params={"unit": "ستاره"})
    drivers = res.text.split('id="driver-list"', 1)[1].split("</ol>", 1)[0]
    # The factor in Persian (the event's name isolated), Persian digits, minus and decimal sign.
    assert "شمار رویدادهای <bdi>Support Chat</bdi>: \u200e−۵٫۰ <bdi>ستاره</bdi>" in drivers
    shown = re.sub(r"<[^>]*>", "", drivers)  # the text, not the links' addresses
    assert "بازهٔ اطمینان ۹۵٪" in shown and not re.search(r"[0-9]", shown)
    token = await page_csrf(web)
    await web.post("/prefs/language", data={"language": "en", "csrf_token": token})
    res = await web.get("/journeys", params={"unit": "stars"})
    drivers = res.text.split('id="driver-list"', 1)[1].split("</ol>", 1)[0]
    assert (
        "<bdi>Support Chat</bdi> (events): -5.0 <bdi>stars</bdi> (95% CI -5.30 to -4.70; "
        "30 with vs 30 without)" in drivers
    )


async def test_journeys_cover_all_time_unless_a_range_is_chosen(web: httpx.AsyncClient) -> None:
    await sign_in(web, "viewer")
    token = await page_csrf(web)
    await web.post("/prefs/language", data={"language": "en", "csrf_token": token})
    steps = {"steps": "Product Viewed, Order Completed"}

    def customers(html: str) -> int:
        m = re.search(r"followed by ([\d,]+) of [\d,]+ customers", html)
        assert m, "no process map"
        return int(m.group(1).replace(",", ""))

    everything = await web.get("/journeys", params=steps)
    assert 'value="all" selected' in everything.text
    # The seed's last day (1 March, Tehran): only the events of that day are mapped.
    day = {"from": "2026-03-01", "to": "2026-03-01"}
    one_day = await web.get("/journeys", params=steps | day)
    assert 'value="custom" selected' in one_day.text
    assert 0 < customers(one_day.text) < customers(everything.text)
    # Every card's form carries the range, the range's form carries the funnel's steps.
    assert one_day.text.count('name="from" value="2026-03-01"') >= 4
    assert 'name="steps" value="Product Viewed, Order Completed"' in one_day.text
    empty = await web.get("/journeys", params=steps | {"from": "2025-01-01", "to": "2025-01-02"})
    assert empty.status_code == 200 and 'role="alert"' in empty.text  # said in place
