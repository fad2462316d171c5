"""Overview: events per channel and per day, active customers, top event types, latest activity."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from safar.events.channels import CHANNELS
from safar.events.deps import EventsDep
from safar.events.store import EventStore
from safar.identity.service import profile_count
from safar.web.i18n import N_, Formatter
from safar.web.labels import CHANNEL_LABELS, TYPE_LABELS
from safar.web.nav import NavEntry, register_nav
from safar.web.render import Page, PageDep, render

router = APIRouter(include_in_schema=False)
register_nav(NavEntry("overview", "/", N_("Overview"), "home", order=10))
WINDOW_DAYS = 30


def overview_data(store: EventStore, page: Page, days: int = WINDOW_DAYS) -> dict[str, Any]:
    """Numbers and chart series of one workspace, over the ``days`` up to its newest event."""
    ws = page.workspace_id
    assert ws is not None
    fmt: Formatter = page.fmt
    tr = page.gettext
    latest = store.latest_events(ws, limit=15)
    if not latest:
        return {"empty": True}
    newest = datetime.fromtimestamp(latest[0]["timestamp"] / 1e6, tz=UTC)
    until = datetime.combine(newest.date() + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    since = until - timedelta(days=days)
    daily = store.daily_channel_counts(ws, since=since, until=until)
    day_list = [since.date() + timedelta(days=i) for i in range(days)]
    per_channel: dict[str, dict[date, int]] = {}
    for day, channel, n in daily:
        per_channel.setdefault(channel, {})[day] = n
    channels = [c for c in CHANNELS if c in per_channel] + sorted(
        c for c in per_channel if c not in CHANNELS
    )
    totals = {c: sum(per_channel[c].values()) for c in channels}
    top = store.top_events(ws, since=since, until=until, limit=10)
    return {
        "empty": False,
        # Days are UTC days, so the range is shown as dates, not converted to local time.
        "since": since.date(),
        "until": (until - timedelta(days=1)).date(),
        "events": sum(totals.values()),
        "events_all_time": store.count(ws),
        "active": store.active_customers(ws, since=since, until=until),
        "profiles": profile_count(page.session, workspace_id=ws),
        "latest": latest,
        "top": top,
        "daily_chart": {
            "kind": "stacked-bar",
            "categories": [fmt.short_date(d) for d in day_list],
            "series": [
                {
                    "name": tr(CHANNEL_LABELS.get(c, c)),
                    "data": [per_channel[c].get(d, 0) for d in day_list],
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
                        {"name": tr(CHANNEL_LABELS.get(c, c)), "value": totals[c]} for c in channels
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


@router.get("/", response_class=HTMLResponse)
def overview(page: PageDep, runtime: EventsDep) -> HTMLResponse:
    data = overview_data(runtime.store, page) if page.workspace else {"empty": True}
    base = runtime.settings.public_url or str(page.request.base_url).rstrip("/")
    return render(page, "overview.html", data=data, base_url=base, nav_key="overview")
