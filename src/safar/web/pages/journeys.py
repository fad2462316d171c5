"""Journeys: process map, funnel, Sankey of paths, journey map with emotion curve, key drivers.

Every number comes from a metric object of ``safar.journeys.metrics`` (the same the API and
the CLI run) through ``service.run_metric``; this module only reads the form into those
objects and turns results into chart specs and translated sentences (``journeys.findings``).
A section whose input is wrong shows the error's message in place, and the other sections
still render.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from typing import Annotated, Any, get_args
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse
from markupsafe import Markup, escape

from safar.errors import SafarError, ValidationFailed
from safar.events.store import EventStore
from safar.journeys import findings, service
from safar.journeys.definitions import JourneyDefinition, StageDefinition
from safar.journeys.funnels import FunnelStep
from safar.journeys.metrics import (
    DiscoveryQuery,
    DriversQuery,
    FunnelQuery,
    JourneyMapQuery,
    Metric,
    PathsQuery,
    T_co,
)
from safar.journeys.params import FunnelMode, parse_window
from safar.journeys.personas import Op, PersonaRule
from safar.segments import service as segments
from safar.web import journey_charts as charts
from safar.web.filters import AllTimeFiltersDep, FilterError, PageFilters
from safar.web.i18n import N_
from safar.web.labels import factor_label
from safar.web.nav import NavEntry, register_nav
from safar.web.render import Page, PageDep, render
from safar.workspaces.deps import RuntimeDep

router = APIRouter(include_in_schema=False)
register_nav(NavEntry("journeys", "/journeys", N_("Journeys"), "journeys", order=25))
MAX_EDGES = 40
#: Transitions the process map shows when the reader sets no minimum frequency.
AUTO_EDGES = 20
OPS = set(get_args(Op))
BREAKDOWNS = ("", "channel", "persona", "property", "trait")
DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")


def duration(page: Page, seconds: float | None) -> str:
    """Seconds as a short, translated duration (minutes, hours or days)."""
    if seconds is None:
        return "–"
    tr, fmt = page.gettext, page.fmt
    if seconds < 3600:
        return tr(N_("%(n)s min")) % {"n": fmt.number(round(seconds / 60, 1))}
    if seconds < 86400:
        return tr(N_("%(n)s h")) % {"n": fmt.number(round(seconds / 3600, 1))}
    return tr(N_("%(n)s days")) % {"n": fmt.number(round(seconds / 86400, 1))}


def parse_stages(text: str) -> list[StageDefinition]:
    """``stage: event, event`` per line (designed order = line order)."""
    stages = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, events = line.partition(":")
        names = [e.strip() for e in events.split(",") if e.strip()]
        if not sep or not name.strip() or not names:
            raise ValidationFailed(
                f"stages: line {n} should read 'stage: event, event'", field="stages"
            )
        stages.append(StageDefinition(name=name.strip(), events=names))
    return stages


def parse_personas(text: str) -> list[PersonaRule]:
    """``persona: trait op value; trait op value`` per line (first matching line wins).

    ``op`` is one of eq ne gt gte lt lte in contains exists; values are read as JSON when they
    can be (``65``, ``true``, ``["a", "b"]``), else as text.
    """
    rules = []
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, conds = line.partition(":")
        parsed: list[dict[str, Any]] = []
        for part in conds.split(";"):
            words = part.split(None, 2)
            if not words:
                continue
            if len(words) < 2 or words[1] not in OPS or (words[1] != "exists" and len(words) < 3):
                parsed = []
                break
            raw = words[2] if len(words) == 3 else None
            try:
                value = json.loads(raw) if raw is not None else None
            except ValueError:
                value = raw
            parsed.append({"trait": words[0], "op": words[1], "value": value})
        if not sep or not name.strip() or not parsed:
            raise ValidationFailed(
                f"personas: line {n} should read 'persona: trait op value; trait op value'",
                field="personas",
            )
        try:
            rules.append(PersonaRule.model_validate({"name": name.strip(), "all_of": parsed}))
        except ValueError as exc:
            raise ValidationFailed(f"personas: line {n} is not a persona rule",
                                   field="personas") from exc  # fmt: skip
    return rules


def _section(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return {"ok": True, **fn()}
    except SafarError as exc:
        return {"ok": False, "error": exc.message}


def whole(text: str, field: str, low: int, high: int) -> int:
    """A whole number typed in a form, within [low, high] (else a 400 naming the field)."""
    try:
        value = int(text.strip().translate(DIGITS))
    except ValueError:
        raise ValidationFailed(f"{field}: not a whole number", field=field) from None
    if not low <= value <= high:
        raise ValidationFailed(f"{field}: between {low} and {high}", field=field)
    return value


@dataclass(frozen=True)
class Form:
    """The page's inputs; every card's form carries the others' as hidden fields."""

    pm_cover: str = "100"
    pm_top: str = ""
    pm_min: str = ""
    pm_view: str = "frequency"
    steps: str = ""
    window: str = "7d"
    mode: str = "strict"
    breakdown: str = ""
    bkey: str = ""
    personas: str = ""
    anchor: str = ""
    stages: str = ""
    target_event: str = "survey_answered"
    target_property: str = "nps"
    unit: str = ""
    per_step: str = "5"


@dataclass(frozen=True)
class View:
    """One reader's page: who reads it, and where the metrics run (events in [since, until))."""

    page: Page
    store: EventStore
    workspace_id: str
    since: datetime | None = None
    until: datetime | None = None
    channel: str | None = None
    members: tuple[str, ...] | None = None
    #: The shared filters as query parameters, carried by the drill-down links.
    kept: dict[str, str] = field(default_factory=dict)

    def run(self, metric: Metric[T_co]) -> T_co:
        return service.run_metric(
            self.page.session,
            self.store,
            metric,
            workspace_id=self.workspace_id,
            since=self.since,
            until=self.until,
            channel=self.channel,
            members=self.members,
        )

    def customers_link(self, **params: Any) -> str:
        """The drill-down list of the customers behind a number, under the same filters."""
        return "/journeys/customers?" + urlencode({**params, **self.kept})

    def tr(self, message: str) -> str:
        return self.page.gettext(message)


def process_card(v: View, form: Form) -> dict[str, Any]:
    top = whole(form.pm_top, "pm_top", 1, 10_000) if form.pm_top.strip() else None
    cover = None if top else whole(form.pm_cover, "pm_cover", 1, 100) / 100
    # Without a minimum the map shows the most frequent transitions only: when nearly every
    # customer's path is their own, a variant filter cannot simplify it, but this does.
    auto = not form.pm_min.strip()
    minimum = 1 if auto else whole(form.pm_min, "pm_min", 1, 1_000_000)
    performance = form.pm_view == "performance"
    disc = v.run(DiscoveryQuery(top, minimum, max_variants=10, coverage=cover,
                                max_edges=AUTO_EDGES if auto else MAX_EDGES))  # fmt: skip
    edges = disc.edges
    fmt = v.page.fmt

    def label(e: dict[str, Any]) -> str:
        return duration(v.page, e["median_seconds"]) if performance else fmt.number(e["frequency"])

    return {
        "cases": disc.cases,
        "all_cases": disc.all_cases,
        "variant_count": disc.variant_count,
        "shown_variants": disc.kept_variants,
        "covered": fmt.percent(100 * disc.cases / disc.all_cases) if disc.all_cases else "",
        "least": min((e["frequency"] for e in edges), default=0),
        "auto": auto,
        "performance": performance,
        "chart": charts.process_chart(
            edges, disc.start_activities, performance=performance, label=label, rtl=v.page.fmt.fa
        ),
        "edges": [{**e, "median": duration(v.page, e["median_seconds"])} for e in disc.edges[:15]],
        "variants": disc.variants[:10],
        "activities": sorted({a for e in disc.edges for a in (e["source"], e["target"])}),
        "top_start": next(iter(disc.start_activities), ""),
    }


def _funnel_query(form: Form) -> FunnelQuery | None:
    chosen = tuple(s.strip() for s in form.steps.split(",") if s.strip())
    if not chosen:
        return None
    if form.breakdown not in BREAKDOWNS:
        raise ValidationFailed(f"breakdown: {form.breakdown!r} is not offered", field="breakdown")
    by = form.breakdown
    if by in ("property", "trait"):
        by = f"{by}:{form.bkey.strip()}"
    rules = tuple(parse_personas(form.personas)) if by == "persona" else ()
    mode: FunnelMode = "any" if form.mode == "any" else "strict"
    if form.mode not in ("strict", "any"):
        raise ValidationFailed(f"mode: {form.mode!r} is not 'strict' or 'any'", field="mode")
    return FunnelQuery(chosen, parse_window(form.window), mode, breakdown=by or None,
                       personas=rules)  # fmt: skip


def _step_rows(
    v: View, steps: list[FunnelStep], drill: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """The table and chart rows of a funnel; with ``drill`` (the funnel's parameters), each
    step but the last links to the customers who dropped after it."""
    fmt = v.page.fmt
    level = v.tr(N_("%(k)s of %(n)s steps"))
    rows = []
    for s in steps:
        share = s.conversion_from_start
        dropped = drill is not None and s.level < len(steps) and s.dropped > 0
        rows.append(
            {
                **asdict(s),
                "label": s.activity
                if s.activity is not None
                else level % {"k": fmt.number(s.level), "n": fmt.number(len(steps))},
                "share": fmt.percent(share * 100) if share is not None else "",
                "median": duration(v.page, s.median_seconds_from_previous),
                "p90": duration(v.page, s.p90_seconds_from_previous),
                "href": v.customers_link(kind="dropped", after_step=s.level, **(drill or {}))
                if dropped
                else None,
            }
        )
    return rows


def funnel_card(v: View, form: Form) -> dict[str, Any]:
    metric = _funnel_query(form)
    if metric is None:
        return {"empty": True}
    result = v.run(metric)
    drill = {"steps": ", ".join(metric.steps), "window": form.window, "mode": metric.mode}
    main = _step_rows(v, result.steps, drill)
    groups = []
    for i, g in enumerate(result.groups or []):
        name = g.value if g.value is not None and not g.other else ""
        if g.other:
            name = v.tr(N_("Other values"))
        elif g.value is None:
            name = v.tr(N_("No value"))
        rows = _step_rows(v, g.steps)
        groups.append(
            {
                "id": f"chart-funnel-{i + 1}",
                "name": name,
                "customers": g.customers,
                "conversion": rows[-1]["conversion_from_start"],
                "steps": rows,
                "chart": charts.funnel_chart(name, rows),
            }
        )
    return {
        "empty": False,
        "any_order": result.mode == "any",
        "steps": main,
        "chart": charts.funnel_chart(v.tr(N_("Customers")), main),
        "groups": groups,
    }


def paths_card(v: View, form: Form, top_start: str) -> dict[str, Any]:
    start = form.anchor.strip() or top_start
    if not start:
        return {"empty": True}
    per_step = whole(form.per_step or "5", "per_step", 1, 50)
    res = v.run(PathsQuery(start, depth=3, top=8, per_step=per_step))
    return {
        "empty": False,
        "anchor": start,
        "top_paths": res["top_paths"],
        "chart": charts.sankey_chart(res, v.tr(N_("Other"))),
    }


def journey_map_card(v: View, form: Form) -> dict[str, Any]:
    if not form.stages.strip():
        return {"empty": True}
    definition = JourneyDefinition(name=v.tr(N_("Journey")), stages=parse_stages(form.stages))
    jm = v.run(JourneyMapQuery(definition))
    stages = [
        {
            **s,
            "to_next": duration(v.page, s["median_seconds_to_next"]),
            "to_next_p90": duration(v.page, s["p90_seconds_to_next"]),
        }
        for s in jm["stages"]
    ]
    return {
        "empty": False,
        "stages": stages,
        "conformance": jm.get("conformance"),
        "chart": charts.emotion_chart(jm["stages"], v.tr),
    }


def drivers_card(v: View, form: Form) -> dict[str, Any]:
    metric = DriversQuery(form.target_event.strip(), form.target_property.strip())
    report = v.run(metric)
    top = report.drivers[:10]
    unit = form.unit.strip() or None

    def link(factor: str) -> str:
        return v.customers_link(kind="driver", target_event=metric.target_event,
                                target_property=metric.target_property, factor=factor)  # fmt: skip

    return {
        "rows": report.rows,
        "r_squared": report.r_squared,
        "drivers": [
            {
                "factor": d.factor,
                "summary": findings.sentence(
                    d,
                    Markup("<bdi>%s</bdi>") % unit if unit else None,
                    lambda m: Markup(escape(v.tr(m))),
                    v.page.fmt.numerals,
                    factor=factor_label(d.factor, v.tr),
                ),
                "href": link(d.factor),
            }
            for d in top
        ],
        "chart": {
            "kind": "hbar",
            "categories": [factor_label(d.factor, v.tr, isolate=False) for d in reversed(top)],
            "series": [
                {
                    "name": v.tr(N_("Effect on the score")),
                    "data": [
                        {"value": round(d.effect, 3), "href": link(d.factor)} for d in reversed(top)
                    ],
                }
            ],
        },
    }


def scoped_view(page: Page, runtime: Any, filters: PageFilters) -> tuple[View, PageFilters]:
    """The reader's view under the shared filters: the range when one is chosen (by default
    every event), the channel, and the members of the chosen segment (an unknown segment is
    reported in the filter bar, and everyone is shown)."""
    ws = page.workspace_id
    assert ws is not None
    members = None
    if filters.segment:
        try:
            found = segments.members(page.session, runtime.store, workspace_id=ws,
                                     segment_id=filters.segment, now=runtime.clock())  # fmt: skip
            members = tuple(sorted(found))
        except SafarError:
            err = FilterError("segment", N_("segment: not a segment id"), filters.segment)
            filters = replace(filters, segment=None, errors=(*filters.errors, err))
    view = View(page, runtime.store, ws, *filters.bounds(), channel=filters.channel,
                members=members, kept=filters.params())  # fmt: skip
    return view, filters


@router.get("/journeys", response_class=HTMLResponse)
def journeys(
    page: PageDep,
    runtime: RuntimeDep,
    filters: AllTimeFiltersDep,
    form: Annotated[Form, Depends()],
) -> HTMLResponse:
    ws = page.workspace_id
    if ws is None:
        return render(page, "journeys.html", nav_key="journeys", data=None, form=asdict(form),
                      filters=filters)  # fmt: skip
    v, filters = scoped_view(page, runtime, filters)
    process = _section(lambda: process_card(v, form))
    data = {
        "process": process,
        "funnel": _section(lambda: funnel_card(v, form)),
        "paths": _section(lambda: paths_card(v, form, process.get("top_start", ""))),
        "map": _section(lambda: journey_map_card(v, form)),
        "drivers": _section(lambda: drivers_card(v, form)),
    }
    saved = segments.list_segments(page.session, workspace_id=ws)
    return render(page, "journeys.html", nav_key="journeys", data=data, form=asdict(form),
                  activities=process.get("activities", []), filters=filters,
                  filter_channel=True, filter_segments=saved)  # fmt: skip
