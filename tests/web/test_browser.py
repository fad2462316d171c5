"""The dashboard in real headless Chromium (Debian's), against the real app served by uvicorn.

Screenshots of every page in both languages go to test-artifacts/screens/.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.factories import Site, needs_chromium
from tests.web.factories import shot as _shot
from tests.web.factories import sign_in_page as _sign_in

PERSIAN_DIGIT = re.compile(r"[۰-۹]")

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium


def _charts_drawn(page: Any) -> list[dict[str, Any]]:
    page.wait_for_function("document.querySelectorAll('[data-drawn]').length === 3")
    result: list[dict[str, Any]] = page.evaluate(
        """() => [...document.querySelectorAll('[data-chart-for]')].map(el => {
            const chart = echarts.getInstanceByDom(el);
            const series = chart.getOption().series;
            const canvas = el.querySelector('canvas');
            const ctx = canvas.getContext('2d');
            const px = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
            let painted = 0;
            for (let i = 3; i < px.length; i += 4) { if (px[i] > 0) painted++; }
            const points = series.reduce((n, s) => n + s.data.length, 0);
            const total = series.reduce((n, s) => n + s.data.reduce(
                (m, d) => m + (typeof d === 'number' ? d : d.value), 0), 0);
            return {id: el.id, points, total, painted};
        })"""
    )
    return result


def test_walkthrough_in_both_languages(browser: Any, served: tuple[str, Site]) -> None:
    base, _ = served
    context = browser.new_context(
        viewport={"width": 1280, "height": 900}, permissions=["clipboard-read", "clipboard-write"]
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: dialog.accept())

    # Sign in: Persian by default, right to left, Jalali dates, Persian digits, drawn charts.
    _sign_in(page, base, "admin")
    # The overview shows the last 30 days up to today; the seed's events are older: choose their
    # days (the menu keeps the range from here on).
    page.goto(f"{base}/?period=custom&from=2026-02-20&to=2026-03-01")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.get_attribute("html", "lang") == "fa"
    charts = _charts_drawn(page)
    assert {c["id"] for c in charts} == {"chart-daily", "chart-channels", "chart-top"}
    for chart in charts:
        assert chart["points"] > 0 and chart["total"] > 0 and chart["painted"] > 1000, chart
    first_time = page.inner_text("#latest time")
    assert "اسفند" in first_time and PERSIAN_DIGIT.search(first_time), first_time
    assert PERSIAN_DIGIT.search(page.inner_text("#kpi-events"))
    family = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert family.strip('"').startswith("Vazirmatn"), family
    # The vendored font file really loads (no CDN, no system fallback).
    assert page.evaluate("document.fonts.load('16px Vazirmatn', 'سفر').then(f => f.length)") > 0
    _shot(page, "fa-overview")

    # Search a customer by phone: an exact identifier opens the profile.
    page.click("[data-nav=customers]")
    _shot(page, "fa-customers")
    page.fill("#q", "09121234567")
    page.press("#q", "Enter")
    page.wait_for_selector("#timeline")
    assert "سارا احمدی" in page.inner_text("h1")
    channels = page.eval_on_selector_all("#timeline li", "els => els.map(e => e.dataset.channel)")
    assert {"phone", "web"} <= set(channels)
    assert page.locator("#timeline .channel svg").count() == len(channels)
    assert "Customer 0" in page.inner_text("#household")  # the other household member
    _shot(page, "fa-profile")

    # Filter the timeline to phone events.
    page.check("input[name=channel][value=phone]")
    page.click("#timeline-filters button[type=submit]")
    page.wait_for_load_state()
    filtered = page.eval_on_selector_all("#timeline li", "els => els.map(e => e.dataset.channel)")
    assert filtered and set(filtered) == {"phone"}

    # Unmerge (admin): the confirm dialog is accepted, the profiles split.
    page.click("[data-unmerge]")
    page.wait_for_selector("#unmerged-notice")
    assert page.locator("[data-unmerge]").count() == 0

    # Settings: create a key and see the copy button.
    page.click("[data-nav=settings]")
    page.fill("#key-form input[name=name]", "Android")
    page.click("#key-form button[type=submit]")
    page.wait_for_selector("#new-keys")
    new_key = page.inner_text("#new-keys code")
    assert new_key.startswith("wk_")
    page.click("#new-keys button[data-copy]")
    page.wait_for_function(
        "document.querySelector('#new-keys button[data-copy]').textContent === 'کپی شد'"
    )
    assert page.evaluate("navigator.clipboard.readText()") == new_key
    _shot(page, "fa-settings")

    # Switch to English: left to right, Gregorian dates, Latin digits; every page again.
    # The switch posts a form; wait for the page it leads to, not the one already loaded.
    with page.expect_navigation():
        page.click("#lang-switch")
    assert page.get_attribute("html", "dir") == "ltr"
    _shot(page, "en-settings")
    page.click("[data-nav=overview]")
    _charts_drawn(page)
    assert re.search(r"\b20\d\d\b", page.inner_text("#latest time"))
    _shot(page, "en-overview")
    page.click("[data-nav=customers]")
    _shot(page, "en-customers")
    page.fill("#q", "sara@example.com")
    page.press("#q", "Enter")
    page.wait_for_selector("#timeline")
    _shot(page, "en-profile")
    # Back to Persian for the next run of the same user.
    with page.expect_navigation():
        page.click("#lang-switch")
    assert page.get_attribute("html", "dir") == "rtl"
    assert errors == []
    context.close()


def test_phone_layout_and_viewer(browser: Any, served: tuple[str, Site]) -> None:
    base, _ = served
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    _sign_in(page, base, "viewer")
    assert page.locator("[data-nav=settings]").count() == 0
    _charts_drawn(page)
    # Nothing overflows the phone's width.
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    _shot(page, "fa-overview-phone")
    res = page.goto(f"{base}/settings")
    assert res is not None and res.status == 403
    assert page.locator("#error-page").count() == 1
    _shot(page, "fa-forbidden")
    page.goto(f"{base}/login?lang=en")
    _shot(page, "en-login")
    context.close()
