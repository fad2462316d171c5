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
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any, get_args

from fastapi import APIRouter
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
from safar.web.filters import AllTimeFiltersDep
from safar.web.i18n import N_
from safar.web.labels import factor_label
from safar.web.nav import NavEntry, register_nav
from safar.web.render import Page, PageDep, render
from safar.workspaces.deps import RuntimeDep

router = APIRouter(include_in_schema=False)
register_nav(NavEntry("journeys", "/journeys", N_("Journeys"), "journeys", order=25))
MAX_EDGES = 40
OPS = set(get_args(Op))
BREAKDOWNS = ("", "channel", "persona", "property", "trait")


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


def _funnel_chart(name: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "kind": "funnel",
        "series": [
            {"name": name, "data": [{"name": s["label"], "value": s["cases"]} for s in steps]}
        ],
    }


def _process_chart(disc: Any) -> dict[str, Any]:
    edges = disc.edges[:MAX_EDGES]
    freq: dict[str, int] = {}
    for e in edges:
        freq[e["source"]] = freq.get(e["source"], 0) + e["frequency"]
        freq[e["target"]] = freq.get(e["target"], 0) + e["frequency"]
    top = max(freq.values(), default=1)
    return {
        "kind": "graph",
        "nodes": [
            {"name": a, "value": v, "symbolSize": 18 + 30 * v / top} for a, v in freq.items()
        ],
        "links": [
            {"source": e["source"], "target": e["target"], "value": e["frequency"]} for e in edges
        ],
    }


def _section(fn: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    try:
        return {"ok": True, **fn()}
    except SafarError as exc:
        return {"ok": False, "error": exc.message}


@dataclass(frozen=True)
class Form:
    """The page's inputs; every card's form carries the others' as hidden fields."""

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


@dataclass(frozen=True)
class View:
    """One reader's page: who reads it, and where the metrics run (events in [since, until))."""

    page: Page
    store: EventStore
    workspace_id: str
    since: datetime | None = None
    until: datetime | None = None

    def run(self, metric: Metric[T_co]) -> T_co:
        return service.run_metric(
            self.page.session,
            self.store,
            metric,
            workspace_id=self.workspace_id,
            since=self.since,
            until=self.until,
        )

    def tr(self, message: str) -> str:
        return self.page.gettext(message)


def process_card(v: View) -> dict[str, Any]:
    disc = v.run(DiscoveryQuery(max_variants=10))
    return {
        "cases": disc.cases,
        "variant_count": disc.variant_count,
        "chart": _process_chart(disc),
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


def _step_rows(v: View, steps: list[FunnelStep]) -> list[dict[str, Any]]:
    fmt = v.page.fmt
    level = v.tr(N_("%(k)s of %(n)s steps"))
    return [
        {
            **asdict(s),
            "label": s.activity
            if s.activity is not None
            else level % {"k": fmt.number(s.level), "n": fmt.number(len(steps))},
            "median": duration(v.page, s.median_seconds_from_previous),
            "p90": duration(v.page, s.p90_seconds_from_previous),
        }
        for s in steps
    ]


def funnel_card(v: View, form: Form) -> dict[str, Any]:
    metric = _funnel_query(form)
    if metric is None:
        return {"empty": True}
    result = v.run(metric)
    main = _step_rows(v, result.steps)
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
                "chart": _funnel_chart(name, rows),
            }
        )
    return {
        "empty": False,
        "any_order": result.mode == "any",
        "steps": main,
        "chart": _funnel_chart(v.tr(N_("Customers")), main),
        "groups": groups,
    }


def paths_card(v: View, form: Form, top_start: str) -> dict[str, Any]:
    start = form.anchor.strip() or top_start
    if not start:
        return {"empty": True}
    res = v.run(PathsQuery(start, depth=3, top=8))
    nodes = [{"name": n["id"], "label": n["activity"]} for n in res["sankey"]["nodes"]]
    return {
        "empty": False,
        "anchor": start,
        "top_paths": res["top_paths"],
        "chart": {"kind": "sankey", "nodes": nodes, "links": res["sankey"]["links"]},
    }


def journey_map_card(v: View, form: Form) -> dict[str, Any]:
    if not form.stages.strip():
        return {"empty": True}
    definition = JourneyDefinition(name=v.tr(N_("Journey")), stages=parse_stages(form.stages))
    jm = v.run(JourneyMapQuery(definition))
    names = [s["stage"] for s in jm["stages"]]
    series = []
    labels = {"nps": "NPS", "csat": "CSAT", "ces": "CES", "sentiment": v.tr(N_("Text sentiment"))}
    for key, label in labels.items():
        vals = [s["emotion"][key]["mean"] for s in jm["stages"]]
        if any(x is not None for x in vals):
            series.append({"name": label, "data": vals})
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
        "chart": {"kind": "line", "categories": names, "series": series} if series else None,
    }


def drivers_card(v: View, form: Form) -> dict[str, Any]:
    metric = DriversQuery(form.target_event.strip(), form.target_property.strip())
    report = v.run(metric)
    top = report.drivers[:10]
    unit = form.unit.strip() or None
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
            }
            for d in top
        ],
        "chart": {
            "kind": "hbar",
            "categories": [factor_label(d.factor, v.tr, isolate=False) for d in reversed(top)],
            "series": [
                {
                    "name": v.tr(N_("Effect on the score")),
                    "data": [round(d.effect, 3) for d in reversed(top)],
                }
            ],
        },
    }


@router.get("/journeys", response_class=HTMLResponse)
def journeys(
    page: PageDep,
    runtime: RuntimeDep,
    filters: AllTimeFiltersDep,
    steps: str = "",
    window: str = "7d",
    mode: str = "strict",
    breakdown: str = "",
    bkey: str = "",
    personas: str = "",
    anchor: str = "",
    stages: str = "",
    target_event: str = "survey_answered",
    target_property: str = "nps",
    unit: str = "",
) -> HTMLResponse:
    form = Form(steps, window, mode, breakdown, bkey, personas, anchor, stages, target_event,
                target_property, unit)  # fmt: skip
    ws = page.workspace_id
    if ws is None:
        return render(page, "journeys.html", nav_key="journeys", data=None, form=asdict(form),
                      filters=filters)  # fmt: skip
    # The shared range applies when one is chosen; by default the page covers every event.
    v = View(page, runtime.store, ws, *filters.bounds())
    process = _section(lambda: process_card(v))
    data = {
        "process": process,
        "funnel": _section(lambda: funnel_card(v, form)),
        "paths": _section(lambda: paths_card(v, form, process.get("top_start", ""))),
        "map": _section(lambda: journey_map_card(v, form)),
        "drivers": _section(lambda: drivers_card(v, form)),
    }
    return render(page, "journeys.html", nav_key="journeys", data=data, form=asdict(form),
                  activities=process.get("activities", []), filters=filters)  # fmt: skip
