"""One query object per journey metric, shared by the API, the CLI and the dashboard.

A metric object holds what the user asked (steps and window of a funnel, the anchor of paths,
the stages of a journey map, ...), checked on construction so every caller refuses bad input
with the same 4xx naming the field. ``compute(scope)`` answers it on a ``Scope``: the event
store, the workspace and period, and whether the journey index may serve it (``accelerate``).
The metrics build their sources and run the query objects of ``queries*``; a caller never
assembles SQL parameters itself. ``service.run_metric`` refreshes the identity map and runs one.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

import pyarrow as pa

from safar.errors import ValidationFailed
from safar.events.store import EventStore
from safar.events.store.analytics import has_table
from safar.journeys import analysis, funnels
from safar.journeys import queries as q
from safar.journeys.definitions import JourneyDefinition
from safar.journeys.drivers import DriverReport, key_drivers
from safar.journeys.journey_map import journey_map
from safar.journeys.params import Direction, FunnelMode
from safar.journeys.personas import (
    PersonaReport,
    PersonaRule,
    by_rules,
    cluster,
    load_customers,
)
from safar.journeys.queries_cx import CustomerScores, CustomerTouchpoints
from safar.kit.query import dialect_of, run

T_co = TypeVar("T_co", covariant=True)
#: The most variants a coverage share is counted over (the rest are rarer still).
MAX_COVERED_VARIANTS = 10_000


def _us(dt: datetime | None) -> int | None:
    return None if dt is None else int(dt.timestamp() * 1_000_000)


@dataclass(frozen=True)
class Scope:
    """Where a metric runs: a workspace's events in [since, until) on the event store,
    optionally only one channel's events and only some customers' (a segment's members)."""

    store: EventStore
    workspace_id: str
    since: datetime | None = None
    until: datetime | None = None
    accelerate: bool = True
    channel: str | None = None
    members: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if self.since and self.until and self.since >= self.until:
            raise ValidationFailed("since: must be before until (empty window)", field="since")

    def source(
        self, *, details: bool = False, sentiment: bool = False, from_start: bool = False
    ) -> q.Source:
        """The events as a case source (customer = resolved profile); ``from_start`` keeps
        everything before ``until`` (a trait told before the period still describes a customer)."""
        return q.events_source(
            dialect_of(self.store),
            db=str(getattr(self.store, "db", "safar")),
            workspace_id=self.workspace_id,
            since_us=None if from_start else _us(self.since),
            until_us=_us(self.until),
            details=details,
            sentiment=sentiment,
            channel=self.channel,
            members=self.members,
        )

    def require_events(self, src: q.Source) -> None:
        """Refuse a period without events (an empty analysis would look like a result)."""
        if not run(self.store, q.CountEvents(src)):
            raise ValidationFailed(
                "since: there are no events of identified customers in the chosen period",
                field="since",
            )


class Metric(Protocol[T_co]):
    """A journey metric: what was asked, computed on a scope."""

    def compute(self, scope: Scope) -> T_co: ...


@dataclass(frozen=True)
class FunnelQuery:
    """Customers reaching each step within the window, optionally broken down."""

    steps: tuple[str, ...]
    window_seconds: float
    mode: FunnelMode = "strict"
    dropped_limit: int = 0
    breakdown: str | None = None
    breakdown_limit: int = 5
    personas: tuple[PersonaRule, ...] = ()

    def __post_init__(self) -> None:
        funnels.spec_of(list(self.steps), self.window_seconds, self.mode)
        self.parsed_breakdown()

    def parsed_breakdown(self) -> funnels.Breakdown | None:
        if not self.breakdown:
            return None
        rules = list(self.personas) or None
        return funnels.Breakdown.parse(self.breakdown, personas=rules, limit=self.breakdown_limit)

    def compute(self, scope: Scope) -> funnels.Funnel:
        bd = self.parsed_breakdown()
        sources = None
        if bd is not None:
            sources = funnels.BreakdownSources(
                details=scope.source(details=True),
                traits=scope.source(details=True, from_start=True),
            )
        return funnels.funnel(
            scope.store, scope.source(), list(self.steps), window_seconds=self.window_seconds,
            dropped_limit=self.dropped_limit, mode=self.mode, breakdown=bd,
            breakdown_sources=sources, accelerate=scope.accelerate,
        )  # fmt: skip


@dataclass(frozen=True)
class PathsQuery:
    """Top paths after (or before) an event, and the Sankey of them (with ``per_step``, each
    step's rarer activities folded into "other")."""

    anchor: str
    direction: Direction = "after"
    depth: int = 3
    top: int = 10
    per_step: int | None = None

    def __post_init__(self) -> None:
        if not self.anchor.strip():
            raise ValidationFailed("anchor: name an event", field="anchor")
        if not 1 <= self.depth <= 10:
            raise ValidationFailed("depth: between 1 and 10", field="depth")
        if self.direction not in ("after", "before"):
            raise ValidationFailed("direction: 'after' or 'before'", field="direction")
        if self.per_step is not None and not 1 <= self.per_step <= 50:
            raise ValidationFailed("per_step: between 1 and 50", field="per_step")

    def compute(self, scope: Scope) -> dict[str, Any]:
        return analysis.paths(
            scope.store, scope.source(), anchor=self.anchor, direction=self.direction,
            depth=self.depth, top=self.top, per_step=self.per_step, accelerate=scope.accelerate,
        )  # fmt: skip


@dataclass(frozen=True)
class DiscoveryQuery:
    """Directly-follows graph, variants, start and end activities.

    A map of every variant is a tangle (hundreds of variants for as many customers), so the
    graph can be drawn from the most frequent variants only: the ``top_variants`` first, or as
    many as it takes to cover ``coverage`` (0-1] of the customers; edges seen fewer than
    ``min_frequency`` times are left out, and ``max_edges`` keeps only the most frequent edges
    (when customers' variants are nearly all different, the edges are what simplifies).
    """

    top_variants: int | None = None
    min_frequency: int = 1
    max_variants: int | None = None
    coverage: float | None = None
    max_edges: int | None = None

    def __post_init__(self) -> None:
        if self.top_variants is not None and self.top_variants < 1:
            raise ValidationFailed("top_variants: must be at least 1", field="top_variants")
        if self.min_frequency < 1:
            raise ValidationFailed("min_frequency: must be at least 1", field="min_frequency")
        if self.coverage is not None:
            if not 0 < self.coverage <= 1:
                raise ValidationFailed("coverage: a share above 0 and at most 1",
                                       field="coverage")  # fmt: skip
            if self.top_variants is not None:
                raise ValidationFailed("coverage: give top_variants or coverage, not both",
                                       field="coverage")  # fmt: skip
        if self.max_edges is not None and self.max_edges < 1:
            raise ValidationFailed("max_edges: must be at least 1", field="max_edges")

    def compute(self, scope: Scope) -> analysis.Discovery:
        src = scope.source()
        scope.require_events(src)
        top = self.top_variants
        if self.coverage is not None:
            every = analysis.discover(scope.store, src, max_variants=MAX_COVERED_VARIANTS,
                                      accelerate=scope.accelerate)  # fmt: skip
            counts = [v["count"] for v in every.variants]
            top = analysis.variants_covering(counts, every.cases, self.coverage)
            if top >= every.variant_count:
                top = None  # every variant: the whole log
        # ``max_variants`` would also narrow the variants the graph is drawn from: list
        # fewer afterwards instead.
        found = analysis.discover(
            scope.store, src, top_variants=top, min_frequency=self.min_frequency,
            max_variants=None if top else self.max_variants, accelerate=scope.accelerate,
        )  # fmt: skip
        if self.max_variants is not None:
            found.variants = found.variants[: self.max_variants]
        found.kept_variants = min(top, found.variant_count) if top else found.variant_count
        if self.max_edges is not None:
            ranked = sorted(found.edges, key=lambda e: (-e["frequency"], e["source"], e["target"]))
            found.edges = ranked[: self.max_edges]
        return found


@dataclass(frozen=True)
class JourneyMapQuery:
    """Stages with KPIs and the emotion curve, the stage funnel, and conformance to the design."""

    journey: JourneyDefinition
    window_seconds: float = 30 * 86400

    def __post_init__(self) -> None:
        self.journey.order()  # an unknown stage in the designed order is a 400 now

    def compute(self, scope: Scope) -> dict[str, Any]:
        with_text = has_table(scope.store, "text_analyses")
        src = scope.source(details=True, sentiment=with_text)
        scope.require_events(src)
        return journey_map(
            scope.store, src, self.journey, window_seconds=self.window_seconds,
            with_text=with_text, accelerate=scope.accelerate,
        )  # fmt: skip


@dataclass(frozen=True)
class DriversQuery:
    """Key drivers of a score carried by events, among each customer's touchpoints before it."""

    target_event: str
    target_property: str
    max_events: int = 25

    def __post_init__(self) -> None:
        if not self.target_event.strip():
            raise ValidationFailed("target_event: name the event carrying the score",
                                   field="target_event")  # fmt: skip
        if not self.target_property.strip():
            raise ValidationFailed("target_property: name the score property",
                                   field="target_property")  # fmt: skip

    def table(self, scope: Scope) -> pa.Table:
        """One row per scored customer: ``__score`` and touchpoint counts before the last score.

        Factors are the numbers of events of each kind (the ``max_events`` most common) and of
        contacts per channel; customers without a numeric score are left out.
        """
        return self.frame(scope)[1]

    def customers(self, scope: Scope, factor: str) -> list[str]:
        """The scored customers behind a driver: those with that touchpoint (a count above 0)
        before their score, in profile id order."""
        ids, table = self.frame(scope)
        if factor not in table.column_names or factor == "__score":
            raise ValidationFailed(f"factor: {factor[:80]!r} is not a factor of this score",
                                   field="factor")  # fmt: skip
        counts = table.column(factor).to_pylist()
        return sorted(i for i, n in zip(ids, counts, strict=True) if n > 0)

    def frame(self, scope: Scope) -> tuple[list[str], pa.Table]:
        """The customers' ids, and ``table``'s rows in their order."""
        src = scope.source(details=True)
        scores = run(scope.store, CustomerScores(src, self.target_event, self.target_property))
        if not scores:
            raise ValidationFailed(
                f"target_property: no {self.target_event!r} events carry a numeric "
                f"{self.target_property!r}",
                field="target_property",
            )
        touch = run(scope.store, CustomerTouchpoints(src, self.target_event, self.target_property))
        index = {r[0]: i for i, r in enumerate(scores)}
        totals: dict[str, int] = {}
        for _, act, _, n in touch:
            totals[act] = totals.get(act, 0) + int(n)
        kept = sorted(totals, key=lambda a: (-totals[a], a))[: self.max_events]
        channels = sorted({r[2] for r in touch})
        cols: dict[str, list[float]] = {f"{a} (events)": [0.0] * len(scores) for a in kept}
        cols.update({f"{c} contacts": [0.0] * len(scores) for c in channels})
        for case_id, act, chan, n in touch:
            i = index[case_id]
            if f"{act} (events)" in cols:
                cols[f"{act} (events)"][i] += n
            cols[f"{chan} contacts"][i] += n
        ids = [str(r[0]) for r in scores]
        return ids, pa.table({"__score": [float(r[1]) for r in scores], **cols})

    def compute(self, scope: Scope) -> DriverReport:
        return key_drivers(self.table(scope), target="__score")


@dataclass(frozen=True)
class PersonasQuery:
    """Personas of the customers: by rules on traits, else discovered by clustering."""

    k: int = 4
    rules: tuple[PersonaRule, ...] = ()

    def compute(self, scope: Scope) -> PersonaReport:
        customers = load_customers(scope.store, scope.source(details=True))
        if self.rules:
            return PersonaReport("rules", by_rules(customers, list(self.rules)))
        return PersonaReport("clustering", cluster(customers, k=self.k), k=self.k)
