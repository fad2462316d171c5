"""The customer timeline shows every property of an event: a few inline, the rest one click away."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
from markupsafe import escape

from safar.identity import service as identity
from tests.web.factories import Site, answered_survey, needs_chromium, shot, sign_in, sign_in_page
from tests.web.seed import NOW, rows_for

NINE: dict[str, Any] = {
    "order_id": "ord-1",
    "total": 1250000,
    "currency": "IRR",
    "city": "اصفهان",
    "coupon": "NOWRUZ",
    "items": [{"sku": "tea", "qty": 2}],
    "gift": True,
    "note": None,
    "courier": "پیک سریع",
}


def _chip(key: str, value: str) -> str:
    return f"<bdi>{escape(key)}</bdi>: <bdi>{escape(value)}</bdi>"


def _apply(site: Site, messages: list[dict[str, Any]]) -> None:
    site.runtime.applier.apply(rows_for(site.workspace_id, messages))
    if site.runtime.consumer is not None:
        site.runtime.consumer.wait_applied()


async def _profile_of(web: httpx.AsyncClient, identifier: str) -> str:
    found = await web.get("/customers", params={"q": identifier})
    assert found.status_code == 303
    page = await web.get(found.headers["location"])
    assert page.status_code == 200
    return page.text


def _order_with_nine(site: Site) -> None:
    message = {
        "type": "track",
        "userId": "sara-42",
        "event": "Order Completed",
        "messageId": "nine-props",
        "properties": NINE,
        "timestamp": (NOW + timedelta(hours=1)).isoformat(),
        "context": {"channel": "web"},
    }
    _apply(site, [message])


async def test_all_nine_properties_are_on_the_page(web: httpx.AsyncClient, site: Site) -> None:
    _order_with_nine(site)
    await sign_in(web, "viewer")
    text = await _profile_of(web, "09121234567")
    shown = {
        "order_id": "ord-1",
        "total": "1250000",
        "currency": "IRR",
        "city": "اصفهان",
        "coupon": "NOWRUZ",
        "items": '[{"sku":"tea","qty":2}]',  # nested values as compact JSON, not Python's repr
        "gift": "true",
        "note": "null",
        "courier": "پیک سریع",
    }
    for key, value in shown.items():
        assert _chip(key, value) in text, key
    # Five inline, four behind a disclosure that works without JavaScript.
    inline, hidden = text.split('<details class="more-props', 1)
    assert _chip("coupon", "NOWRUZ") in inline and _chip("items", shown["items"]) not in inline
    assert "<summary>۴ مورد دیگر</summary>" in hidden.split("</details>", 1)[0]


async def test_survey_answer_shows_its_score_and_text(web: httpx.AsyncClient, site: Site) -> None:
    answered_survey(site)  # user "u" answers an NPS survey five times, once with a comment
    site.runtime.scheduler.run_due()  # the answers become survey_answered events
    if site.runtime.consumer is not None:
        site.runtime.consumer.wait_applied()
    with site.runtime.db.session() as s:
        pid = identity.lookup(s, workspace_id=site.workspace_id, type_="user_id", value="u")
    await sign_in(web, "viewer")
    page = await web.get(f"/customers/{pid}")
    assert page.status_code == 200
    text = page.text
    assert "survey_answered" in text
    assert _chip("nps", "6") in text and _chip("text", "پیک خیلی دیر رسید") in text


@needs_chromium
def test_more_properties_open_without_javascript(browser: Any, served: tuple[str, Site]) -> None:
    base, site = served
    _order_with_nine(site)
    context = browser.new_context(
        java_script_enabled=False, viewport={"width": 1280, "height": 900}
    )
    page = context.new_page()
    sign_in_page(page, base, "admin")
    page.goto(f"{base}/customers?q=sara@example.com")
    courier = page.locator(".more-props .prop", has_text="پیک سریع")
    assert not courier.is_visible()
    courier_chip = page.locator(".prop", has_text="پیک سریع")
    page.locator(".more-props", has=courier_chip).locator("summary").click()
    assert courier.is_visible()
    shot(page, "timeline-more-props-fa")
    context.close()
