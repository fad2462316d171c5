"""Is a change between two periods real? The two significance tests the dashboard's cards use.

Both come from scipy and answer at the 5 % level:

- a share (x of n) in one period against the other: Fisher's exact test on the 2x2 table
  (``scipy.stats.fisher_exact``), valid for the small counts a new workspace has;
- a count of people per period, taken as a Poisson count over periods of the same length: the
  E-test of two Poisson means (``scipy.stats.poisson_means_test``, Krishnamoorthy & Thomson),
  through its normal limit once the counts are large (``E_TEST_EXACT_UP_TO``).
"""

from __future__ import annotations

import math
from typing import Any

ALPHA = 0.05
#: Above this many events in both periods together the E-test's p-value is its normal limit:
#: scipy sums Poisson probabilities over a grid that grows with the counts (6 s for 300,000
#: people, about a minute for 2 million events on this machine), while the limit
#: ``erfc(|x1 - x2| / sqrt(2 (x1 + x2)))`` agrees with it to 1e-4 from a few thousand up.
E_TEST_EXACT_UP_TO = 10_000
#: The normal quantile of a two-sided 95% interval.
Z95 = 1.959963984540054


def wilson(x: int, n: int) -> tuple[float, float]:
    """The Wilson score 95% interval of a share x of n ((0, 1) when n is 0): it stays inside
    [0, 1] and keeps its coverage for the small counts a new workspace has."""
    if n == 0:
        return 0.0, 1.0
    p = x / n
    denom = 1 + Z95**2 / n
    centre = (p + Z95**2 / (2 * n)) / denom
    half = Z95 * math.sqrt(p * (1 - p) / n + Z95**2 / (4 * n * n)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


def share_change(x_prev: int, n_prev: int, x_cur: int, n_cur: int) -> dict[str, Any]:
    """Change of the share x/n in percentage points, with Fisher's exact two-sided p-value."""
    if n_prev <= 0 or n_cur <= 0:
        return {"test": "fisher exact", "diff": None, "p_value": None, "significant": False}
    from scipy.stats import fisher_exact

    table = [[x_cur, n_cur - x_cur], [x_prev, n_prev - x_prev]]
    p_value = float(fisher_exact(table).pvalue)
    return {
        "test": "fisher exact",
        "diff": round(100 * (x_cur / n_cur - x_prev / n_prev), 2),
        "p_value": round(p_value, 5),
        "significant": p_value < ALPHA,
    }


def count_change(previous: int, current: int) -> dict[str, Any]:
    """Relative change of a count (percent) and the Poisson E-test's two-sided p-value."""
    pct = None if previous == 0 else round(100 * (current - previous) / previous, 2)
    if previous == current or previous + current == 0:
        p_value = 1.0
    elif previous + current > E_TEST_EXACT_UP_TO:
        z = abs(current - previous) / math.sqrt(current + previous)
        p_value = math.erfc(z / math.sqrt(2))
    else:
        from scipy.stats import poisson_means_test

        p_value = float(poisson_means_test(current, 1, previous, 1).pvalue)
    return {
        "test": "poisson E-test",
        "diff": current - previous,
        "pct": pct,
        "p_value": round(p_value, 5),
        "significant": p_value < ALPHA,
    }
