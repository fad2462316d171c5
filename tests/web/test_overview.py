"""The CX overview through the real app: its numbers are the survey metrics, text analyses and
event counts of the chosen range, each against the previous period; the filters stay in links."""

from __future__ import annotations

import html
import re
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from safar.app import create_app
from safar.config import Settings
from safar.runtime import Runtime
from safar.surveys import metrics
from safar.surveys import service as svc
from safar.text import repository as text_repo
from safar.web.i18n import Formatter
from tests.surveys.factories import answer
from tests.web.factories import Site, answered_survey, page_csrf, sign_in

CLOCK = datetime(2026, 10, 28, 8, tzinfo=UTC)  # 6 Aban 1405
CURRENT = (date(2026, 10, 15), date(2026, 10, 28))
PREVIOUS = (date(2026, 10, 1), date(2026, 10, 14))
RANGE = {"period": "custom", "from": "2026-10-15", "to": "2026-10-28"}
EN = Formatter(language="en", calendar="gregorian")


@pytest.fixture
def cx_site(tmp_path: Path, site_template: Any) -> Iterator[Site]:
    """The seeded site on a runtime whose clock reads ``CLOCK`` (the overview's "today")."""
    data_dir = tmp_path / "safar"
    shutil.copytree(site_template.data_dir, data_dir)
    rt = Runtime(Settings(data_dir=data_dir), clock=lambda: CLOCK)
    try:
        yield Site(
            rt, site_template.workspace_id, site_template.write_key, site_template.secret_key
        )
    finally:
        rt.close()


@pytest.fixture
async def cx_web(cx_site: Site) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(runtime=cx_site.runtime))
    async with httpx.AsyncClient(transport=transport, base_url="http://safar.test") as c:
        await sign_in(c, "analyst")
        yield c


async def english(client: httpx.AsyncClient) -> None:
    token = await page_csrf(client)
    await client.post("/prefs/language", data={"language": "en", "csrf_token": token})


def answers_in_both_periods(site: Site) -> str:
    """NPS answers: 10 9 2 (3 Oct) and 3 4 5 (5 Oct) before; 10 10 9 9 by SMS (20 Oct) and
    10 6 (25 Oct) in the range."""
    survey_id = answered_survey(site)
    with site.runtime.db.session() as s:
        survey = svc.get_survey(s, workspace_id=site.workspace_id, survey_id=survey_id)
        s.expunge(survey)
    for day, channel, scores in ((5, "email", (3, 4, 5)), (20, "sms", (10, 10, 9, 9))):
        for score in scores:
            when = datetime(2026, 10, day, 9, tzinfo=UTC)
            answer(site.runtime, survey, site.workspace_id, when, channel, nps=score)
    return survey_id


def card(text: str, name: str) -> str:
    """The value shown in card ``name``."""
    match = re.search(rf'id="kpi-{name}">([^<]*)<', text)
    assert match, f"no card {name}"
    return html.unescape(match.group(1))


def change_of(text: str, name: str) -> tuple[str, str] | None:
    """(change text, data-significant) of card ``name``, or None when it shows no change."""
    block = text.split(f'id="card-{name}"', 1)[1].split('<div class="card kpi"', 1)[0]
    sig = re.search(r'data-significant="(\w+)"', block)
    value = re.search(r'<bdi class="change" dir="\w+">([^<]*)<', block)
    if not sig or not value:
        return None
    return html.unescape(value.group(1)), sig.group(1)


def nps_direct(site: Site, days: tuple[date, date], channel: str | None = None) -> dict[int, int]:
    f = metrics.Filters(site.workspace_id, channel=channel, start=days[0], end=days[1])
    with site.runtime.db.session() as s:
        return dict(metrics.histograms(s, metrics.METRICS["nps"], f, by=None, period="all")[
            (None, "all")
        ])  # fmt: skip


@pytest.mark.parametrize("channel", [None, "email"])
async def test_overview_numbers_are_the_survey_metrics_of_the_range(
    cx_site: Site, cx_web: httpx.AsyncClient, channel: str | None
) -> None:
    answers_in_both_periods(cx_site)
    await english(cx_web)
    params = RANGE | ({"channel": channel} if channel else {})
    res = await cx_web.get("/", params=params)
    assert res.status_code == 200, res.text[:300]
    assert 'id="filter-errors"' not in res.text
    nps = metrics.METRICS["nps"]
    now, before = nps_direct(cx_site, CURRENT, channel), nps_direct(cx_site, PREVIOUS, channel)
    want = nps.summarise(now)
    assert want["n"] == (2 if channel else 6)  # the SMS answers count only without the filter
    assert card(res.text, "nps") == EN.number(round(want["score"], 1))
    low, high = EN.number(round(want["ci_low"], 1)), EN.number(round(want["ci_high"], 1))
    assert f"<bdi>{low}</bdi> – <bdi>{high}</bdi>" in html.unescape(res.text)
    change = nps.compare(before, now)
    shown = change_of(res.text, "nps")
    want_change = f"{EN.signed(change['diff'])} pts"
    assert shown == (want_change, "yes" if change["significant"] else "no")
    f = metrics.Filters(cx_site.workspace_id, channel=channel, start=CURRENT[0], end=CURRENT[1])
    with cx_site.runtime.db.session() as s:
        rate = metrics.compute(s, "response_rate", f)[0].values
    assert card(res.text, "response-rate") == EN.percent(rate["rate_pct"])
    assert card(res.text, "csat") == "–"  # no CSAT question was asked


async def test_previous_period_comparison_can_be_turned_off(
    cx_site: Site, cx_web: httpx.AsyncClient
) -> None:
    answers_in_both_periods(cx_site)
    await english(cx_web)
    res = await cx_web.get("/", params=RANGE)
    # NPS went from -33.3 (2 promoters, 4 detractors) to 66.7 (5 promoters, 1 detractor).
    assert change_of(res.text, "nps") == ("+100 pts", "yes")
    assert "compared with 1 Oct 2026 – 14 Oct 2026" in res.text
    off = await cx_web.get("/", params=RANGE | {"compare": "0"})
    assert change_of(off.text, "nps") is None and "compared with" not in off.text
    # The checkbox form sends compare=0 then compare=1 when ticked: ticked wins.
    both = await cx_web.get("/?period=7d&compare=0&compare=1")
    assert 'id="f-compare" checked' in both.text


def analyse(site: Site, day: int, labels: list[tuple[str, str]]) -> None:
    """Analyses of texts sent on ``day`` October, as the text worker writes them."""
    rows = [
        {
            "workspace_id": site.workspace_id,
            "message_id": f"txt-{day}-{i}",
            "event_timestamp": datetime(2026, 10, day, 10, tzinfo=UTC),
            "source_field": "text",
            "language": "fa",
            "sentiment_label": sentiment,
            "sentiment_score": 0.5,
            "emotion": emotion,
        }
        for i, (sentiment, emotion) in enumerate(labels)
    ]
    text_repo.ensure_table(site.runtime.store)
    text_repo.insert_analyses(site.runtime.store, rows)


async def test_sentiment_and_emotion_shares_against_the_previous_period(
    cx_site: Site, cx_web: httpx.AsyncClient
) -> None:
    analyse(cx_site, 5, [("positive", "joy")] + [("negative", "anger")] * 3)
    analyse(cx_site, 20, [("positive", "joy")] * 6 + [("negative", "anger")] * 2)
    await english(cx_web)
    res = await cx_web.get("/", params=RANGE)
    assert card(res.text, "sentiment-positive") == "75%"
    assert card(res.text, "emotion-anger") == "25%"
    # Fisher's exact test on [[6, 2], [1, 3]]: p = 0.22, a rise of 50 points but not significant.
    assert change_of(res.text, "sentiment-positive") == ("+50 pts", "no")
    assert "Fisher&#39;s exact test, p = 0.222" in res.text
    fa = await cx_web.get("/", params=RANGE | {"compare": "0"})
    assert "75%" in fa.text


async def test_events_and_active_customers_of_the_range(
    cx_site: Site, cx_web: httpx.AsyncClient
) -> None:
    await english(cx_web)
    # The seed's events fall between 24 February and 1 March 2026.
    res = await cx_web.get("/", params={"from": "2026-02-20", "to": "2026-03-01"})
    store, ws = cx_site.runtime.store, cx_site.workspace_id
    assert card(res.text, "events") == EN.number(store.count(ws))
    # Six customers and Sara, whose anonymous visit before she signed up counts on its own.
    assert card(res.text, "active") == "8"
    empty = await cx_web.get("/", params={"from": "2026-04-01", "to": "2026-04-30"})
    assert card(empty.text, "events") == "0" and card(empty.text, "active") == "0"
    assert 'id="latest"' in empty.text  # latest activity is always the newest events


async def test_filters_survive_navigation_and_switches(cx_web: httpx.AsyncClient) -> None:
    res = await cx_web.get("/?period=7d&channel=web&segment=seg_1")
    assert 'id="filter-errors"' not in res.text
    kept = "?period=7d&amp;channel=web&amp;segment=seg_1"
    links = re.findall(r'<a href="([^"]+)" class="[^"]*" data-nav="(\w+)"', res.text)
    assert links and all(href.endswith(kept) for href, _ in links), links
    assert f'name="next" value="/{kept}"' in res.text  # workspace, language, calendar switches
    customers = await cx_web.get("/customers?period=7d&channel=web&segment=seg_1")
    assert f'href="/surveys{kept}"' in customers.text
    # The filter form itself carries the segment it does not show.
    assert 'name="segment" value="seg_1"' in res.text


async def test_bad_filter_shows_the_field_and_the_default(cx_web: httpx.AsyncClient) -> None:
    res = await cx_web.get("/", params={"from": "1405/13/40", "channel": "web"})
    assert res.status_code == 200
    errors = res.text.split('id="filter-errors"', 1)[1].split("</ul>", 1)[0]
    assert 'data-field="from"' in errors and "from:" in errors
    assert "yyyy/mm/dd" in errors  # the Persian message keeps the format it asks for
    # The default range (last 30 days up to the clock's day, in Jalali) is shown instead.
    assert 'id="f-period"' in res.text and 'value="30d" selected' in res.text
    assert "۶ آبان ۱۴۰۵" in res.text
    assert '<option value="web" selected' in res.text
