"""Survey KPIs of a date range against the range before it, for the dashboard's overview.

NPS, CSAT and CES are the metrics of ``metrics`` over every survey of the workspace, with their
intervals and their own tests of change (``ScoreMetric.compare``: a z-test on the difference of
two NPS, a two-proportion z-test on CSAT's top-2-box, Welch's t-test on CES means). The response
rate (completed of sent invitations) changes by Fisher's exact test (``kit.stats``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from safar.kit.stats import share_change
from safar.surveys import metrics


@dataclass(frozen=True, slots=True)
class DayRange:
    """Local days ``start``..``end``, both included (what ``SurveyResponse.day`` holds)."""

    start: date
    end: date


def _filters(workspace_id: str, days: DayRange, channel: str | None) -> metrics.Filters:
    return metrics.Filters(
        workspace_id=workspace_id, channel=channel, start=days.start, end=days.end
    )


def _hist(session: Session, metric: metrics.ScoreMetric, f: metrics.Filters) -> dict[int, int]:
    hists = metrics.histograms(session, metric, f, by=None, period="all")
    return dict(hists.get((None, "all"), {}))


def _rate(session: Session, f: metrics.Filters) -> dict[str, Any]:
    rows = metrics.compute(session, metrics.RESPONSE_RATE.name, f)
    return rows[0].values if rows else metrics.RESPONSE_RATE.summarise({})


def kpis(
    session: Session,
    *,
    workspace_id: str,
    current: DayRange,
    previous: DayRange | None,
    channel: str | None = None,
) -> dict[str, Any]:
    """``{nps|csat|ces|response_rate: {current, previous, change}}``; no previous, no change."""
    out: dict[str, Any] = {}
    cur_f = _filters(workspace_id, current, channel)
    prev_f = _filters(workspace_id, previous, channel) if previous else None
    for name, metric in metrics.METRICS.items():
        now = _hist(session, metric, cur_f)
        before = _hist(session, metric, prev_f) if prev_f else None
        out[name] = {
            "current": metric.summarise(now),
            "previous": metric.summarise(before) if before is not None else None,
            "change": metric.compare(before, now) if before is not None else None,
        }
    rate = _rate(session, cur_f)
    prev_rate = _rate(session, prev_f) if prev_f else None
    out["response_rate"] = {
        "current": rate,
        "previous": prev_rate,
        "change": share_change(
            prev_rate["completed"], prev_rate["sent"], rate["completed"], rate["sent"]
        )
        if prev_rate is not None
        else None,
    }
    return out
