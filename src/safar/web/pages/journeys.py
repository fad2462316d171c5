"""Journeys: process map, funnel, Sankey of paths, journey map with emotion curve, key drivers.

Every number comes from ``safar.journeys.service``; this module only reads the form, calls it
and turns results into chart specs. A section whose input is wrong shows the error's message
in place, and the other sections still render.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from safar.errors import SafarError, ValidationFailed
from safar.journeys import service
from safar.journeys.cli import parse_window
from safar.journeys.definitions import JourneyDefinition, StageDefinition
from safar.journeys.drivers import key_drivers
from safar.web.i18n import N_
from safar.web.nav import NavEntry, register_nav
from safar.web.render import Page, PageDep, render
from safar.workspaces.deps import RuntimeDep

router = APIRouter(include_in_schema=False)
register_nav(NavEntry("journeys", "/journeys", N_("Journeys"), "journeys", order=25))
MAX_EDGES = 40


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


def _section(fn: Any) -> dict[str, Any]:
    try:
        return {"ok": True, **fn()}
    except SafarError as exc:
        return {"ok": False, "error": exc.message}


@router.get("/journeys", response_class=HTMLResponse)
def journeys(
    page: PageDep,
    runtime: RuntimeDep,
    steps: str = "",
    window: str = "7d",
    anchor: str = "",
    stages: str = "",
    target_event: str = "survey_answered",
    target_property: str = "nps",
) -> HTMLResponse:
    ws = page.workspace_id
    form = {
        "steps": steps,
        "window": window,
        "anchor": anchor,
        "stages": stages,
        "target_event": target_event,
        "target_property": target_property,
    }
    if ws is None:
        return render(page, "journeys.html", nav_key="journeys", data=None, form=form)
    store, session, tr = runtime.store, page.session, page.gettext
    data: dict[str, Any] = {}

    def process() -> dict[str, Any]:
        disc = service.discover(session, store, workspace_id=ws, max_variants=10)
        return {
            "cases": disc.cases,
            "variant_count": disc.variant_count,
            "chart": _process_chart(disc),
            "edges": [
                {**e, "median": duration(page, e["median_seconds"])} for e in disc.edges[:15]
            ],
            "variants": disc.variants[:10],
            "activities": sorted({a for e in disc.edges for a in (e["source"], e["target"])}),
            "top_start": next(iter(disc.start_activities), ""),
        }

    data["process"] = _section(process)
    acts = data["process"].get("activities", [])

    def funnel() -> dict[str, Any]:
        chosen = [s.strip() for s in steps.split(",") if s.strip()]
        if not chosen:
            return {"empty": True}
        result = service.funnel(
            session, store, workspace_id=ws, steps=chosen, window_seconds=parse_window(window)
        )
        return {
            "empty": False,
            "steps": [
                {
                    **s.__dict__,
                    "median": duration(page, s.median_seconds_from_previous),
                    "p90": duration(page, s.p90_seconds_from_previous),
                }
                for s in result.steps
            ],
            "chart": {
                "kind": "funnel",
                "series": [
                    {
                        "name": tr(N_("Customers")),
                        "data": [{"name": s.activity, "value": s.cases} for s in result.steps],
                    }
                ],
            },
        }

    data["funnel"] = _section(funnel)

    def paths() -> dict[str, Any]:
        start = anchor.strip() or data["process"].get("top_start", "")
        if not start:
            return {"empty": True}
        res = service.paths(session, store, workspace_id=ws, anchor=start, depth=3, top=8)
        return {
            "empty": False,
            "anchor": start,
            "top_paths": res["top_paths"],
            "chart": {
                "kind": "sankey",
                "nodes": [
                    {"name": n["id"], "label": n["activity"]} for n in res["sankey"]["nodes"]
                ],
                "links": res["sankey"]["links"],
            },
        }

    data["paths"] = _section(paths)

    def journey_map() -> dict[str, Any]:
        if not stages.strip():
            return {"empty": True}
        definition = JourneyDefinition(name=tr(N_("Journey")), stages=parse_stages(stages))
        jm = service.journey_map(session, store, workspace_id=ws, journey=definition)
        names = [s["stage"] for s in jm["stages"]]
        series = []
        for key, label in (("nps", "NPS"), ("csat", "CSAT"), ("ces", "CES")):
            vals = [s["emotion"][key]["mean"] for s in jm["stages"]]
            if any(v is not None for v in vals):
                series.append({"name": label, "data": vals})
        senti = [s["emotion"]["sentiment"]["mean"] for s in jm["stages"]]
        if any(v is not None for v in senti):
            series.append({"name": tr(N_("Text sentiment")), "data": senti})
        return {
            "empty": False,
            "stages": [
                {
                    **s,
                    "to_next": duration(page, s["median_seconds_to_next"]),
                    "to_next_p90": duration(page, s["p90_seconds_to_next"]),
                }
                for s in jm["stages"]
            ],
            "conformance": jm.get("conformance"),
            "chart": {"kind": "line", "categories": names, "series": series} if series else None,
        }

    data["map"] = _section(journey_map)

    def drivers() -> dict[str, Any]:
        table = service.customer_table(
            session,
            store,
            workspace_id=ws,
            target_event=target_event.strip(),
            target_property=target_property.strip(),
        )
        report = key_drivers(table, target="__score")
        top = report.drivers[:10]
        return {
            "rows": report.rows,
            "r_squared": report.r_squared,
            "drivers": top,
            "chart": {
                "kind": "hbar",
                "categories": [d.factor for d in reversed(top)],
                "series": [
                    {
                        "name": tr(N_("Effect on the score")),
                        "data": [round(d.effect, 3) for d in reversed(top)],
                    }
                ],
            },
        }

    data["drivers"] = _section(drivers)
    return render(page, "journeys.html", nav_key="journeys", data=data, form=form, activities=acts)
