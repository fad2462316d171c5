"""Journeys API (Bearer secret key): discovery, funnels, paths, drivers and XES export."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from safar.journeys import analysis, service
from safar.journeys.cli import parse_window
from safar.journeys.drivers import key_drivers
from safar.journeys.importer import export_xes
from safar.journeys.schemas import (
    DiscoverRequest,
    DiscoverResult,
    DriversRequest,
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
    result = service.discover(
        session,
        runtime.store,
        workspace_id=key.workspace_id,
        since=body.since,
        until=body.until,
        top_variants=body.top_variants,
        min_frequency=body.min_frequency,
        max_variants=body.max_variants,
    )
    out = {
        **result.as_dict(durations_p90=True),
        "cases": result.cases,
        "variant_count": result.variant_count,
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
    window = body.window if isinstance(body.window, float | int) else parse_window(body.window)
    result = service.funnel(
        session,
        runtime.store,
        workspace_id=key.workspace_id,
        steps=body.steps,
        window_seconds=float(window),
        since=body.since,
        until=body.until,
        dropped_limit=body.dropped_limit,
        mode=body.mode,
        breakdown=body.breakdown,
        breakdown_limit=body.breakdown_limit,
        personas=body.personas,
    )
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
    window = body.window if isinstance(body.window, float | int) else parse_window(body.window)
    return service.journey_map(
        session,
        runtime.store,
        workspace_id=key.workspace_id,
        journey=body.journey,
        window_seconds=float(window),
        since=body.since,
        until=body.until,
    )


@router.post("/personas")
def personas(
    body: PersonasRequest, key: SecretKey, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Personas: rule-based on traits when rules are given, else discovered by clustering."""
    return service.personas(
        session,
        runtime.store,
        workspace_id=key.workspace_id,
        k=body.k,
        rules=body.rules,
        since=body.since,
        until=body.until,
    )


@router.post("/paths")
def paths(
    body: PathsRequest, key: SecretKey, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Top paths after (or before) an event, and Sankey nodes and links."""
    return service.paths(
        session,
        runtime.store,
        workspace_id=key.workspace_id,
        anchor=body.anchor,
        direction=body.direction,
        depth=body.depth,
        top=body.top,
        since=body.since,
        until=body.until,
    )


@router.post("/drivers")
def drivers(
    body: DriversRequest, key: SecretKey, session: SessionDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Key drivers of a score carried by events (e.g. survey_answered.nps) among touchpoints."""
    table = service.customer_table(
        session,
        runtime.store,
        workspace_id=key.workspace_id,
        target_event=body.target_event,
        target_property=body.target_property,
        max_events=body.max_events,
        since=body.since,
        until=body.until,
    )
    return key_drivers(table, target="__score", unit=body.unit).as_dict()


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
