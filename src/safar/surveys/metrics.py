"""Survey metrics, each defined once: NPS, CSAT, CES and response rate.

Every metric is a small object that builds one parameterised, set-based query over the state
store (counts per dimension, local day and score value) and a pure ``summarise`` of a score
histogram. The API, the CLI and the dashboard all call ``compute`` / ``compare`` here.

NPS interval. Each answer is a trinomial draw scoring +1 (promoter, 9-10), 0 (passive, 7-8) or
-1 (detractor, 0-6); NPS = 100 (p_P - p_D). The variance of one draw is
p_P + p_D - (p_P - p_D)^2, so SE = sqrt(var / n) and the 95 % interval is NPS +- 1.96 SE.
Plain Wald intervals collapse to zero width when every answer is in one category, so the
interval (not the score) uses "adjusted" proportions with one pseudo-answer added to each
category (n + 3), and is clipped to [-100, 100]. ``tests/surveys/test_metrics.py`` checks by
simulation that it covers the true score about 95 % of the time.

Change between periods: NPS by a z-test on the difference of two independent scores (variances
as above); CSAT by a two-proportion z-test on top-2-box; CES by Welch's t-test on the means.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import Select, case, func, literal_column, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from safar.errors import ValidationFailed
from safar.kit.calendar import PERIODS as PERIODS
from safar.kit.calendar import period_key as period_key
from safar.kit.stats import Z95 as Z95
from safar.kit.stats import wilson as wilson
from safar.surveys.models import Invitation, SurveyResponse


def _stats() -> Any:
    """scipy.stats, loaded on the first interval or test rather than at server start."""
    from scipy import stats

    return stats


DIMENSIONS = ("survey", "touchpoint", "channel", "segment", "language")


@dataclass(frozen=True, slots=True)
class Filters:
    workspace_id: str
    survey_id: str | None = None
    touchpoint: str | None = None
    channel: str | None = None
    segment: str | None = None
    language: str | None = None
    start: date | None = None
    end: date | None = None


def _dimension(table: Any, by: str | None) -> ColumnElement[Any]:
    if by is None:
        return literal_column("'all'").label("dim")
    if by not in DIMENSIONS:
        raise ValidationFailed(f"by: use one of {', '.join(DIMENSIONS)}", field="by")
    column = table.survey_id if by == "survey" else getattr(table, by)
    return column.label("dim")  # type: ignore[no-any-return]


def _groups(by: str | None, dim: ColumnElement[Any]) -> list[ColumnElement[Any]]:
    # A constant in GROUP BY is an error on PostgreSQL; nothing to group by then.
    return [] if by is None else [dim]


def _where(table: Any, f: Filters) -> list[ColumnElement[bool]]:
    cond: list[ColumnElement[bool]] = [table.workspace_id == f.workspace_id]
    for name in ("survey_id", "touchpoint", "channel", "segment", "language"):
        value = getattr(f, name)
        if value is not None:
            cond.append(getattr(table, name) == value)
    if f.start is not None:
        cond.append(table.day >= f.start)
    if f.end is not None:
        cond.append(table.day <= f.end)
    return cond


# -- score metrics -------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class ScoreMetric:
    name: str
    low: int
    high: int

    @property
    def column(self) -> Any:
        return getattr(SurveyResponse, self.name)

    def query(self, f: Filters, by: str | None) -> Select[Any]:
        """Counts per (dimension, day, score): everything else is arithmetic on these."""
        dim = _dimension(SurveyResponse, by)
        score = self.column
        return (
            select(dim, SurveyResponse.day, score.label("score"), func.count().label("n"))
            .where(*_where(SurveyResponse, f), score.is_not(None))
            .group_by(*_groups(by, dim), SurveyResponse.day, score)
            .order_by(SurveyResponse.day, score)
        )

    def summarise(self, hist: dict[int, int]) -> dict[str, Any]:
        raise NotImplementedError

    def compare(self, a: dict[int, int], b: dict[int, int]) -> dict[str, Any]:
        raise NotImplementedError


def _n(hist: dict[int, int]) -> int:
    return sum(hist.values())


def _mean_sd(hist: dict[int, int]) -> tuple[float, float]:
    n = _n(hist)
    mean = sum(k * v for k, v in hist.items()) / n
    if n < 2:
        return mean, 0.0
    var = sum(v * (k - mean) ** 2 for k, v in hist.items()) / (n - 1)
    return mean, math.sqrt(var)


def _mean_ci(hist: dict[int, int]) -> tuple[float | None, float | None]:
    n = _n(hist)
    if n < 2:
        return None, None
    mean, sd = _mean_sd(hist)
    half = float(_stats().t.ppf(0.975, n - 1)) * sd / math.sqrt(n)
    return mean - half, mean + half


def _round(x: float | None, d: int = 2) -> float | None:
    return None if x is None else round(x, d)


class NPS(ScoreMetric):
    def parts(self, hist: dict[int, int]) -> tuple[int, int, int]:
        promoters = sum(v for k, v in hist.items() if k >= 9)
        passives = sum(v for k, v in hist.items() if 7 <= k <= 8)
        detractors = sum(v for k, v in hist.items() if k <= 6)
        return promoters, passives, detractors

    @staticmethod
    def score_var(p: int, a: int, d: int) -> tuple[float, float]:
        """(NPS on -1..1, variance of one answer) from category counts."""
        n = p + a + d
        pp, pd = p / n, d / n
        return pp - pd, pp + pd - (pp - pd) ** 2

    @staticmethod
    def interval(p: int, a: int, d: int) -> tuple[float, float]:
        """95 % interval of NPS (-100..100), adjusted Wald with one pseudo-answer per category."""
        p2, a2, d2 = p + 1, a + 1, d + 1
        n2 = p2 + a2 + d2
        centre, var = NPS.score_var(p2, a2, d2)
        half = Z95 * math.sqrt(var / n2)
        return max(-100.0, 100 * (centre - half)), min(100.0, 100 * (centre + half))

    def summarise(self, hist: dict[int, int]) -> dict[str, Any]:
        p, a, d = self.parts(hist)
        n = p + a + d
        if n == 0:
            return {"n": 0, "score": None, "ci_low": None, "ci_high": None}
        score, var = self.score_var(p, a, d)
        low, high = self.interval(p, a, d)
        return {
            "n": n,
            "promoters": p,
            "passives": a,
            "detractors": d,
            "promoters_pct": round(100 * p / n, 2),
            "passives_pct": round(100 * a / n, 2),
            "detractors_pct": round(100 * d / n, 2),
            "score": round(100 * score, 2),
            "se": round(100 * math.sqrt(var / n), 3),
            "ci_low": round(low, 2),
            "ci_high": round(high, 2),
        }

    def compare(self, a: dict[int, int], b: dict[int, int]) -> dict[str, Any]:
        pa, pb = self.parts(a), self.parts(b)
        if not sum(pa) or not sum(pb):
            return {"test": "z", "diff": None, "p_value": None, "significant": False}
        sa, va = self.score_var(*pa)
        sb, vb = self.score_var(*pb)
        se = math.sqrt(va / sum(pa) + vb / sum(pb))
        diff = sb - sa
        if se == 0:
            p_value = 1.0 if diff == 0 else 0.0
            z = 0.0 if diff == 0 else math.copysign(math.inf, diff)
        else:
            z = diff / se
            p_value = float(2 * _stats().norm.sf(abs(z)))
        return {
            "test": "z (difference of two NPS, trinomial variance)",
            "diff": round(100 * diff, 2),
            "z": round(z, 3) if math.isfinite(z) else None,
            "p_value": round(p_value, 5),
            "significant": p_value < 0.05,
        }


class CSAT(ScoreMetric):
    def summarise(self, hist: dict[int, int]) -> dict[str, Any]:
        n = _n(hist)
        if n == 0:
            return {"n": 0, "mean": None, "top2_pct": None}
        top2 = sum(v for k, v in hist.items() if k >= self.high - 1)
        mean, _ = _mean_sd(hist)
        lo, hi = _mean_ci(hist)
        w_lo, w_hi = wilson(top2, n)
        return {
            "n": n,
            "mean": round(mean, 3),
            "mean_ci_low": _round(lo, 3),
            "mean_ci_high": _round(hi, 3),
            "top2": top2,
            "top2_pct": round(100 * top2 / n, 2),
            "top2_ci_low": round(100 * w_lo, 2),
            "top2_ci_high": round(100 * w_hi, 2),
            "distribution": {str(k): hist.get(k, 0) for k in range(self.low, self.high + 1)},
        }

    def compare(self, a: dict[int, int], b: dict[int, int]) -> dict[str, Any]:
        na, nb = _n(a), _n(b)
        if not na or not nb:
            return {"test": "z", "diff": None, "p_value": None, "significant": False}
        xa = sum(v for k, v in a.items() if k >= self.high - 1)
        xb = sum(v for k, v in b.items() if k >= self.high - 1)
        pooled = (xa + xb) / (na + nb)
        se = math.sqrt(pooled * (1 - pooled) * (1 / na + 1 / nb))
        diff = xb / nb - xa / na
        p_value = 1.0 if se == 0 else float(2 * _stats().norm.sf(abs(diff / se)))
        return {
            "test": "two-proportion z (top-2-box)",
            "diff": round(100 * diff, 2),
            "p_value": round(p_value, 5),
            "significant": p_value < 0.05,
        }


class CES(ScoreMetric):
    def summarise(self, hist: dict[int, int]) -> dict[str, Any]:
        n = _n(hist)
        if n == 0:
            return {"n": 0, "mean": None, "easy_pct": None}
        easy = sum(v for k, v in hist.items() if k >= 5)
        mean, _ = _mean_sd(hist)
        lo, hi = _mean_ci(hist)
        return {
            "n": n,
            "mean": round(mean, 3),
            "mean_ci_low": _round(lo, 3),
            "mean_ci_high": _round(hi, 3),
            "easy": easy,
            "easy_pct": round(100 * easy / n, 2),
            "distribution": {str(k): hist.get(k, 0) for k in range(self.low, self.high + 1)},
        }

    def compare(self, a: dict[int, int], b: dict[int, int]) -> dict[str, Any]:
        if _n(a) < 2 or _n(b) < 2:
            return {"test": "welch t", "diff": None, "p_value": None, "significant": False}
        ma, sa = _mean_sd(a)
        mb, sb = _mean_sd(b)
        if sa == 0 and sb == 0:
            p_value = 1.0 if ma == mb else 0.0
        else:
            res = _stats().ttest_ind_from_stats(mb, sb, _n(b), ma, sa, _n(a), equal_var=False)
            p_value = float(res.pvalue)
        return {
            "test": "welch t (mean)",
            "diff": round(mb - ma, 3),
            "p_value": round(p_value, 5),
            "significant": p_value < 0.05,
        }


METRICS: dict[str, ScoreMetric] = {
    "nps": NPS("nps", 0, 10),
    "csat": CSAT("csat", 1, 5),
    "ces": CES("ces", 1, 7),
}


# -- response rate -------------------------------------------------------------------------------
class ResponseRate:
    name = "response_rate"

    def query(self, f: Filters, by: str | None) -> Select[Any]:
        dim = _dimension(Invitation, by)
        started = (
            select(SurveyResponse.id).where(SurveyResponse.invitation_id == Invitation.id).exists()
        )
        return (
            select(
                dim,
                Invitation.day,
                func.count().label("sent"),
                func.count(Invitation.opened_at).label("opened"),
                func.sum(case((started, 1), else_=0)).label("started"),
                func.count(Invitation.completed_at).label("completed"),
            )
            .where(*_where(Invitation, f), Invitation.status.not_in(["created", "failed"]))
            .group_by(*_groups(by, dim), Invitation.day)
            .order_by(Invitation.day)
        )

    @staticmethod
    def summarise(c: dict[str, int]) -> dict[str, Any]:
        sent = c.get("sent", 0)
        rate = c.get("completed", 0) / sent if sent else None
        low, high = wilson(c.get("completed", 0), sent) if sent else (None, None)
        return {
            **{k: c.get(k, 0) for k in ("sent", "opened", "started", "completed")},
            "rate_pct": None if rate is None else round(100 * rate, 2),
            "ci_low": None if low is None else round(100 * low, 2),
            "ci_high": None if high is None else round(100 * high, 2),
        }


RESPONSE_RATE = ResponseRate()
METRIC_NAMES = (*METRICS, RESPONSE_RATE.name)


@dataclass(slots=True)
class MetricRow:
    group: str | None
    period: str
    values: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"group": self.group, "period": self.period, **self.values}


def histograms(
    session: Session, metric: ScoreMetric, f: Filters, *, by: str | None, period: str
) -> dict[tuple[str | None, str], dict[int, int]]:
    out: dict[tuple[str | None, str], dict[int, int]] = defaultdict(lambda: defaultdict(int))
    for dim, day, score, n in session.execute(metric.query(f, by)):
        key = (None if by is None else dim, period_key(day, period))
        out[key][int(score)] += int(n)
    return out


def compute(
    session: Session, name: str, f: Filters, *, by: str | None = None, period: str = "all"
) -> list[MetricRow]:
    """One metric per (group, period), in order."""
    if period not in PERIODS:
        raise ValidationFailed(f"period: use one of {', '.join(PERIODS)}", field="period")
    if name == RESPONSE_RATE.name:
        counts: dict[tuple[str | None, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
        for dim, day, sent, opened, started, completed in session.execute(
            RESPONSE_RATE.query(f, by)
        ):
            c = counts[(None if by is None else dim, period_key(day, period))]
            for k, v in (
                ("sent", sent),
                ("opened", opened),
                ("started", started),
                ("completed", completed),
            ):
                c[k] += int(v or 0)
        return [
            MetricRow(g, p, RESPONSE_RATE.summarise(c))
            for (g, p), c in sorted(counts.items(), key=_order)
        ]
    metric = METRICS.get(name)
    if metric is None:
        raise ValidationFailed(f"metric: use one of {', '.join(METRIC_NAMES)}", field="metric")
    hists = histograms(session, metric, f, by=by, period=period)
    return [MetricRow(g, p, metric.summarise(h)) for (g, p), h in sorted(hists.items(), key=_order)]


def _order(item: tuple[tuple[str | None, str], Any]) -> tuple[str, str]:
    (g, p), _ = item
    return (g or "", p)


def compare(
    session: Session, name: str, f: Filters, *, period: str, previous: str, current: str
) -> dict[str, Any]:
    """Did the metric change between two periods? (significance at the 5 % level)."""
    metric = METRICS.get(name)
    if metric is None:
        raise ValidationFailed(f"metric: use one of {', '.join(METRICS)}", field="metric")
    hists = histograms(session, metric, f, by=None, period=period)
    a = dict(hists.get((None, previous), {}))
    b = dict(hists.get((None, current), {}))
    return {
        "metric": name,
        "period": period,
        "previous": {"period": previous, **metric.summarise(a)},
        "current": {"period": current, **metric.summarise(b)},
        **metric.compare(a, b),
    }


def latest_change(session: Session, name: str, f: Filters, *, period: str) -> dict[str, Any] | None:
    """Compare the last two periods that have answers."""
    metric = METRICS.get(name)
    if metric is None:
        raise ValidationFailed(f"metric: use one of {', '.join(METRICS)}", field="metric")
    keys = sorted(p for (_, p) in histograms(session, metric, f, by=None, period=period))
    if len(keys) < 2:
        return None
    return compare(session, name, f, period=period, previous=keys[-2], current=keys[-1])
