"""The Customer 360 header: a person's scores, sentiment, orders, journeys, requested cases and
consent, from events applied through the one ingestion path, their survey answers and journeys;
the analysis badges of their texts on the timeline."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from safar.identity import service as identity
from safar.runtime import Runtime
from safar.surveys import presets
from safar.surveys import service as svc
from safar.web import customer360
from tests.flows.factories import publish, pump
from tests.surveys.factories import send_event
from tests.web.factories import Site, needs_chromium, page_csrf, shot, sign_in, sign_in_page

NOW = datetime.now(UTC).replace(microsecond=0)
PRAISE = "خیلی عالی بود، پیک به موقع رسید و همه چیز سالم بود. ممنونم!"
JALALI_DAY = re.compile(
    r"[۰-۹]+ (فروردین|اردیبهشت|خرداد|تیر|مرداد|شهریور|مهر|آبان|آذر|دی|بهمن|اسفند) [۰-۹]{4}"
)
COMPLAINT = "The app crashed twice at checkout and support never answered. Terrible."


def _ago(**delta: float) -> str:
    return (NOW - timedelta(**delta)).isoformat()


def _ticket_flow() -> dict[str, Any]:
    """A ticket opens: ask for a call back, then wait up to three days for it to close."""
    return {
        "name": "Ticket follow-up",
        "trigger": {"type": "event", "event": "Ticket Opened"},
        "start": "call",
        "nodes": [
            {"id": "call", "type": "case", "subject": "Call back", "priority": "high",
             "next": "closed"},
            {"id": "closed", "type": "wait", "event": "Ticket Closed", "timeout_s": 259200},
        ],
    }  # fmt: skip


def _answer_nps(rt: Runtime, ws: str, profile_id: str, score: int, when: datetime) -> None:
    """The person answers Safar's NPS survey through a link made for their profile."""
    with rt.db.session() as s:
        survey = svc.create_survey(s, workspace_id=ws, data=presets.template("nps"))
        inv = svc.invitation_for_profile(
            s, survey=survey, profile_id=profile_id, channel="web", now=when
        )
        opened = svc.Opened(inv, survey, svc.definition_of(survey), None)
        result = svc.submit_step(
            s, opened=opened, raw={"nps": str(score)}, step=0, now=when, tz="Asia/Tehran"
        )
        assert not result.errors


def nima(site: Site) -> str:
    """Nima visits anonymously (answers NPS 9, orders, praises the courier), signs up, orders,
    complains, has his two profiles merged, orders once more with both ids, answers an
    imported CSAT survey and opens a ticket that a journey follows; his profile id."""
    rt, ws = site.runtime, site.workspace_id
    # Another customer's ticket closed once: the journey's wait names an event seen here.
    send_event(
        rt, ws, type="track", userId="user-1", event="Ticket Closed", timestamp=_ago(days=30)
    )
    publish(rt, ws, _ticket_flow())
    send_event(
        rt,
        ws,
        type="identify",
        anonymousId="anon-nima",
        timestamp=_ago(days=10),
        traits={"name": "نیما رضایی", "phone": "09350000001"},
    )
    with rt.db.session() as s:
        anon = identity.lookup(s, workspace_id=ws, type_="anonymous_id", value="anon-nima")
    _answer_nps(rt, ws, anon, 9, NOW - timedelta(days=9))
    track: list[tuple[dict[str, str], str, dict[str, Any], str]] = [
        ({"anonymousId": "anon-nima"}, "survey_answered", {"nps": 3}, _ago(days=12)),
        ({"anonymousId": "anon-nima"}, "Order Completed",
         {"total": 1_250_000, "revenue": 1_100_000, "currency": "IRR"}, _ago(days=8)),
        ({"anonymousId": "anon-nima"}, "Review Submitted", {"text": PRAISE}, _ago(days=8)),
        ({"userId": "nima-7"}, "Order Completed", {"revenue": "750000", "currency": "irr"},
         _ago(days=6)),
        ({"userId": "nima-7"}, "Order Completed", {"value": 250_000, "currency": "IRR"},
         _ago(days=5)),
        ({"userId": "nima-7"}, "Order Completed", {"order_id": "no-value"}, _ago(days=5)),
        ({"userId": "nima-7"}, "Support Message", {"message": COMPLAINT}, _ago(days=4)),
    ]  # fmt: skip
    for ids, name, props, at in track:
        send_event(rt, ws, type="track", event=name, properties=props, timestamp=at, **ids)
    # Signing in on the device that browsed anonymously links and merges the two profiles.
    send_event(
        rt,
        ws,
        type="identify",
        userId="nima-7",
        anonymousId="anon-nima",
        timestamp=_ago(days=3),
        traits={"email": "nima@example.com"},
        context={
            "consent": {
                "preferences": [
                    {"purpose": "marketing", "channel": "sms", "granted": True},
                    {"purpose": "marketing", "channel": "email", "granted": False},
                ]
            }
        },
    )
    after = [
        ("Order Completed", {"total": 500_000, "currency": "IRR"}, _ago(days=2)),
        ("survey_answered", {"csat": 2, "survey_name": "Post-delivery (imported)"},
         _ago(days=1)),
        ("survey_answered", {"csat": 9}, _ago(hours=20)),  # off the CSAT scale
        ("Ticket Opened", {"topic": "refund"}, _ago(hours=2)),
    ]  # fmt: skip
    for name, props, at in after:
        send_event(
            rt,
            ws,
            type="track",
            userId="nima-7",
            anonymousId="anon-nima",
            event=name,
            properties=props,
            timestamp=at,
        )
    pump(rt)  # the journey starts, asks for the case; the scheduler stores its event
    assert rt.text_worker is not None and rt.text_worker.wait_idle(120)
    with rt.db.session() as s:
        return identity.lookup(s, workspace_id=ws, type_="user_id", value="nima-7")


def _summary(site: Site, profile_id: str) -> customer360.Summary:
    rt = site.runtime
    with rt.db.session() as s:
        prof = identity.get_profile(s, workspace_id=site.workspace_id, profile_id=profile_id)
        _, shown, _ = identity.timeline(
            s, rt.store, workspace_id=site.workspace_id, profile_id=prof.id, limit=50
        )
        return customer360.summary(
            s,
            rt.store,
            workspace_id=site.workspace_id,
            profile_id=prof.id,
            consent=prof.consent,
            shown=shown,
        )


def test_header_counts_the_merged_person_once(site: Site) -> None:
    pid = nima(site)
    with site.runtime.db.session() as s:
        profiles = identity.person_profile_ids(s, workspace_id=site.workspace_id, profile_id=pid)
    assert len(profiles) == 2  # the anonymous profile was merged into the signed-up one
    h = _summary(site, pid)
    # Five orders, the one sent with both ids once; total before revenue before value; the
    # order without a value counts but adds nothing; currencies compared in capitals.
    assert h.orders.count == 5 and not h.orders.partial
    assert h.orders.totals == {"IRR": 1_250_000 + 750_000 + 250_000 + 500_000}
    assert h.orders.last_at == NOW - timedelta(days=2)
    # NPS from Safar's survey, answered as the anonymous profile, beats an older imported 3;
    # CSAT from the newer imported event; the 9 off the 1-5 scale is not a CSAT.
    nps, csat = h.scores["nps"], h.scores["csat"]
    assert (nps.value, nps.high, nps.survey_name) == (9, 10, "NPS")
    assert nps.answered_at.replace(tzinfo=UTC) == NOW - timedelta(days=9)
    assert (csat.value, csat.high, csat.survey_name) == (2, 5, "Post-delivery (imported)")
    assert csat.answered_at == NOW - timedelta(days=1)
    assert "ces" not in h.scores
    # The two texts, oldest first: praise as the anonymous visitor, then the complaint.
    assert [m.label for m in h.moods] == ["positive", "negative"]
    first, second = (float(p.split(",")[1]) for p in h.spark.split())
    assert first < 12 < second  # above the zero line, then below it
    # One journey, waiting for the ticket to close; its case step asked for one case.
    [journey] = h.active_journeys
    assert (journey.flow_name, journey.status, journey.node) == (
        "Ticket follow-up",
        "waiting",
        "closed",
    )
    assert [(c.subject, c.priority) for c in h.cases] == [("Call back", "high")]
    assert [(c.purpose, c.channel, c.granted) for c in h.consent] == [
        ("marketing", "email", False),
        ("marketing", "sms", True),
    ]
    # Badges for the two texts on the timeline page, and for nothing else.
    assert sorted(a["sentiment_label"] for a in h.badges.values()) == ["negative", "positive"]


def _tile(html: str, name: str) -> str:
    start = html.index(f'id="c360-{name}"')
    end = html.find('<div class="tile"', start + 1)
    return html[start : end if end > 0 else html.index("</section>", start)]


def _plain(fragment: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", fragment)).strip()


async def test_header_reads_in_persian_and_english(web: httpx.AsyncClient, site: Site) -> None:
    pid = nima(site)
    await sign_in(web, "viewer")
    fa = (await web.get(f"/customers/{pid}")).text
    assert "۵" in _plain(_tile(fa, "orders")) and "۲٬۷۵۰٬۰۰۰ IRR" in _plain(_tile(fa, "orders"))
    assert "۹ /۱۰" in _plain(_tile(fa, "nps")) and "مروج" in _plain(_tile(fa, "nps"))
    assert "۲ /۵" in _plain(_tile(fa, "csat")) and "ناراضی" in _plain(_tile(fa, "csat"))
    assert "<bdi>Ticket follow-up</bdi>" in _tile(fa, "journeys")
    assert "در انتظار" in _plain(_tile(fa, "journeys"))
    assert "<bdi>Call back</bdi>" in _tile(fa, "cases") and "بالا" in _plain(_tile(fa, "cases"))
    assert "بازاریابی / پیامک" in _tile(fa, "consent")  # purpose and channel by their names
    # Jalali dates in Persian digits; the badges of both texts on the timeline.
    day = _plain(_tile(fa, "csat"))
    assert JALALI_DAY.search(day), day
    timeline = fa[fa.index('id="timeline"') :]
    assert timeline.count('class="badges"') == 2
    assert '<span class="badge s-positive">مثبت</span>' in timeline
    assert '<span class="badge s-negative">منفی</span>' in timeline

    csrf = await page_csrf(web, f"/customers/{pid}")
    await web.post("/prefs/language", data={"language": "en", "csrf_token": csrf})
    en = (await web.get(f"/customers/{pid}")).text
    assert "5" in _plain(_tile(en, "orders")) and "2,750,000 IRR" in _plain(_tile(en, "orders"))
    assert "9 /10 Promoter" in _plain(_tile(en, "nps"))
    assert "Journeys in progress 1 Ticket follow-up Waiting" in _plain(_tile(en, "journeys"))
    assert "Requested cases 1 Call back High" in _plain(_tile(en, "cases"))


async def test_a_person_with_nothing_gets_empty_states(web: httpx.AsyncClient, site: Site) -> None:
    rt, ws = site.runtime, site.workspace_id
    send_event(rt, ws, type="identify", userId="quiet-1", traits={"name": "Quiet"})
    with rt.db.session() as s:
        pid = identity.lookup(s, workspace_id=ws, type_="user_id", value="quiet-1")
    await sign_in(web, "viewer")
    await web.post("/prefs/language", data={"language": "en", "csrf_token": await page_csrf(web)})
    html = (await web.get(f"/customers/{pid}")).text
    expected = {
        "nps": "No answer yet",
        "csat": "No answer yet",
        "sentiment": "No analysed texts yet",
        "orders": "No orders yet",
        "journeys": "Not in a journey now",
        "cases": "No cases requested",
        "consent": "No consent recorded.",
    }
    for tile, sentence in expected.items():
        assert sentence in _tile(html, tile), tile
    assert 'class="badges"' not in html and '<svg class="spark"' not in html


@pytest.fixture(scope="module")
def nima_served(served: tuple[str, Site]) -> tuple[str, str]:
    """Nima's history on the served site, built once for the module's browser tests."""
    base, site = served
    return base, nima(site)


@needs_chromium
@pytest.mark.parametrize("language", ["fa", "en"])
def test_header_in_chromium(browser: Any, nima_served: tuple[str, str], language: str) -> None:
    base, pid = nima_served
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    sign_in_page(page, base, "analyst")
    if page.get_attribute("html", "lang") != language:
        with page.expect_navigation():
            page.click("#lang-switch")
    page.goto(f"{base}/customers/{pid}")
    assert page.get_attribute("html", "lang") == language
    header = page.locator("#c360")
    assert header.is_visible()
    tiles = header.locator(".tile")
    assert tiles.count() == 7
    # Tiles sit side by side in rows, none wider than the card.
    card = header.bounding_box()
    for i in range(tiles.count()):
        box = tiles.nth(i).bounding_box()
        assert box and card
        assert card["x"] <= box["x"] and box["x"] + box["width"] <= card["x"] + card["width"] + 1
    shot(page, f"customer360-{language}")
    if language == "en":  # leave the analyst in Persian for other tests
        with page.expect_navigation():
            page.click("#lang-switch")
    assert errors == []
    context.close()
