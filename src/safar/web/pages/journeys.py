"""Journeys: process map, funnel, Sankey of paths, journey map with emotion curve, key drivers.

Every number comes from ``safar.journeys.service``; this module only reads the form, calls it
and turns results into chart specs. A section whose input is wrong shows the error's message
in place, and the other sections still render.
"""

from __future__ import annotations

import json
from typing import Any, get_args

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from safar.errors import SafarError, ValidationFailed
from safar.journeys import service
from safar.journeys.cli import parse_window
from safar.journeys.definitions import JourneyDefinition, StageDefinition
from safar.journeys.drivers import key_drivers
from safar.journeys.personas import Op, PersonaRule
from safar.web.i18n import N_
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
    mode: str = "strict",
    breakdown: str = "",
    bkey: str = "",
    personas: str = "",
    anchor: str = "",
    stages: str = "",
    target_event: str = "survey_answered",
    target_property: str = "nps",
) -> HTMLResponse:
    ws = page.workspace_id
    form = {
        "steps": steps,
        "window": window,
        "mode": mode,
        "breakdown": breakdown,
        "bkey": bkey,
        "personas": personas,
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
        if breakdown not in BREAKDOWNS:
            raise ValidationFailed(f"breakdown: {breakdown!r} is not offered", field="breakdown")
        by = f"{breakdown}:{bkey.strip()}" if breakdown in ("property", "trait") else breakdown
        result = service.funnel(
            session, store, workspace_id=ws, steps=chosen, window_seconds=parse_window(window),
            mode=mode, breakdown=by or None,
            personas=parse_personas(personas) if breakdown == "persona" else None,
        )  # fmt: skip

        def rows(fsteps: list[Any]) -> list[dict[str, Any]]:
            return [
                {
                    **s.__dict__,
                    "label": s.activity
                    if s.activity is not None
                    else tr(N_("%(k)s of %(n)s steps"))
                    % {"k": page.fmt.number(s.level), "n": page.fmt.number(len(fsteps))},
                    "median": duration(page, s.median_seconds_from_previous),
                    "p90": duration(page, s.p90_seconds_from_previous),
                }
                for s in fsteps
            ]

        main = rows(result.steps)
        groups = []
        for i, g in enumerate(result.groups or []):
            name = (
                tr(N_("Other values"))
                if g.other
                else tr(N_("No value"))
                if g.value is None
                else g.value
            )
            grows = rows(g.steps)
            last = grows[-1]["conversion_from_start"]
            groups.append(
                {
                    "id": f"chart-funnel-{i + 1}",
                    "name": name,
                    "customers": g.customers,
                    "conversion": last,
                    "steps": grows,
                    "chart": _funnel_chart(name, grows),
                }
            )
        return {
            "empty": False,
            "any_order": result.mode == "any",
            "steps": main,
            "chart": _funnel_chart(tr(N_("Customers")), main),
            "groups": groups,
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
