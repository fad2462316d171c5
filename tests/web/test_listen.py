"""The Listen page through the real app: its numbers are the text facades' for the range, the
comments drill down by label, channel, source, survey and segment and link to their customers,
and a reader with the ``settings`` permission corrects a label (stored, counted, exported);
in Chromium it reads well in Persian and English."""

from __future__ import annotations

import html
import json
import re
from datetime import date
from typing import Any

import httpx
import pytest

from safar.app import create_app
from safar.identity import service as identity
from safar.kit.conditions import TraitCondition
from safar.runtime import Runtime
from safar.segments import service as segments
from safar.segments.schemas import SegmentCreate
from safar.text import service as text
from safar.text.schemas import TextSlice
from safar.web.filters import parse_filters
from safar.web.i18n import Formatter
from tests.surveys.factories import send_event
from tests.text.factories import DAY, send_texts, themed_texts
from tests.web.factories import (
    Site,
    csrf_of,
    make_site,
    needs_chromium,
    shot,
    sign_in,
    sign_in_page,
)

RANGE = {"period": "custom", "from": "2026-05-04", "to": "2026-05-10"}
EN = Formatter(language="en", calendar="gregorian")
SHOWN = re.compile(r'class="verbatim" id="v-\d+" data-message="([^"]+)"')


@pytest.fixture
def texts(site: Site) -> Site:
    send_texts(site.runtime, site.workspace_id)
    return site


def _slice(site: Site, **kw: Any) -> TextSlice:
    f = parse_filters(
        {"period": "custom", "from": RANGE["from"], "to": RANGE["to"]},
        today=DAY.date(), tz=site.runtime.settings.timezone, jalali=False,
    )  # fmt: skip
    return TextSlice(site.workspace_id, *f.range(), tz=f.tz, **kw)


async def _english(web: httpx.AsyncClient) -> None:
    token = csrf_of((await web.get("/")).text)
    await web.post("/prefs/language", data={"language": "en", "csrf_token": token})


def _chart(page: str, chart_id: str) -> dict[str, Any]:
    match = re.search(rf'id="{chart_id}-data">(.*?)</script>', page, re.S)
    assert match, f"no chart {chart_id}"
    spec: dict[str, Any] = json.loads(match.group(1))
    return spec


async def test_the_page_shows_the_facades_numbers(texts: Site, web: httpx.AsyncClient) -> None:
    await sign_in(web, "viewer")
    await _english(web)
    res = await web.get("/listen", params=RANGE)
    assert res.status_code == 200, res.text[:400]
    with texts.runtime.db.session() as s:
        counts = text.listen_counts(s, texts.runtime.store, _slice(texts))
    assert counts.total == 5
    assert f'id="kpi-texts">{EN.number(counts.total)}<' in res.text
    assert 'id="kpi-sentiment-negative">60%<' in res.text  # 3 of 5
    sentiment = _chart(res.text, "chart-sentiment")
    assert len(sentiment["categories"]) == 7  # one bar per day of the range
    by_name = {s["name"]: sum(s["data"]) for s in sentiment["series"]}
    assert (
        by_name
        == {"Positive": 2, "Negative": 3}
        == {k.title(): n for k, n in counts.of("sentiment").items()}
    )
    emotion = {s["name"]: sum(s["data"]) for s in _chart(res.text, "chart-emotion")["series"]}
    assert emotion == {"Joy": 2, "Anger": 2, "Sadness": 1}
    rows = re.findall(r'data-category="(\w+)">.*?<bdi class="count">(\d+)</bdi>', res.text, re.S)
    assert {k: int(n) for k, n in rows} == dict(counts.of("category"))
    # The newest comments first, each linking to its customer.
    assert SHOWN.findall(res.text) == ["t-0", "t-1", "t-2", "t-3", "t-4"]
    with texts.runtime.db.session() as s:
        u0 = identity.lookup(s, workspace_id=texts.workspace_id, type_="user_id", value="u-0")
    assert f'href="/customers/{u0}"' in res.text
    assert '<bdi class="text">پیک خیلی دیر رسید و غذا سرد بود.</bdi>' in res.text
    # Surveys by name where their answers carry one, else by id.
    assert re.findall(r'<option value="(srv-\d)">([^<]+)</option>', res.text) == [
        ("srv-2", "srv-2"), ("srv-1", "پس از تحویل")]  # fmt: skip
    assert "<bdi>پس از تحویل</bdi>" in res.text
    assert "Correct the labels" not in res.text  # a viewer reads, never corrects


async def test_the_page_on_both_stacks(runtime: Runtime) -> None:
    """DuckDB+SQLite and ClickHouse+PostgreSQL: the same numbers, comments and correction."""
    site = make_site(runtime, data=False)
    send_texts(runtime, site.workspace_id)
    transport = httpx.ASGITransport(app=create_app(runtime=runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://safar.test") as web:
        await sign_in(web, "analyst")
        await _english(web)
        res = await _correct(web, message_id="t-0", sentiment="neutral")
        assert res.status_code == 303
        page = await web.get("/listen", params=RANGE | {"channel": "chat"})
    with runtime.db.session() as s:
        counts = text.listen_counts(s, runtime.store, _slice(site, channel="chat"))
        shown = text.verbatims(s, runtime.store, _slice(site, channel="chat"))
    assert dict(counts.of("sentiment")) == {"neutral": 1, "positive": 1}
    assert 'id="kpi-sentiment-neutral">50%<' in page.text
    assert SHOWN.findall(page.text) == [v.message_id for v in shown] == ["t-0", "t-1"]
    assert shown[0].profile_id and f'href="/customers/{shown[0].profile_id}"' in page.text


async def test_a_long_range_counts_per_week(texts: Site, web: httpx.AsyncClient) -> None:
    await sign_in(web, "viewer")
    await _english(web)
    long = {"period": "custom", "from": "2026-03-01", "to": "2026-05-10"}  # 71 days
    res = await web.get("/listen", params=long)
    assert "Sentiment per week" in res.text
    spec = _chart(res.text, "chart-sentiment")
    # Weeks start on Saturday in Tehran: 28 Feb (the week of 1 March) to 9 May, eleven weeks.
    assert (
        spec["categories"][0] == EN.short_date(date(2026, 2, 28)) and len(spec["categories"]) == 11
    )
    totals = {s["name"]: sum(s["data"]) for s in spec["series"]}
    assert totals == {"Positive": 2, "Negative": 4}  # the month-old complaint is in range now
    # 10 May (a Sunday) falls in the week of Saturday 9 May, with 9 May's text.
    assert [s["data"][-1] for s in spec["series"]] == [1, 1]


@pytest.mark.parametrize(
    ("params", "want"),
    [
        ({"sentiment": "negative"}, ["t-0", "t-2", "t-3"]),
        ({"emotion": "joy"}, ["t-1", "t-4"]),
        ({"category": "app"}, ["t-3"]),
        ({"channel": "email"}, ["t-2", "t-4"]),
        ({"source": "survey_answered", "sentiment": "negative"}, ["t-2"]),
        ({"survey": "srv-2"}, ["t-4"]),
    ],
)
async def test_drill_down(
    texts: Site, web: httpx.AsyncClient, params: dict[str, str], want: list[str]
) -> None:
    await sign_in(web, "viewer")
    res = await web.get("/listen", params=RANGE | params)
    assert res.status_code == 200, res.text[:400]
    assert SHOWN.findall(res.text) == want
    for name, value in params.items():
        assert re.search(rf'name="{name}"[^>]*>.*?<option value="{value}" selected', res.text, re.S)


async def test_paging_keeps_the_filters(texts: Site, web: httpx.AsyncClient) -> None:
    from safar.web.pages import listen

    await sign_in(web, "viewer")
    old, listen.PAGE_SIZE = listen.PAGE_SIZE, 2
    try:
        first = await web.get("/listen", params=RANGE | {"emotion": "anger"})
        assert SHOWN.findall(first.text) == ["t-0", "t-3"] and 'id="next-page"' not in first.text
        two = await web.get("/listen", params=RANGE)
        nxt = re.search(r'id="next-page" href="([^"]+)"', two.text)
        assert nxt
        second = await web.get(html.unescape(nxt.group(1)))
        assert SHOWN.findall(second.text) == ["t-2", "t-3"] and 'id="prev-page"' in second.text
        assert "from=2026-05-04" in html.unescape(nxt.group(1))
    finally:
        listen.PAGE_SIZE = old


async def test_a_segment_keeps_its_members_texts(texts: Site, web: httpx.AsyncClient) -> None:
    rt, ws = texts.runtime, texts.workspace_id
    send_event(rt, ws, type="identify", userId="u-2", traits={"plan": "gold"})
    with rt.db.session() as s:
        gold = segments.create_segment(s, workspace_id=ws, data=SegmentCreate(
            name="طلایی", conditions=[TraitCondition(key="plan", op="eq", value="gold")]))  # fmt: skip
    await sign_in(web, "viewer")
    res = await web.get("/listen", params=RANGE | {"segment": gold.id})
    assert SHOWN.findall(res.text) == ["t-3", "t-4"]
    assert f'<option value="{gold.id}" dir="auto" selected>طلایی</option>' in res.text
    assert 'id="kpi-texts">۲<' in res.text
    unknown = await web.get("/listen", params=RANGE | {"segment": "seg_nope"})
    assert 'data-field="segment"' in unknown.text and len(SHOWN.findall(unknown.text)) == 5


async def _correct(web: httpx.AsyncClient, **form: str) -> httpx.Response:
    page = await web.get("/listen", params=RANGE)
    return await web.post("/listen/feedback", data={"csrf_token": csrf_of(page.text), **form})


async def test_an_analyst_corrects_a_label(texts: Site, web: httpx.AsyncClient) -> None:
    await sign_in(web, "analyst")
    await _english(web)
    back = "period=custom&from=2026-05-04&to=2026-05-10&sentiment=neutral"
    res = await _correct(web, message_id="t-3", sentiment="neutral", emotion="anger",
                         category="payment", back=back)  # fmt: skip
    assert res.status_code == 303 and res.headers["location"] == f"/listen?{back}"
    page = await web.get(res.headers["location"])
    assert SHOWN.findall(page.text) == ["t-3"]  # the corrected label is the one filtered on
    item = page.text.split('data-message="t-3"', 1)[1].split("</li>", 1)[0]
    assert "corrected" in item and "(model: Negative)" in item and "(model: App)" in item
    whole = await web.get("/listen", params=RANGE)
    assert 'id="kpi-sentiment-negative">40%<' in whole.text  # 2 of 5: the correction counts
    api = await web.get(
        "/api/text/feedback", headers={"Authorization": f"Bearer {texts.secret_key}"}
    )
    assert api.status_code == 200
    [rec] = api.json()["feedback"]
    assert (rec["message_id"], rec["sentiment"], rec["category"]) == ("t-3", "neutral", "payment")
    assert {c["user"] for c in rec["corrections"]} == {"analyst@example.com"}
    csv = await web.get("/api/text/feedback", params={"format": "csv"},
                        headers={"Authorization": f"Bearer {texts.secret_key}"})  # fmt: skip
    assert csv.text.splitlines()[1] == "The app crashed at checkout,neutral,,payment"
    assert (await web.get("/api/text/feedback")).status_code == 401  # a secret key, not a session


async def test_a_viewer_cannot_correct(texts: Site, web: httpx.AsyncClient) -> None:
    await sign_in(web, "viewer")
    res = await _correct(web, message_id="t-3", sentiment="positive")
    assert res.status_code == 403
    with texts.runtime.db.session() as s:
        assert text.feedback_export(s, texts.runtime.store, workspace_id=texts.workspace_id) == []


@pytest.mark.parametrize(
    ("form", "field"),
    [({"message_id": "t-3", "sentiment": "happy"}, "sentiment"),
     ({"message_id": "t-3", "category": "weather"}, "category"),
     ({"message_id": "nope", "sentiment": "positive"}, "message_id")],
)  # fmt: skip
async def test_bad_corrections_name_the_field(
    texts: Site, web: httpx.AsyncClient, form: dict[str, str], field: str
) -> None:
    await sign_in(web, "agent")
    await _english(web)
    res = await _correct(web, **form)
    assert res.status_code == (404 if field == "message_id" else 400)
    assert f'data-field="{field}">' in res.text, res.text[-600:]


async def test_a_bad_drill_down_label_names_the_field(texts: Site, web: httpx.AsyncClient) -> None:
    await sign_in(web, "viewer")
    res = await web.get("/listen", params=RANGE | {"emotion": "glee"})
    assert res.status_code == 400 and 'data-field="emotion">' in res.text
    assert "باید یکی از این‌ها باشد: <bdi>joy, anger" in res.text  # in the reader's language


async def test_themes_with_their_examples(site: Site, web: httpx.AsyncClient) -> None:
    send_texts(site.runtime, site.workspace_id, themed_texts())
    await sign_in(web, "viewer")
    res = await web.get("/listen", params=RANGE)
    topics = res.text.split('id="topics"', 1)[1].split("</section>", 1)[0]
    labels = re.findall(r'<bdi class="topic-label">([^<]+)</bdi>', topics)
    assert len(labels) >= 2 and any("دیر" in label for label in labels), labels
    assert "<q><bdi>" in topics and 'class="split"' in topics


async def test_without_texts(site: Site, web: httpx.AsyncClient) -> None:
    await sign_in(web, "viewer")
    res = await web.get("/listen", params=RANGE)
    assert res.status_code == 200 and 'id="no-texts"' in res.text and 'id="no-comments"' in res.text


@needs_chromium
def test_listen_in_chromium_in_both_languages(browser: Any, served: tuple[str, Site]) -> None:
    base, site = served
    send_texts(site.runtime, site.workspace_id)
    send_texts(site.runtime, site.workspace_id, themed_texts())
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in_page(page, base, "analyst")
    page.goto(f"{base}/listen?{'&'.join(f'{k}={v}' for k, v in RANGE.items())}")
    for language in ("fa", "en"):
        page.wait_for_function("document.querySelectorAll('[data-drawn]').length === 2")
        assert page.get_attribute("html", "dir") == ("rtl" if language == "fa" else "ltr")
        digits = page.inner_text("#kpi-texts")
        assert digits == ("۴۵" if language == "fa" else "45"), digits
        assert page.locator("#topics .topic").count() >= 2
        first = "#verbatims li:first-child"
        if language == "fa":  # correct the newest comment's sentiment in the browser
            page.click(f"{first} summary")
            page.select_option(f"{first} select[name=sentiment]", "positive")
            with page.expect_navigation():
                page.click(f"{first} .fix-form button")
            assert page.locator(f"{first} .corrected").count() == 1
            assert page.get_attribute(first, "data-sentiment") == "positive"
        page.click(f"{first} summary")
        # A Persian comment keeps its own direction, and its place on the right, on both pages.
        persian = "#verbatims li:first-child .text"
        assert page.eval_on_selector(persian, "e => getComputedStyle(e).direction") == "rtl"
        shot(page, f"{language}-listen")
        if language == "fa":
            page.click("#lang-switch")
            page.wait_for_selector("html[lang=en]")
    assert not errors, errors
    context.close()
