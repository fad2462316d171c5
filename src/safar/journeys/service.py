"""Journey analyses on a workspace's stored events: identity map refresh, then the engine runs.

The event store knows identifiers, the state store knows which profile owns them. Before an
analysis per customer, ``refresh_identity_map`` copies the current ``user_id`` and
``anonymous_id`` owners of the workspace into the event store's ``identity_map`` table, so the
engine can resolve each event's customer itself (merges and unmerges show up at the next
refresh; events are never rewritten). The copy is skipped while the identity graph is
unchanged: its version (identities of those types: count and largest id; merges: count, undone
count, latest merge and unmerge times) is kept beside the map in ``identity_map_version``. The
event store owns those tables (``events.store.analytics``).

``run_metric`` refreshes the map and computes one metric object of ``metrics``; the API, the
CLI and the dashboard call it. The functions below it are the same metrics by keyword, for
scripts and tests.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

import pyarrow as pa
from sqlalchemy.orm import Session

from safar.events.store import EventStore, analytics, results
from safar.identity import snapshot
from safar.journeys import analysis, funnels
from safar.journeys import queries as q
from safar.journeys.definitions import JourneyDefinition
from safar.journeys.drivers import DriverReport
from safar.journeys.metrics import (
    DiscoveryQuery,
    DriversQuery,
    FunnelQuery,
    JourneyMapQuery,
    Metric,
    PathsQuery,
    PersonasQuery,
    Scope,
)
from safar.journeys.params import Direction, FunnelMode
from safar.journeys.personas import PersonaReport, PersonaRule

T = TypeVar("T")


def ensure_identity_map(store: EventStore) -> None:
    """Create the ``identity_map`` table in the event store if it is missing."""
    analytics.ensure_identity_map(store)


def identity_version(session: Session, workspace_id: str) -> str:
    """A cheap fingerprint of the workspace's identity graph (see ``identity.snapshot``)."""
    return snapshot.graph_version(session, workspace_id)


def refresh_identity_map(
    session: Session, store: EventStore, *, workspace_id: str, force: bool = False
) -> int | None:
    """Replace the workspace's rows of ``identity_map`` with the state store's; return rows
    (None when the graph is unchanged since the last copy, unless ``force``)."""
    return snapshot.refresh_identity_map(session, store, workspace_id=workspace_id, force=force)


def run_metric(
    session: Session,
    store: EventStore,
    metric: Metric[T],
    *,
    workspace_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
    accelerate: bool = True,
    channel: str | None = None,
    members: tuple[str, ...] | None = None,
) -> T:
    """Compute ``metric`` on the workspace's events in [since, until) (identity map refreshed);
    ``channel`` and ``members`` narrow it to one channel's events and to those customers.

    A metric reads only the event store (the identity map is a copy in it), so its result is
    kept until the next write to the store (``events.store.results``): the dashboard's
    all-time process map over 10M events then costs its analysis once per change, not per view.
    """
    scope = Scope(store, workspace_id, since, until, accelerate, channel, members)
    refresh_identity_map(session, store, workspace_id=workspace_id)
    key = ("journeys", workspace_id, metric, since, until, accelerate, channel, members)
    return results.cached(store, key, lambda: metric.compute(scope))


def source(
    store: EventStore,
    *,
    workspace_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
    details: bool = False,
) -> q.Source:
    """The workspace's events as a case source (customer = resolved profile)."""
    return Scope(store, workspace_id, since, until).source(details=details)


def discover(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    since: datetime | None = None,
    until: datetime | None = None,
    top_variants: int | None = None,
    min_frequency: int = 1,
    max_variants: int | None = None,
    accelerate: bool = True,
) -> analysis.Discovery:
    metric = DiscoveryQuery(top_variants, min_frequency, max_variants)
    return run_metric(session, store, metric, workspace_id=workspace_id, since=since,
                      until=until, accelerate=accelerate)  # fmt: skip


def funnel(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    steps: list[str],
    window_seconds: float,
    since: datetime | None = None,
    until: datetime | None = None,
    dropped_limit: int = 0,
    mode: FunnelMode = "strict",
    breakdown: str | None = None,
    breakdown_limit: int = 5,
    personas: list[PersonaRule] | None = None,
    accelerate: bool = True,
) -> funnels.Funnel:
    """Strict- or any-order funnel of the workspace's customers, optionally broken down by
    ``channel``, ``persona`` (with ``personas`` rules), ``property:KEY`` or ``trait:KEY``."""
    metric = FunnelQuery(
        tuple(steps), window_seconds, mode, dropped_limit, breakdown, breakdown_limit,
        tuple(personas or ()),
    )  # fmt: skip
    return run_metric(session, store, metric, workspace_id=workspace_id, since=since,
                      until=until, accelerate=accelerate)  # fmt: skip


def paths(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    anchor: str,
    direction: Direction = "after",
    depth: int = 3,
    top: int = 10,
    since: datetime | None = None,
    until: datetime | None = None,
    accelerate: bool = True,
) -> dict[str, Any]:
    metric = PathsQuery(anchor, direction, depth, top)
    return run_metric(session, store, metric, workspace_id=workspace_id, since=since,
                      until=until, accelerate=accelerate)  # fmt: skip


def customer_table(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    target_event: str,
    target_property: str,
    max_events: int = 25,
    since: datetime | None = None,
    until: datetime | None = None,
) -> pa.Table:
    """One row per scored customer: ``__score`` and touchpoint counts (``DriversQuery.table``)."""
    metric = DriversQuery(target_event, target_property, max_events)
    refresh_identity_map(session, store, workspace_id=workspace_id)
    return metric.table(Scope(store, workspace_id, since, until))


def drivers(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    target_event: str,
    target_property: str,
    max_events: int = 25,
    since: datetime | None = None,
    until: datetime | None = None,
) -> DriverReport:
    metric = DriversQuery(target_event, target_property, max_events)
    return run_metric(session, store, metric, workspace_id=workspace_id, since=since, until=until)


def journey_map(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    journey: JourneyDefinition,
    window_seconds: float = 30 * 86400,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    metric = JourneyMapQuery(journey, window_seconds)
    return run_metric(session, store, metric, workspace_id=workspace_id, since=since, until=until)


def personas(
    session: Session,
    store: EventStore,
    *,
    workspace_id: str,
    k: int = 4,
    rules: list[PersonaRule] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> PersonaReport:
    """Personas of the workspace's customers: by ``rules`` on traits, else by clustering."""
    metric = PersonasQuery(k, tuple(rules or ()))
    return run_metric(session, store, metric, workspace_id=workspace_id, since=since, until=until)
