"""Metrics against hand-computed values, a coverage simulation, SQL snapshots and real rows."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy.dialects import postgresql, sqlite

from safar.runtime import Runtime
from safar.surveys import metrics, presets
from safar.surveys import service as svc
from tests.surveys.factories import answer

SNAPSHOTS = Path(__file__).parent / "snapshots"
NPS, CSAT, CES = metrics.METRICS["nps"], metrics.METRICS["csat"], metrics.METRICS["ces"]


def test_nps_by_hand() -> None:
    # 10 answers: 10 10 9 9 9 | 8 7 | 6 3 0  ->  5 promoters, 2 passives, 3 detractors.
    out = NPS.summarise({10: 2, 9: 3, 8: 1, 7: 1, 6: 1, 3: 1, 0: 1})
    assert (out["promoters"], out["passives"], out["detractors"]) == (5, 2, 3)
    assert out["score"] == 20.0  # 100 * (5 - 3) / 10
    # var of one answer = 0.5 + 0.3 - 0.2^2 = 0.76; SE = sqrt(0.76 / 10) = 0.27568
    assert out["se"] == 27.568
    # Interval on adjusted counts 6/3/4 (n = 13): centre 2/13, var 10/13 - (2/13)^2
    # = 0.745562, half-width 1.959964 * sqrt(0.745562 / 13) = 0.469375.
    assert out["ci_low"] == -31.55 and out["ci_high"] == 62.32


def test_csat_and_ces_by_hand() -> None:
    csat = CSAT.summarise({5: 2, 4: 1, 3: 1, 1: 1})
    assert csat["n"] == 5 and csat["mean"] == 3.6 and csat["top2"] == 3
    assert csat["top2_pct"] == 60.0
    ces = CES.summarise({7: 1, 6: 1, 5: 1, 4: 1, 2: 1, 1: 1})
    assert ces["mean"] == 4.167 and ces["easy"] == 3 and ces["easy_pct"] == 50.0
    assert NPS.summarise({})["score"] is None


@pytest.mark.parametrize(
    ("probs", "n"),
    [((0.45, 0.30, 0.25), 200), ((0.30, 0.30, 0.40), 50), ((0.80, 0.15, 0.05), 30)],
)
def test_nps_interval_covers_the_true_score_95_percent_of_the_time(
    probs: tuple[float, float, float], n: int
) -> None:
    rng = np.random.default_rng(20261123)
    true = 100 * (probs[0] - probs[2])
    draws = rng.multinomial(n, probs, size=4000)
    covered = 0
    for p, a, d in draws:
        low, high = NPS.interval(int(p), int(a), int(d))
        covered += low <= true <= high
    assert 0.93 <= covered / len(draws) <= 0.975


def test_change_between_periods() -> None:
    before = {10: 40, 8: 30, 3: 30}  # NPS 10
    after = {10: 60, 8: 25, 3: 15}  # NPS 45
    out = NPS.compare(before, after)
    # SE = sqrt(0.69 / 100 + 0.5475 / 100) = 0.11124; z = 0.35 / 0.11124 = 3.146; p = 0.00165
    assert out["diff"] == 35.0 and out["z"] == 3.146 and out["p_value"] == 0.00165
    assert out["significant"]
    same = NPS.compare(before, before)
    assert same["diff"] == 0.0 and same["p_value"] == 1.0 and not same["significant"]
    small = NPS.compare({10: 3, 3: 2}, {10: 4, 3: 1})
    assert not small["significant"]
    assert CSAT.compare({5: 50, 2: 50}, {5: 80, 2: 20})["significant"]
    assert not CES.compare({6: 10, 3: 10}, {6: 11, 3: 9})["significant"]


@pytest.mark.parametrize(
    ("day", "period", "key"),
    [
        (date(2026, 3, 20), "jalali_month", "1404-12"),
        (date(2026, 3, 21), "jalali_month", "1405-01"),  # Nowruz
        (date(2026, 11, 21), "jalali_week", "1405-08-30"),  # a Saturday starts its week
        (date(2026, 11, 23), "jalali_week", "1405-08-30"),
        (date(2026, 11, 20), "jalali_week", "1405-08-23"),  # Friday ends the previous one
        (date(2026, 11, 23), "week", "2026-11-23"),
        (date(2026, 11, 23), "month", "2026-11"),
    ],
)
def test_periods(day: date, period: str, key: str) -> None:
    assert metrics.period_key(day, period) == key


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_sql_snapshot(dialect: str) -> None:
    d = sqlite.dialect() if dialect == "sqlite" else postgresql.dialect()  # type: ignore[no-untyped-call]
    f = metrics.Filters(workspace_id="ws_1", survey_id="svy_1", start=date(2026, 1, 1))
    parts = [
        str(NPS.query(f, "channel").compile(dialect=d)),
        str(metrics.RESPONSE_RATE.query(f, None).compile(dialect=d)),
    ]
    sql = "\n;\n".join(parts) + "\n"
    assert "ws_1" not in sql and "svy_1" not in sql  # values are bound, never formatted in
    path = SNAPSHOTS / f"metrics_{dialect}.sql"
    if os.environ.get("SAFAR_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(sql)
    assert sql == path.read_text()


def test_metrics_on_real_rows_by_channel_and_jalali_month(rt: Runtime, ws_id: str) -> None:
    with rt.db.session() as s:
        survey = svc.create_survey(s, workspace_id=ws_id, data=presets.template("post_delivery"))
        s.expunge(survey)
    esfand = datetime(2026, 3, 10, 12, tzinfo=UTC)
    farvardin = datetime(2026, 4, 5, 12, tzinfo=UTC)
    for nps, csat in [(10, 5), (9, 4), (3, 2)]:
        answer(rt, survey, ws_id, esfand, "email", nps=nps, csat=csat)
    for nps, csat in [(10, 5), (10, 5), (7, 4), (0, 1)]:
        answer(rt, survey, ws_id, farvardin, "sms", nps=nps, csat=csat)
    with rt.db.session() as s:
        f = metrics.Filters(workspace_id=ws_id, survey_id=survey.id)  # type: ignore[attr-defined]
        by_month = metrics.compute(s, "nps", f, period="jalali_month")
        by_channel = metrics.compute(s, "csat", f, by="channel")
        rate = metrics.compute(s, "response_rate", f, by="channel")
        change = metrics.latest_change(s, "nps", f, period="jalali_month")
        only_sms = metrics.compute(s, "nps", metrics.Filters(workspace_id=ws_id, channel="sms"))
    assert [(r.period, r.values["n"], r.values["score"]) for r in by_month] == [
        ("1404-12", 3, 33.33),
        ("1405-01", 4, 25.0),
    ]
    assert [(r.group, r.values["top2_pct"], r.values["mean"]) for r in by_channel] == [
        ("email", 66.67, 3.667),
        ("sms", 75.0, 3.75),
    ]
    assert [(r.group, r.values["sent"], r.values["completed"]) for r in rate] == [
        ("email", 3, 0),  # post-delivery has more steps: these answers are partial
        ("sms", 4, 0),
    ]
    assert change is not None and change["diff"] == -8.33 and not change["significant"]
    assert only_sms[0].values["n"] == 4
