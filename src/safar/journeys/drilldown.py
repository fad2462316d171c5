"""The customers behind a number of a chart: who dropped after a funnel step, who had a key
driver's touchpoint. Metric objects like those of ``metrics`` (checked on construction, computed
on a ``Scope``), so the API and the dashboard's drill-down list the same people.
"""

from __future__ import annotations

from dataclasses import dataclass

from safar.errors import ValidationFailed
from safar.journeys import funnels
from safar.journeys.metrics import DriversQuery, FunnelQuery, Scope

#: The most customers one drill-down lists (a segment, a CSV or a journey entry takes them all).
MAX_CUSTOMERS = 10_000


@dataclass(frozen=True)
class DroppedCustomers:
    """Customers who reached step ``after_step`` (1-based) of the funnel but not the next."""

    funnel: FunnelQuery
    after_step: int
    limit: int = MAX_CUSTOMERS

    def __post_init__(self) -> None:
        if not 1 <= self.after_step < len(self.funnel.steps):
            raise ValidationFailed(
                f"after_step: must be between 1 and {len(self.funnel.steps) - 1}",
                field="after_step",
            )

    def compute(self, scope: Scope) -> list[str]:
        found = funnels.dropped_cases(
            scope.store, scope.source(), list(self.funnel.steps),
            window_seconds=self.funnel.window_seconds, after_step=self.after_step,
            limit=self.limit, mode=self.funnel.mode, accelerate=scope.accelerate,
        )  # fmt: skip
        return sorted(found)


@dataclass(frozen=True)
class DriverCustomers:
    """Scored customers with a driver's touchpoint (its count above 0) before their score."""

    drivers: DriversQuery
    factor: str

    def __post_init__(self) -> None:
        if not self.factor.strip():
            raise ValidationFailed("factor: name a driver", field="factor")

    def compute(self, scope: Scope) -> list[str]:
        return self.drivers.customers(scope, self.factor)[:MAX_CUSTOMERS]
