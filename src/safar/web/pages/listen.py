"""Listen (صدای مشتری): what customers write, for a CX manager.

Sentiment and emotion of the range's texts per day (per week past two months), categories and
themes with their sentiment split and example verbatims, and the comments themselves, paged and
filtered, each linking to its customer and correctable by a reader with the ``settings``
permission. Every number comes from ``text.service`` (corrected labels counted: see its
docstring); a segment's members come from ``segments.service``.

The shared filters (range, channel, segment) and ``source`` (event name) and ``survey`` apply
to the whole page; ``sentiment``, ``emotion`` and ``category`` narrow the comments only, so
the charts keep showing the mix the comments are drawn from.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Depends, Form, Query
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from safar.errors import SafarError, ValidationFailed
from safar.events.deps import EventsDep
from safar.kit import calendar
from safar.segments import service as segments
from safar.text import service as text
from safar.web.filters import FilterError, FiltersDep, PageFilters
from safar.web.i18n import N_
from safar.web.labels import CATEGORY_LABELS, EMOTION_LABELS, SENTIMENT_LABELS
from safar.web.nav import NavEntry, register_nav
from safar.web.render import Page, PageDep, need, render

router = APIRouter(include_in_schema=False)
register_nav(NavEntry("listen", "/listen", N_("Listen"), "listen", order=25))

PAGE_SIZE = 20
#: The latest texts of the range that themes and examples are drawn from.
SAMPLE = 400
#: Past this many days the charts count per week (weeks start on Saturday in Iran).
DAILY_UP_TO = 62
LABELS = {"sentiment": SENTIMENT_LABELS, "emotion": EMOTION_LABELS, "category": CATEGORY_LABELS}
COLORS = {
    "positive": "#16a34a",
    "neutral": "#94a3b8",
    "negative": "#dc2626",
    "joy": "#f59e0b",
    "anger": "#dc2626",
    "sadness": "#1f6feb",
    "fear": "#7c3aed",
    "surprise": "#0ea5e9",
    "disgust": "#65a30d",
    "other": "#94a3b8",
}
Short = Annotated[str, Query(max_length=200)]


@dataclass(frozen=True)
class Drill:
    """The comments' own filters and page (query parameters of /listen)."""

    sentiment: str = ""
    emotion: str = ""
    category: str = ""
    source: str = ""
    survey: str = ""
    number: int = 1

    def params(self, **changes: Any) -> dict[str, str]:
        values = {**self.__dict__, **changes}
        out = {k: str(v) for k, v in values.items() if k != "number" and v}
        if values["number"] != 1:
            out["page"] = str(values["number"])
        return out


async def _drill(
    sentiment: Short = "",
    emotion: Short = "",
    category: Short = "",
    source: Short = "",
    survey: Short = "",
    number: Annotated[int, Query(alias="page", ge=1, le=10_000)] = 1,
) -> Drill:
    """The comments' filters; a label outside the taxonomy is refused naming its field."""
    for name, value in (("sentiment", sentiment), ("emotion", emotion), ("category", category)):
        if value and value not in text.CORRECTABLE[name]:
            raise ValidationFailed(f"{name}: not one of {', '.join(text.CORRECTABLE[name])}",
                                   field=name)  # fmt: skip
    return Drill(sentiment, emotion, category, source.strip(), survey.strip(), number)


DrillDep = Annotated[Drill, Depends(_drill)]


def _slice(
    page: Page, runtime: Any, f: PageFilters, drill: Drill
) -> tuple[text.TextSlice, PageFilters]:
    """The page's slice of texts; an unknown segment is reported in the filter bar."""
    ws = page.workspace_id
    assert ws is not None
    since, until = f.range()
    members: tuple[str, ...] | None = None
    if f.segment:
        try:
            found = segments.members(page.session, runtime.store, workspace_id=ws,
                                     segment_id=f.segment)  # fmt: skip
            members = tuple(sorted(found))
        except SafarError:
            err = FilterError("segment", N_("segment: not a segment id"), f.segment)
            f = replace(f, segment=None, errors=(*f.errors, err))
    slice_ = text.TextSlice(
        ws, since, until, tz=f.tz, channel=f.channel, source=drill.source or None,
        survey=drill.survey or None, profile_ids=members,
    )  # fmt: skip
    return slice_, f


def _buckets(f: PageFilters) -> tuple[list[date], Any]:
    """The chart's buckets (days, or week starts past ``DAILY_UP_TO`` days) and a day's bucket."""
    days = f.day_list()
    if len(days) <= DAILY_UP_TO:
        return days, lambda d: d
    first = calendar.week_start(f.tz)

    def week(d: date) -> date:
        return d - timedelta(days=(d.weekday() - first) % 7)

    return sorted({week(d) for d in days}), week


def _chart(page: Page, f: PageFilters, counts: text.ListenCounts, field: str) -> dict[str, Any]:
    buckets, bucket_of = _buckets(f)
    per: dict[date, Counter[str]] = {}
    for day, labels in counts.per_day(field).items():
        per.setdefault(bucket_of(day), Counter()).update(labels)
    present = counts.of(field)
    names = [k for k in LABELS[field] if present[k]] + sorted(
        k for k in present if k not in LABELS[field]
    )
    return {
        "kind": "stacked-bar",
        "categories": [page.fmt.short_date(b) for b in buckets],
        "series": [
            {"name": page.gettext(LABELS[field].get(k, k)), "color": COLORS.get(k),
             "data": [per.get(b, Counter())[k] for b in buckets]}
            for k in names
        ],
    }  # fmt: skip


def _shares(counts: Counter[str], order: dict[str, str]) -> list[tuple[str, int, float]]:
    """(label, texts, percent) in the taxonomy's order, then any others."""
    total = sum(counts.values()) or 1
    keys = [k for k in order if counts[k]] + sorted(k for k in counts if k not in order)
    return [(k, counts[k], 100 * counts[k] / total) for k in keys]


def _categories(counts: text.ListenCounts, sample: list[text.Verbatim]) -> list[dict[str, Any]]:
    split = counts.split("category")
    rows = []
    for key, n, pct in _shares(counts.of("category"), CATEGORY_LABELS):
        examples = [v for v in sample if v.category == key][:2]
        rows.append({"key": key, "n": n, "pct": pct,
                     "split": _shares(split.get(key, Counter()), SENTIMENT_LABELS),
                     "examples": examples})  # fmt: skip
    return rows


def _surveys(sample: list[text.Verbatim], chosen: str) -> list[tuple[str, str]]:
    """(survey id, name) of the surveys the sample's texts answered, by name; the chosen one
    is kept even when the sample has none of its texts."""
    names = {v.survey_id: v.survey_name or v.survey_id for v in sample if v.survey_id}
    if chosen:
        names.setdefault(chosen, chosen)
    return sorted(names.items(), key=lambda kv: (kv[1].casefold(), kv[0]))


def listen_data(page: Page, runtime: Any, f: PageFilters, drill: Drill) -> dict[str, Any]:
    """Everything the page shows, from the text and segments facades."""
    slice_, f = _slice(page, runtime, f, drill)
    store, session = runtime.store, page.session
    counts = text.listen_counts(session, store, slice_)
    sample = text.verbatims(session, store, slice_, limit=SAMPLE)
    narrowed = replace(slice_, sentiment=drill.sentiment or None, emotion=drill.emotion or None,
                       category=drill.category or None)  # fmt: skip
    offset = (drill.number - 1) * PAGE_SIZE
    shown = text.verbatims(session, store, narrowed, limit=PAGE_SIZE + 1, offset=offset)
    themes = text.themes(sample) if len(sample) >= 20 else []
    return {
        "filters": f,
        "total": counts.total,
        "sentiment": _shares(counts.of("sentiment"), SENTIMENT_LABELS),
        "emotion": _shares(counts.of("emotion"), EMOTION_LABELS),
        "sentiment_chart": _chart(page, f, counts, "sentiment"),
        "emotion_chart": _chart(page, f, counts, "emotion"),
        "weekly": len(f.day_list()) > DAILY_UP_TO,
        "categories": _categories(counts, sample),
        "topics": [{"topic": t, "split": _shares(t.sentiment, SENTIMENT_LABELS)} for t in themes],
        "comments": shown[:PAGE_SIZE],
        "has_next": len(shown) > PAGE_SIZE,
        "sources": sorted({v.source for v in sample} | ({drill.source} - {""})),
        "surveys": _surveys(sample, drill.survey),
    }


@router.get("/listen", response_class=HTMLResponse)
def listen(page: PageDep, runtime: EventsDep, filters: FiltersDep, drill: DrillDep) -> HTMLResponse:
    data: dict[str, Any] = {"empty": True}
    saved: list[Any] = []
    if page.workspace_id is not None:
        data = listen_data(page, runtime, filters, drill)
        filters = data["filters"]
        saved = segments.list_segments(page.session, workspace_id=page.workspace_id)
    base = filters.params()

    def link(**changes: Any) -> str:
        return "/listen?" + urlencode(base | drill.params(**changes))

    return render(
        page,
        "listen.html",
        data=data,
        drill=drill,
        link=link,
        labels=LABELS,
        filters=filters,
        filter_channel=True,
        filter_keep=drill.params(number=1),
        filter_segments=saved,
        here_query=urlencode(base | drill.params()),
        nav_key="listen",
    )


@router.post("/listen/feedback")
def correct(
    page: Annotated[Page, need("settings")],
    runtime: EventsDep,
    message_id: Annotated[str, Form(min_length=1, max_length=200)],
    sentiment: Annotated[str, Form(max_length=40)] = "",
    emotion: Annotated[str, Form(max_length=40)] = "",
    category: Annotated[str, Form(max_length=40)] = "",
    back: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    """Store a reader's labels for one text (training feedback); back to the same view."""
    ws = page.workspace_id
    if ws is None:
        raise ValidationFailed("workspace: create a workspace first", field="workspace")
    labels = {k: v for k, v in (("sentiment", sentiment), ("emotion", emotion),
                                ("category", category)) if v}  # fmt: skip
    text.correct(page.session, runtime.store, workspace_id=ws, message_id=message_id,
                 labels=labels, user=page.caller.user.email)  # fmt: skip
    # ``back`` is the page's query string, read and encoded again: always a view of this page.
    query = urlencode(parse_qsl(back)[:20])
    return RedirectResponse(f"/listen?{query}" if query else "/listen", status_code=303)
