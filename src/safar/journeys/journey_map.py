"""A journey map on a case source: stages with KPIs and the emotion curve, the process of the
stages, the stage funnel and the conformance of customers to the designed order."""

from __future__ import annotations

from typing import Any

from safar.journeys import analysis, funnels
from safar.journeys import queries as q
from safar.journeys.definitions import JourneyDefinition
from safar.journeys.queries_cx import EmotionCurve, StageKpis, staged_source
from safar.kit.query import QueryEngine, dialect_of, run

MEASURES = ("nps", "csat", "ces", "sentiment")


def _stage_row(
    name: str, order: list[str], kpi: dict[str, Any], emo: dict[str, Any]
) -> dict[str, Any]:
    cases = int(kpi.get("cases") or 0)
    nxt = int(kpi.get("next_cases") or 0)
    designed = name in order and order.index(name) < len(order) - 1
    out: dict[str, Any] = {
        "stage": name,
        "in_design": name in order,
        "cases": cases,
        "events": int(kpi.get("events") or 0),
        "reached_next": nxt if designed else None,
        "conversion_to_next": round(nxt / cases, 4) if designed and cases else None,
        "median_seconds_to_next": q.rounded(kpi.get("med_to_next")) if nxt else None,
        "p90_seconds_to_next": q.rounded(kpi.get("p90_to_next")) if nxt else None,
        "emotion": {
            m: {
                "mean": q.rounded(emo.get(f"{m}_mean")) if emo.get(f"{m}_n") else None,
                "count": int(emo.get(f"{m}_n") or 0),
            }
            for m in MEASURES
        },
    }
    out["emotion"]["nps"]["score"] = nps_score(emo)
    return out


def nps_score(emo: dict[str, Any]) -> float | None:
    """Net Promoter Score of a stage's answers: % promoters minus % detractors (-100..100)."""
    n = int(emo.get("nps_n") or 0)
    if not n:
        return None
    promoters, detractors = int(emo.get("nps_promoters") or 0), int(emo.get("nps_detractors") or 0)
    return round(100 * (promoters - detractors) / n, 1)


def journey_map(
    engine: QueryEngine,
    src: q.Source,
    journey: JourneyDefinition,
    *,
    window_seconds: float,
    with_text: bool,
    accelerate: bool = True,
) -> dict[str, Any]:
    """KPIs per stage: customers and events in it, share reaching the next designed stage after
    it, and the time until then (median, p90); satisfaction: NPS/CSAT/CES answers and text
    sentiment given while customers were in the stage. ``src`` needs ``details`` (and the
    sentiment column when ``with_text``)."""
    order = journey.order()
    rules = tuple(journey.rules())
    emotion = run(engine, EmotionCurve(src, rules, with_text))
    kpis = run(engine, StageKpis(src, rules, tuple(order)))
    names = order + [s.name for s in journey.stages if s.name not in order]
    out: dict[str, Any] = {
        "journey": journey.name,
        "designed_order": order,
        "text_sentiment_available": with_text,
        "stages": [_stage_row(n, order, kpis.get(n, {}), emotion.get(n, {})) for n in names],
    }
    staged = staged_source(dialect_of(engine), src, rules)
    if not run(engine, q.CountEvents(staged)):
        return out
    disc = analysis.discover(engine, staged, accelerate=accelerate)
    out["process"] = {**disc.as_dict(durations_p90=True), "cases": disc.cases}
    out["conformance"] = analysis.conformance(disc, order, ignore_others=False)
    present = {e for v in disc.variants for e in v["activities"]}
    if len(order) >= 2 and all(o in present for o in order):
        out["funnel"] = funnels.funnel(
            engine, staged, order, window_seconds=window_seconds, accelerate=accelerate
        ).as_dict()
    return out
