"""The CX overview and its date picker in real headless Chromium, in Persian and English.

Screenshots go to test-artifacts/screens/ (fa-overview-cx, fa-overview-picker, en-overview-cx).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import jdatetime
import pytest

from safar.surveys import presets
from safar.surveys import service as svc
from safar.text import repository as text_repo
from tests.surveys.factories import answer
from tests.web.factories import Site, needs_chromium
from tests.web.factories import shot as _shot
from tests.web.factories import sign_in_page as _sign_in

pytest.importorskip("playwright.sync_api")
pytestmark = needs_chromium

#: The seed's last days: 1 to 10 Esfand 1404.
SEED_RANGE = "/?period=custom&from=2026-02-20&to=2026-03-01"
#: The left edge of each character of an element's text, in reading (logical) order.
CHAR_X = """sel => {
    const out = [];
    const walk = document.createTreeWalker(document.querySelector(sel), NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
        for (let i = 0; i < n.length; i++) {
            const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
            out.push([n.data[i], r.getBoundingClientRect().left]);
        }
    }
    return out;
}"""
GRID = """() => [...document.querySelectorAll('.jpicker .days > *')].map(
    el => el.tagName === 'BUTTON' ? el.dataset.day : (el.textContent || '-'))"""


@pytest.fixture(scope="module", autouse=True)
def cx_answers(served: tuple[str, Site]) -> Iterator[None]:
    """NPS and CSAT answers and analysed texts in the seed's range and the ten days before."""
    _, site = served
    rt, ws = site.runtime, site.workspace_id
    plan = {
        "nps": ((12, (3, 5, 9, 10)), (25, (10, 9, 9, 7, 4, 10, 10))),
        "csat": ((13, (2, 3, 4)), (26, (5, 4, 5, 3))),
    }
    for kind, days in plan.items():
        with rt.db.session() as s:
            survey = svc.create_survey(s, workspace_id=ws, data=presets.template(kind))
            s.expunge(survey)
        for day, scores in days:
            for score in scores:
                when = datetime(2026, 2, day, 9, tzinfo=UTC)
                answer(rt, survey, ws, when, "email", **{kind: score})
    labels = [("positive", "joy")] * 5 + [("negative", "anger")] * 2 + [("neutral", "other")]
    text_repo.ensure_table(rt.store)
    text_repo.insert_analyses(rt.store, [
        {"workspace_id": ws, "message_id": f"cx-{i}", "source_field": "text", "language": "fa",
         "event_timestamp": datetime(2026, 2, 24 if i < len(labels) else 14, 10, tzinfo=UTC),
         "sentiment_label": sent, "emotion": emo, "sentiment_score": 0.0}
        for i, (sent, emo) in enumerate(labels + [("negative", "anger")] * 4)
    ])  # fmt: skip
    yield


def _query(page: Any) -> dict[str, list[str]]:
    return parse_qs(urlparse(page.url).query)


def test_overview_with_the_jalali_picker_and_the_english_date_fields(
    browser: Any, served: tuple[str, Site]
) -> None:
    base, _ = served
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _sign_in(page, base, "analyst")
    page.goto(base + SEED_RANGE)
    page.wait_for_function("document.querySelectorAll('[data-drawn]').length === 3")
    assert page.get_attribute("html", "dir") == "rtl"
    assert page.input_value("#f-from") == "۱۴۰۴/۱۲/۰۱"
    assert "۱ اسفند ۱۴۰۴" in page.inner_text("#range-line")
    assert page.inner_text("#kpi-events").strip() not in ("", "۰")
    for card in ("nps", "csat", "ces", "response-rate"):
        assert page.locator(f"#card-{card}").is_visible()
    # NPS of 7 answers (5 promoters, 1 detractor): 57.1, in Persian digits and decimal sign.
    assert page.inner_text("#kpi-nps") == "۵۷٫۱"
    assert page.inner_text("#kpi-sentiment-positive") == "۶۲٫۵٪"
    assert "+" in page.inner_text("#card-sentiment-positive .change")
    # Right to left: "+۵۷٫۱ واحد" reads number first, its sign on the number's left as CLDR
    # writes it; the interval's low bound (−۹٫۶) comes first, on the right.
    change = page.evaluate(CHAR_X, "#card-nps .change")
    x = {c: left for c, left in change}
    assert x["+"] < x["۵"] and x["و"] < x["+"], change
    interval = page.evaluate(CHAR_X, "#card-nps .interval")
    text = "".join(c for c, _ in interval)
    low, high = text.index("۹"), text.index("۸")
    assert interval[low][1] > interval[high][1], interval
    _shot(page, "fa-overview-cx")

    # The picker: Persian month name and digits, weeks from Saturday, 29 days in Esfand 1404.
    page.click("#f-from")
    page.wait_for_selector(".jpicker")
    assert page.inner_text(".jpicker .month") == "اسفند ۱۴۰۴"
    grid = page.evaluate(GRID)
    assert grid[:7] == ["ش", "ی", "د", "س", "چ", "پ", "ج"]
    first = jdatetime.date(1404, 12, 1).togregorian()
    lead = (first.weekday() + 2) % 7  # Saturday is the first column
    assert grid[7 : 7 + lead] == ["-"] * lead and grid[7 + lead] == "1404/12/01"
    assert sum(1 for d in grid if d.startswith("1404/12/")) == 29
    assert page.inner_text(".jpicker button[data-day='1404/12/05']") == "۵"
    _shot(page, "fa-overview-picker")
    # Back a month (Bahman has 30 days), pick its 25th, apply: the URL holds the new range.
    page.click(".jpicker button.prev")
    assert page.inner_text(".jpicker .month") == "بهمن ۱۴۰۴"
    page.click(".jpicker button[data-day='1404/11/25']")
    assert page.input_value("#f-from") == "۱۴۰۴/۱۱/۲۵"
    assert page.input_value("#f-period") == "custom"
    with page.expect_navigation():
        page.click("#f-apply")
    assert _query(page)["from"] == ["۱۴۰۴/۱۱/۲۵"] and _query(page)["period"] == ["custom"]
    assert "۲۵ بهمن ۱۴۰۴" in page.inner_text("#range-line")
    # The menu carries the range on: the customers page and back keep it.
    page.click("[data-nav=customers]")
    assert _query(page)["from"] == ["۱۴۰۴/۱۱/۲۵"]
    page.click("[data-nav=overview]")
    assert "۲۵ بهمن ۱۴۰۴" in page.inner_text("#range-line")

    # English: native date fields, Gregorian dates, Latin digits, the same range.
    with page.expect_navigation():
        page.click("#lang-switch")
    assert page.get_attribute("html", "dir") == "ltr"
    assert page.get_attribute("#f-from", "type") == "date"
    assert page.input_value("#f-from") == "2026-02-14"
    page.fill("#f-from", "2026-02-20")
    assert page.input_value("#f-period") == "custom"
    with page.expect_navigation():
        page.click("#f-apply")
    assert _query(page)["from"] == ["2026-02-20"]
    assert "20 Feb 2026" in page.inner_text("#range-line")
    assert page.inner_text("#kpi-nps") == "57.1"
    assert page.inner_text("#kpi-sentiment-positive") == "62.5%"
    page.wait_for_function("document.querySelectorAll('[data-drawn]').length === 3")
    _shot(page, "en-overview-cx")
    # One channel: the email answers stay, the events and texts of other channels go.
    page.select_option("#f-channel", "email")
    with page.expect_navigation():
        page.click("#f-apply")
    assert _query(page)["channel"] == ["email"] and _query(page)["from"] == ["2026-02-20"]
    assert page.inner_text("#kpi-nps") == "57.1"
    assert page.locator("#sentiment .kpi").count() == 0
    # A preset submits at once and replaces the typed range.
    with page.expect_navigation():
        page.select_option("#f-period", "7d")
    assert _query(page)["period"] == ["7d"] and "from" not in _query(page)
    # Back to Persian for the next test of the same user.
    with page.expect_navigation():
        page.click("#lang-switch")
    assert errors == []
    context.close()


def test_overview_filters_fit_a_phone(browser: Any, served: tuple[str, Site]) -> None:
    base, _ = served
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    _sign_in(page, base, "viewer")
    page.goto(base + SEED_RANGE)
    page.wait_for_function("document.querySelectorAll('[data-drawn]').length === 3")
    page.click("#f-to")
    page.wait_for_selector(".jpicker")
    assert page.evaluate("document.documentElement.scrollWidth") <= 400
    _shot(page, "fa-overview-cx-phone")
    context.close()
