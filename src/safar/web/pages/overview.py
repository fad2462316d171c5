"""Overview for CX: NPS, CSAT, CES, response rate, sentiment and emotion shares, events and
active customers of the chosen range against the previous one; events per day and channel, top
event types, latest activity.

The range, channel and comparison come from the shared filters (``safar.web.filters``); every
number comes from a domain facade (``surveys.service.kpis``, ``text.service.label_counts``, the
event store), the same ones the API and tests call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from safar.events.channels import CHANNELS
from safar.events.deps import EventsDep
from safar.events.store import EventStore, results
from safar.identity.service import profile_count
from safar.surveys import service as surveys
from safar.text import service as text
from safar.web import cards
from safar.web.filters import FiltersDep, PageFilters
from safar.web.i18n import N_
from safar.web.labels import CHANNEL_LABELS, TYPE_LABELS
from safar.web.nav import NavEntry, register_nav
from safar.web.render import Page, PageDep, render

router = APIRouter(include_in_schema=False)
register_nav(NavEntry("overview", "/", N_("Overview"), "home", order=10))


def _daily(store: EventStore, ws: str, f: PageFilters) -> dict[str, dict[date, int]]:
    since, until = f.range()
    per_channel: dict[str, dict[date, int]] = {}
    for day, channel, n in store.daily_channel_counts(
        ws, since=since, until=until, tz=f.tz, channel=f.channel
    ):
        per_channel.setdefault(channel, {})[day] = n
    return per_channel


def _texts(store: EventStore, ws: str, f: PageFilters) -> text.LabelCounts:
    since, until = f.range()
    return text.label_counts(store, workspace_id=ws, since=since, until=until, channel=f.channel)


def _active(store: EventStore, ws: str, f: PageFilters) -> int:
    since, until = f.range()
    return store.active_customers(ws, since=since, until=until, channel=f.channel)


@dataclass
class StoreFigures:
    """What the overview reads from the event store alone, for the range and the one before."""

    latest: list[dict[str, Any]]
    per_channel: dict[str, dict[date, int]] = field(default_factory=dict)
    top: list[tuple[str, int]] = field(default_factory=list)
    all_time: int = 0
    texts: text.LabelCounts | None = None
    active: int = 0
    prev_per_channel: dict[str, dict[date, int]] | None = None
    prev_texts: text.LabelCounts | None = None
    prev_active: int | None = None


def store_figures(store: EventStore, ws: str, f: PageFilters) -> StoreFigures:
    """The overview's event-store aggregates, kept until the next write to the store
    (``events.store.results``): at 10M events they are most of the page's time."""
    since, until = f.range()
    prev = f.previous() if f.compare else None
    key = ("overview", ws, since, until, f.tz, f.channel, prev.range() if prev else None)

    def compute() -> StoreFigures:
        latest = store.latest_events(ws, limit=15)
        if not latest:
            return StoreFigures(latest)
        return StoreFigures(
            latest,
            per_channel=_daily(store, ws, f),
            top=store.top_events(ws, since=since, until=until, limit=10, channel=f.channel),
            all_time=store.count(ws),
            texts=_texts(store, ws, f),
            active=_active(store, ws, f),
            prev_per_channel=_daily(store, ws, prev) if prev else None,
            prev_texts=_texts(store, ws, prev) if prev else None,
            prev_active=_active(store, ws, prev) if prev else None,
        )

    return results.cached(store, key, compute)


def _charts(
    page: Page, f: PageFilters, per_channel: dict[str, dict[date, int]], top: list[tuple[str, int]]
) -> dict[str, Any]:
    fmt, tr = page.fmt, page.gettext
    days = f.day_list()
    channels = [c for c in CHANNELS if c in per_channel] + sorted(
        c for c in per_channel if c not in CHANNELS
    )
    return {
        "daily_chart": {
            "kind": "stacked-bar",
            "categories": [fmt.short_date(d) for d in days],
            "series": [
                {
                    "name": tr(CHANNEL_LABELS.get(c, c)),
                    "data": [per_channel[c].get(d, 0) for d in days],
                }
                for c in channels
            ],
        },
        "channel_chart": {
            "kind": "pie",
            "series": [
                {
                    "name": tr("Events"),
                    "data": [
                        {
                            "name": tr(CHANNEL_LABELS.get(c, c)),
                            "value": sum(per_channel[c].values()),
                        }
                        for c in channels
                    ],
                }
            ],
        },
        "top_chart": {
            "kind": "hbar",
            # Non-track messages are counted by type; show the type's name, translated.
            "categories": [
                tr(TYPE_LABELS[label]) if label in TYPE_LABELS and label != "track" else label
                for label, _ in reversed(top)
            ],
            "series": [{"name": tr("Events"), "data": [n for _, n in reversed(top)]}],
        },
    }


def cx_cards(figures: StoreFigures, page: Page, f: PageFilters) -> dict[str, list[cards.Card]]:
    """The CX cards of the range, each against the previous period when ``f.compare``."""
    ws = page.workspace_id
    assert ws is not None
    fmt, tr = page.fmt, page.gettext
    prev = f.previous() if f.compare else None
    k = surveys.kpis(
        page.session,
        workspace_id=ws,
        current=surveys.DayRange(f.start, f.end),
        previous=surveys.DayRange(prev.start, prev.end) if prev else None,
        channel=f.channel,
    )
    now_t = figures.texts or text.LabelCounts()
    before_t = figures.prev_texts

    def shares(kind: str) -> tuple[int, dict[str, int]]:
        return now_t.total, dict(getattr(now_t, kind))

    def prev_shares(kind: str) -> tuple[int, dict[str, int]] | None:
        return (before_t.total, dict(getattr(before_t, kind))) if before_t else None

    active, prev_active = figures.active, figures.prev_active
    return {
        "surveys": cards.survey_cards(fmt, tr, k),
        "sentiment": cards.share_cards(
            fmt,
            tr,
            "sentiment",
            cards.SENTIMENT_LABELS,
            shares("sentiment"),
            prev_shares("sentiment"),
            worse=frozenset({"negative"}),
        ),
        "emotion": cards.share_cards(
            fmt,
            tr,
            "emotion",
            cards.EMOTION_LABELS,
            shares("emotion"),
            prev_shares("emotion"),
            worse=frozenset({"anger", "sadness", "fear", "disgust"}),
        ),
        "active": [
            cards.count_card(
                fmt, tr, "kpi-active", tr(N_("Active customers")), active, prev_active, tested=True
            ),
        ],
    }


def overview_data(store: EventStore, page: Page, f: PageFilters) -> dict[str, Any]:
    """Numbers and chart series of one workspace over the filters' range."""
    ws = page.workspace_id
    assert ws is not None
    figures = store_figures(store, ws, f)
    if not figures.latest:
        return {"empty": True}
    per_channel, top = figures.per_channel, figures.top
    events = sum(sum(days.values()) for days in per_channel.values())
    prev_events = None
    if figures.prev_per_channel is not None:
        prev_events = sum(sum(d.values()) for d in figures.prev_per_channel.values())
    events_card = cards.count_card(
        page.fmt,
        page.gettext,
        "kpi-events",
        page.gettext(N_("Events")),
        events,
        prev_events,
        tested=False,
    )
    return {
        "empty": False,
        "events": events_card,
        "events_all_time": figures.all_time,
        "profiles": profile_count(page.session, workspace_id=ws),
        "cx": cx_cards(figures, page, f),
        "previous": f.previous() if f.compare else None,
        "latest": figures.latest,
        "top": top,
        **_charts(page, f, per_channel, top),
    }


@router.get("/", response_class=HTMLResponse)
def overview(page: PageDep, runtime: EventsDep, filters: FiltersDep) -> HTMLResponse:
    data = overview_data(runtime.store, page, filters) if page.workspace else {"empty": True}
    base = runtime.settings.public_url or str(page.request.base_url).rstrip("/")
    return render(
        page,
        "overview.html",
        data=data,
        base_url=base,
        nav_key="overview",
        filters=filters,
        filter_channel=True,
        filter_compare=True,
    )
