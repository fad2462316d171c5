"""Numbers and customer data keep their order in both directions (percent, minus, isolation)."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from safar.runtime import Runtime
from safar.web.i18n import Formatter
from tests.web.factories import Site, needs_chromium, page_csrf, sign_in
from tests.web.factories import sign_in_page as _sign_in
from tests.web.seed import NOW, rows_for

LRM_MINUS = "\u200e\u2212"  # CLDR's Persian minus: a left-to-right mark, then U+2212
CITY = "تهران."  # a Persian value ending in a period


def _visit_store(runtime: Runtime, workspace_id: str) -> None:
    """Sara visits a store; the event's property is a Persian value ending in a period."""
    message = {
        "type": "track",
        "userId": "sara-42",
        "event": "Store Visited",
        "messageId": "bidi-1",
        "properties": {"city": CITY},
        "timestamp": NOW.isoformat(),
        "context": {"channel": "store"},
    }
    runtime.applier.apply(rows_for(workspace_id, [message]))
    if runtime.consumer is not None:
        runtime.consumer.wait_applied()


def test_percent_uses_each_locale_sign() -> None:
    fa, en = Formatter("fa"), Formatter("en", "gregorian", "UTC")
    assert fa.percent(42.54) == "۴۲٫۵٪" and fa.percent(100) == "۱۰۰٪" and fa.percent(0) == "۰٪"
    assert en.percent(42.54) == "42.5%" and en.percent(100) == "100%" and en.percent(0) == "0%"
    assert en.percent(12.345, 2) == "12.35%" and fa.percent(None) == en.percent(None) == "–"
    assert "٪" not in "".join(en.percent(v) for v in (-5, 0, 3.5, 100))


def test_negative_numbers_keep_their_minus_before_the_digits() -> None:
    fa, en = Formatter("fa"), Formatter("en", "gregorian", "UTC")
    assert fa.number(-100) == LRM_MINUS + "۱۰۰" and fa.number(-1234.5) == LRM_MINUS + "۱٬۲۳۴٫۵"
    assert fa.percent(-3.2) == LRM_MINUS + "۳٫۲٪"
    assert en.number(-100) == "-100" and en.percent(-3.2) == "-3.2%"
    # Zero, and what rounds to zero, has no sign in either language.
    assert fa.number(0) == "۰" and fa.number(-0.0) == "۰" and fa.number(-0.0001) == "۰"
    assert en.number(0) == "0" and en.number(-0.0) == "0" and en.number(-0.0001) == "0"


async def test_english_journeys_page_has_no_persian_percent(web: httpx.AsyncClient) -> None:
    await sign_in(web, "viewer")
    await web.post("/prefs/language", data={"language": "en", "csrf_token": await page_csrf(web)})
    res = await web.get("/journeys", params={"steps": "Product Viewed, Order Completed"})
    assert res.status_code == 200
    assert 'dir="ltr"' in res.text and re.search(r"\d%</td>", res.text)
    assert "٪" not in res.text


async def test_property_chips_isolate_key_and_value(web: httpx.AsyncClient, site: Site) -> None:
    _visit_store(site.runtime, site.workspace_id)
    await sign_in(web, "agent")
    res = await web.get("/customers", params={"q": "sara@example.com"}, follow_redirects=True)
    assert res.status_code == 200 and "timeline" in res.text
    assert f"<bdi>city</bdi>: <bdi>{CITY}</bdi>" in res.text
    assert "<dt><bdi>plan</bdi></dt>" in res.text  # trait keys too


def _chip_boxes(page: Any) -> dict[str, float]:
    """Left edges of the key's first letter, the colon, and the value's first and last letters."""
    boxes: dict[str, float] = page.evaluate(
        """(city) => {
            const chip = [...document.querySelectorAll('.props > *')]
                .find(c => c.textContent.includes(city));
            const chars = [];
            const walk = document.createTreeWalker(chip, NodeFilter.SHOW_TEXT);
            for (let n = walk.nextNode(); n; n = walk.nextNode()) {
                for (let i = 0; i < n.length; i++) {
                    const r = document.createRange();
                    r.setStart(n, i); r.setEnd(n, i + 1);
                    chars.push({c: n.data[i], x: r.getBoundingClientRect().left});
                }
            }
            const text = chars.map(c => c.c).join('');
            const v = text.indexOf(city);
            return {key: chars[text.indexOf('city')].x, colon: chars[text.indexOf(':')].x,
                    first: chars[v].x, period: chars[v + city.length - 1].x};
        }""",
        CITY,
    )
    return boxes


@needs_chromium
@pytest.mark.parametrize("language", ["fa", "en"])
def test_persian_value_keeps_its_period_at_the_end(
    browser: Any, served: tuple[str, Site], language: str
) -> None:
    base, site = served
    _visit_store(site.runtime, site.workspace_id)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    _sign_in(page, base, "admin")
    if page.get_attribute("html", "lang") != language:
        page.click("#lang-switch")
        page.wait_for_load_state()
    page.goto(f"{base}/customers?q=sara@example.com")
    assert page.get_attribute("html", "lang") == language
    box = _chip_boxes(page)
    # Right to left, the period is the value's last letter: it sits at the value's left end.
    assert box["period"] < box["first"], box
    if language == "fa":  # key, colon, value from right to left
        assert box["key"] > box["colon"] > box["first"], box
    else:  # key, colon, value from left to right
        assert box["key"] < box["colon"] < box["period"], box
    # The chart formatter (Intl, as in static/app.js) writes the same minus as the server.
    minus = page.evaluate("() => new Intl.NumberFormat('fa-IR').format(-100)")
    assert minus == Formatter("fa").number(-100)
    context.close()
