"""Key-driver findings in words: English by default, Persian through the dashboard's catalogue,
the same numbers in both; the API and the page say the unit they were given."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from safar.journeys import findings
from safar.journeys.drivers import DriverReport, key_drivers
from safar.web.i18n import Formatter, translations


@pytest.fixture(scope="module")
def report() -> DriverReport:
    rng = np.random.default_rng(5)
    n = 600
    late = rng.random(n) < 0.3
    agent = rng.choice(["ali", "sara", "reza"], n)
    days = rng.integers(1, 10, n).astype(float)
    score = 8 - 2 * late - 1.0 * (agent == "reza") - 0.2 * days + rng.normal(0, 1, n)
    table = pa.table({"csat": score, "late": late, "agent": agent, "days": days,
                      "flat": np.ones(n)})  # fmt: skip
    return key_drivers(table, target="csat", bootstrap=20)


def test_structured_findings_and_english_sentences(report: DriverReport) -> None:
    by = {d.factor: d for d in report.drivers}
    late, agent, days = by["late"], by["agent"], by["days"]
    assert late.contrast.rows_with and late.contrast.rows_without
    assert late.contrast.rows_with + late.contrast.rows_without == 600
    assert agent.contrast.level == "reza" and days.contrast.low is not None
    text = findings.sentence(late, "stars")
    assert text.startswith(f"late: {findings.signed(late.effect)} stars (95% CI ")
    assert f"{late.contrast.rows_with} with vs {late.contrast.rows_without} without" in text
    assert findings.sentence(agent).startswith(
        "agent = reza: "
    ) and "points vs the rest" in text.replace(text, findings.sentence(agent))
    assert findings.sentence(days).startswith(f"days from {days.contrast.low:.4g} to ")
    assert report.skipped == {"flat": "one_side_small"}  # all ones: binary, no "without" side
    api = findings.report_dict(report, unit="stars")
    assert api["skipped"] == {"flat": "fewer than 20 rows on one side"}
    row = next(r for r in api["drivers"] if r["factor"] == "late")
    assert row["contrast"] == "yes vs no" and row["summary"] == text
    assert row["compared"] == {
        "with": late.contrast.rows_with,
        "without": late.contrast.rows_without,
    }


def test_persian_sentences(report: DriverReport) -> None:
    fa = translations("fa").gettext
    fmt = Formatter("fa", "jalali", "Asia/Tehran")
    late = next(d for d in report.drivers if d.factor == "late")
    text = findings.sentence(late, None, fa, fmt.digits)
    assert "بازهٔ اطمینان ۹۵٪" in text and "امتیاز" in text  # the default unit, translated
    assert not any(ch.isascii() and ch.isdigit() for ch in text)  # Persian digits only
    assert findings.contrast_text(late, fa, fmt.digits) == "بله در برابر خیر"
    assert findings.skipped_text("no_variation", fa) == "بدون تغییر"
