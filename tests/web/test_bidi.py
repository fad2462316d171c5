"""Numbers and customer data keep their order in both directions (percent, minus, isolation)."""

from __future__ import annotations

import re

import httpx

from safar.web.i18n import Formatter
from tests.web.factories import page_csrf, sign_in

LRM_MINUS = "\u200e\u2212"  # CLDR's Persian minus: a left-to-right mark, then U+2212


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
