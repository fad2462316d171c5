"""Journeys API (Bearer secret key): discovery, funnels, paths, drivers and XES export."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from safar.journeys import analysis, findings, persona_findings, service
from safar.journeys.drilldown import DriverCustomers, DroppedCustomers
from safar.journeys.importer import export_xes
from safar.journeys.metrics import (
    DiscoveryQuery,
    DriversQuery,
    FunnelQuery,
    JourneyMapQuery,
    PathsQuery,
    PersonasQuery,
)
from safar.journeys.params import parse_window
from safar.journeys.schemas import (
    CustomersResult,
    DiscoverRequest,
    DiscoverResult,
    DriverCustomersRequest,
    DriversRequest,
    DroppedRequest,
    FunnelRequest,
    FunnelResult,
    JourneyMapRequest,
    PathsRequest,
    PersonasRequest,
)
from safar.workspaces.deps import RuntimeDep, SecretKey, SessionDep

router = APIRouter(prefix="/api/journeys", tags=["journeys"])


@router.post("/discover", response_model=DiscoverResult)
def discover(
    body: DiscoverRequest, key: SecretKey, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Directly-follows graph, variants, start/end activities of the workspace's customers."""
    metric = DiscoveryQuery(body.top_variants, body.min_frequency, body.max_variants,
                            body.coverage, body.max_edges)  # fmt: skip
    result = service.run_metric(session, runtime.store, metric, workspace_id=key.workspace_id,
                                since=body.since, until=body.until)  # fmt: skip
    out = {
        **result.as_dict(durations_p90=True),
        "cases": result.cases,
        "variant_count": result.variant_count,
        "all_cases": result.all_cases,
        "kept_variants": result.kept_variants,
    }
    if body.designed:
        out["conformance"] = analysis.conformance(result, body.designed)
    return out


@router.post("/funnel", response_model=FunnelResult, response_model_exclude_none=False)
def funnel(
    body: FunnelRequest, key: SecretKey, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Funnel (strict or any order) within a conversion window: drop-off, step times,
    dropped cohorts, optionally broken down by channel, persona, property or trait."""
    metric = FunnelQuery(
        tuple(body.steps), parse_window(body.window), body.mode, body.dropped_limit,
        body.breakdown, body.breakdown_limit, tuple(body.personas or ()),
    )  # fmt: skip
    result = service.run_metric(session, runtime.store, metric, workspace_id=key.workspace_id,
                                since=body.since, until=body.until)  # fmt: skip
    return result.as_dict()


@router.get("/funnel", response_model=FunnelResult)
def funnel_get(
    key: SecretKey,
    session: SessionDep,
    runtime: RuntimeDep,
    steps: Annotated[list[str], Query(min_length=2, max_length=10)],
    window: str = "7d",
    mode: Literal["strict", "any"] = "strict",
    breakdown: Annotated[str | None, Query(max_length=80)] = None,
    breakdown_limit: Annotated[int, Query(ge=1, le=50)] = 5,
    dropped_limit: Annotated[int, Query(ge=0, le=10_000)] = 0,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """The funnel with query parameters (``?steps=view&steps=buy&mode=any&breakdown=channel``);
    persona breakdowns need rules, so they are POST only."""
    return funnel(
        FunnelRequest(
            steps=steps, window=window, mode=mode, breakdown=breakdown,
            breakdown_limit=breakdown_limit, dropped_limit=dropped_limit, since=since, until=until,
        ),
        key, session, runtime,
    )  # fmt: skip


@router.post("/map")
def journey_map(
    body: JourneyMapRequest, key: SecretKey, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """A journey map: stages with KPIs and the emotion curve, stage funnel, conformance."""
    metric = JourneyMapQuery(body.journey, parse_window(body.window))
    return service.run_metric(session, runtime.store, metric, workspace_id=key.workspace_id,
                              since=body.since, until=body.until)  # fmt: skip


@router.post("/personas")
def personas(
    body: PersonasRequest, key: SecretKey, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Personas: rule-based on traits when rules are given, else discovered by clustering; each
    with an English ``summary`` (kept for API clients) written from its facts."""
    metric = PersonasQuery(body.k, tuple(body.rules or ()))
    report = service.run_metric(session, runtime.store, metric, workspace_id=key.workspace_id,
                                since=body.since, until=body.until)  # fmt: skip
    return persona_findings.report_dict(report)


@router.post("/paths")
def paths(
    body: PathsRequest, key: SecretKey, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Top paths after (or before) an event, and Sankey nodes and links."""
    metric = PathsQuery(body.anchor, body.direction, body.depth, body.top, body.per_step)
    return service.run_metric(session, runtime.store, metric, workspace_id=key.workspace_id,
                              since=body.since, until=body.until)  # fmt: skip


@router.post("/drivers")
def drivers(
    body: DriversRequest, key: SecretKey, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Key drivers of a score carried by events (e.g. survey_answered.nps) among touchpoints."""
    metric = DriversQuery(body.target_event, body.target_property, body.max_events)
    report = service.run_metric(session, runtime.store, metric, workspace_id=key.workspace_id,
                                since=body.since, until=body.until)  # fmt: skip
    return findings.report_dict(report, unit=body.unit)


@router.post("/funnel/dropped", response_model=CustomersResult)
def funnel_dropped(
    body: DroppedRequest, key: SecretKey, session: SessionDep, runtime: RuntimeDep
) -> CustomersResult:
    """The customers who reached ``after_step`` of the funnel but not the next (at most 10,000)."""
    funnel_metric = FunnelQuery(tuple(body.steps), parse_window(body.window), body.mode)
    metric = DroppedCustomers(funnel_metric, body.after_step)
    found = service.run_metric(session, runtime.store, metric, workspace_id=key.workspace_id,
                               since=body.since, until=body.until)  # fmt: skip
    return CustomersResult(count=len(found), profile_ids=found)


@router.post("/drivers/customers", response_model=CustomersResult)
def driver_customers(
    body: DriverCustomersRequest, key: SecretKey, session: SessionDep, runtime: RuntimeDep
) -> CustomersResult:
    """The scored customers with a driver's touchpoint before their score."""
    drivers_metric = DriversQuery(body.target_event, body.target_property, body.max_events)
    metric = DriverCustomers(drivers_metric, body.factor)
    found = service.run_metric(session, runtime.store, metric, workspace_id=key.workspace_id,
                               since=body.since, until=body.until)  # fmt: skip
    return CustomersResult(count=len(found), profile_ids=found)


@router.get("/export.xes")
def export(key: SecretKey, session: SessionDep, runtime: RuntimeDep) -> Response:
    """The workspace's events as an XES log (case = customer profile)."""
    service.refresh_identity_map(session, runtime.store, workspace_id=key.workspace_id)
    src = service.source(runtime.store, workspace_id=key.workspace_id)
    buf = io.StringIO()
    export_xes(runtime.store, src, buf)
    return Response(
        buf.getvalue().encode("utf-8"),
        media_type="application/xml",
        headers={"Content-Disposition": 'attachment; filename="journeys.xes"'},
    )
