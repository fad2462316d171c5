"""The significance tests of a change between two periods."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime

import pytest
from scipy import stats

from safar.kit import calendar
from safar.kit.stats import count_change, share_change


def test_share_change_is_fishers_exact_test() -> None:
    got = share_change(30, 100, 45, 100)
    assert got["diff"] == 15.0
    assert got["p_value"] == round(stats.fisher_exact([[45, 55], [30, 70]]).pvalue, 5)
    assert got["significant"] is True  # p = 0.04
    small = share_change(1, 4, 6, 8)
    assert small["diff"] == 50.0 and small["significant"] is False
    assert share_change(0, 0, 3, 5)["diff"] is None


def test_count_change_is_the_poisson_e_test() -> None:
    got = count_change(100, 160)
    assert got["pct"] == 60.0 and got["diff"] == 60 and got["significant"] is True
    assert count_change(100, 108)["significant"] is False
    assert count_change(0, 5)["pct"] is None
    assert count_change(7, 7) == {"test": "poisson E-test", "diff": 0, "pct": 0.0,
                                  "p_value": 1.0, "significant": False}  # fmt: skip


@pytest.mark.parametrize(
    ("previous", "current"), [(5_200, 4_900), (6_000, 6_150), (15_000, 14_600), (30_000, 29_000)]
)
def test_large_counts_take_the_e_tests_normal_limit(previous: int, current: int) -> None:
    """Above the threshold the fast limit gives the exact E-test's p-value to 1e-3, in a
    fraction of its time (the exact test of 2 million events takes about a minute)."""
    got = count_change(previous, current)
    exact = stats.poisson_means_test(current, 1, previous, 1).pvalue
    assert got["p_value"] == pytest.approx(exact, abs=1e-3)
    assert got["significant"] is bool(exact < 0.05)
    started = time.perf_counter()
    huge = count_change(2_000_000, 1_990_000)
    assert time.perf_counter() - started < 0.05
    assert huge["significant"] is True and huge["pct"] == -0.5


def test_local_days_and_jalali_month_and_year_starts() -> None:
    since, until = calendar.day_range(date(2026, 3, 20), date(2026, 3, 21), "Asia/Tehran")
    assert since == datetime(2026, 3, 19, 20, 30, tzinfo=UTC)
    assert until == datetime(2026, 3, 21, 20, 30, tzinfo=UTC)
    assert calendar.month_start(date(2026, 12, 7), jalali=True) == date(2026, 11, 22)
    assert calendar.year_start(date(2026, 3, 20), jalali=True) == date(2025, 3, 21)
    assert calendar.year_start(date(2026, 3, 21), jalali=True) == date(2026, 3, 21)
