"""Key drivers: the Olist result, a planted driver on synthetic data, and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from safar.errors import ValidationFailed
from safar.journeys import findings
from safar.journeys.drivers import FactorSpec, key_drivers, load_table

OLIST_FACTORS = [
    "late_delivery=coalesce(order_delivered_customer_date, TIMESTAMP '9999-01-01') "
    "> order_estimated_delivery_date",
    "order_products_value",
    "order_freight_value",
    "order_items_qty",
    "order_sellers_qty",
    "product_category_name",
    "customer_state",
    "product_photos_qty",
]


def test_olist_late_delivery_is_the_top_driver(shared_data: Path) -> None:
    table = load_table(shared_data / "olist" / "olist_classified_public_dataset.csv")
    report = key_drivers(
        table,
        target="review_score",
        factors=[FactorSpec.parse(f) for f in OLIST_FACTORS],
    )
    top = report.drivers[0]
    assert top.factor == "late_delivery"
    assert top.effect == pytest.approx(-1.84, abs=0.01)
    assert top.effect_ci[0] < top.effect < top.effect_ci[1] < -1.5
    assert top.importance > 0.5
    assert top.contrast.kind == "binary" and top.contrast.rows_with and top.contrast.rows_without
    assert findings.sentence(top, "stars").startswith("late_delivery: -1.8 stars (95% CI -1.")
    assert report.rows == 3584


def test_planted_driver_and_categorical_level() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    late = rng.random(n) < 0.2
    agent = rng.choice(["ali", "sara", "reza"], n)
    price = rng.normal(100, 20, n)
    score = 8 - 3 * late - 1.0 * (agent == "reza") + rng.normal(0, 1, n)
    table = pa.table({"csat": score, "late": late, "agent": agent, "price": price})
    report = key_drivers(table, target="csat")  # factors found automatically
    assert [d.factor for d in report.drivers][:2] == ["late", "agent"]
    late_d, agent_d, price_d = report.drivers
    assert late_d.effect == pytest.approx(-3, abs=0.2)
    assert agent_d.contrast.level == "reza"
    assert findings.contrast_text(agent_d) == "reza vs the rest"
    assert price_d.effect_ci[0] < 0 < price_d.effect_ci[1]  # no real effect: CI spans 0
    assert sum(d.importance for d in report.drivers) == pytest.approx(1)


@pytest.mark.parametrize(
    ("target", "factors", "field"),
    [
        ("nope", None, "target"),
        ("csat", ["missing_col"], "factor"),
        ("csat", ["bad=no_such_column > 1"], "factor"),
        ("label", None, "target"),
    ],
)
def test_bad_input(target: str, factors: list[str] | None, field: str) -> None:
    table = pa.table({"csat": [1.0, 2.0] * 50, "x": list(range(100)), "label": ["a"] * 100})
    with pytest.raises(ValidationFailed) as err:
        key_drivers(
            table,
            target=target,
            factors=[FactorSpec.parse(f) for f in factors] if factors else None,
        )
    assert err.value.field == field


def test_load_table_errors(tmp_path: Path) -> None:
    with pytest.raises(ValidationFailed, match="does not exist"):
        load_table(tmp_path / "none.csv")
    (tmp_path / "x.txt").write_text("a")
    with pytest.raises(ValidationFailed, match="neither CSV nor Parquet"):
        load_table(tmp_path / "x.txt")
