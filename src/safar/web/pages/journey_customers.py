"""The customers behind a number of the Journeys page, and what a manager does with them.

``/journeys/customers`` lists who dropped after a funnel step (``kind=dropped``: the funnel's
``steps``, ``window``, ``mode`` and ``after_step``) or who had a key driver's touchpoint before
their score (``kind=driver``: ``target_event``, ``target_property``, ``factor``), under the
page's shared filters (range, channel, segment), all in the URL. Three actions take the whole
list (``journeys.drilldown`` computes it again for each, so no list travels through the
browser): save it as a listed segment (``segments``: a fixed list of profiles, since no
condition describes "dropped after step 2 within 7 days"), export it as CSV (the segments
domain's export), or enter it into a published journey with an API trigger
(``flows``' ``FlowEngine.enter``, once per customer: a repeated click enters nobody twice).
Action forms carry the list's parameters in their URL, so every route reads them the same way.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from safar.errors import ValidationFailed
from safar.flows import service as flows
from safar.flows.deps import FlowsDep
from safar.identity import service as identity
from safar.journeys.drilldown import DriverCustomers, DroppedCustomers
from safar.journeys.metrics import DriversQuery, FunnelQuery
from safar.journeys.params import parse_window
from safar.segments import export
from safar.segments import service as segments
from safar.segments.schemas import SegmentCreate
from safar.web.filters import AllTimeFiltersDep, PageFilters
from safar.web.i18n import N_
from safar.web.pages.journeys import scoped_view, whole
from safar.web.render import Page, PageDep, need, render
from safar.workspaces.deps import RuntimeDep

router = APIRouter(include_in_schema=False)
EditPage = Annotated[Page, need("settings")]
#: Customers shown on the page (the actions take them all).
SHOWN = 100


@dataclass(frozen=True)
class Drill:
    """Which customers: the query parameters of the drill-down."""

    kind: str = ""
    steps: str = ""
    window: str = "7d"
    mode: str = "strict"
    after_step: str = ""
    target_event: str = ""
    target_property: str = ""
    factor: str = ""

    def metric(self) -> DroppedCustomers | DriverCustomers:
        """The drill-down metric; wrong parameters are a 400 naming the field."""
        if self.kind == "dropped":
            steps = tuple(s.strip() for s in self.steps.split(",") if s.strip())
            if self.mode not in ("strict", "any"):
                raise ValidationFailed(f"mode: {self.mode!r} is not 'strict' or 'any'",
                                       field="mode")  # fmt: skip
            funnel = FunnelQuery(steps, parse_window(self.window),
                                 "any" if self.mode == "any" else "strict")  # fmt: skip
            after = whole(self.after_step, "after_step", 1, max(len(steps) - 1, 1))
            return DroppedCustomers(funnel, after)
        if self.kind == "driver":
            drivers = DriversQuery(self.target_event.strip(), self.target_property.strip())
            return DriverCustomers(drivers, self.factor.strip())
        raise ValidationFailed("kind: 'dropped' (a funnel step) or 'driver'", field="kind")

    def params(self) -> dict[str, str]:
        keys = {"dropped": ("steps", "window", "mode", "after_step"),
                "driver": ("target_event", "target_property", "factor")}[self.kind]  # fmt: skip
        return {"kind": self.kind, **{k: v for k, v in asdict(self).items() if k in keys}}

    def title(self, page: Page) -> str:
        tr, fmt = page.gettext, page.fmt
        if self.kind == "driver":
            return tr(N_("Customers with “%(factor)s” before their %(score)s")) % {
                "factor": self.factor,
                "score": self.target_property,
            }
        steps = [s.strip() for s in self.steps.split(",") if s.strip()]
        k = int(self.after_step)
        if self.mode == "any":
            return tr(N_("Customers who reached %(k)s of %(n)s steps but no more")) % {
                "k": fmt.number(k),
                "n": fmt.number(len(steps)),
            }
        return tr(N_("Customers who reached “%(step)s” but not “%(next)s” within %(window)s")) % {
            "step": steps[k - 1], "next": steps[k], "window": self.window}  # fmt: skip


DrillDep = Annotated[Drill, Depends()]


def _found(page: Page, runtime: Any, filters: PageFilters, drill: Drill) -> list[str]:
    """The profiles behind the number, under the shared filters."""
    metric = drill.metric()
    view, _ = scoped_view(page, runtime, filters)
    return view.run(metric)


def _query(drill: Drill, filters: PageFilters, **extra: str) -> str:
    return urlencode({**drill.params(), **filters.params(), **extra})


def _api_flows(page: Page) -> list[dict[str, str]]:
    """The published journeys that customers enter through the API."""
    ws = page.workspace_id
    assert ws is not None
    out = []
    for flow in flows.list_flows(page.session, workspace_id=ws):
        if (
            flow.status == "published"
            and flows.live_definition(page.session, flow).trigger.type == "api"
        ):
            out.append({"id": flow.id, "name": flow.name})
    return out


@router.get("/journeys/customers", response_class=HTMLResponse)
def customers(
    page: PageDep,
    runtime: RuntimeDep,
    filters: AllTimeFiltersDep,
    drill: DrillDep,
    entered: int | None = None,
    kept_out: int | None = None,
) -> Response:
    ws = page.workspace_id
    if ws is None:
        return RedirectResponse("/journeys", status_code=303)
    found = _found(page, runtime, filters, drill)
    rows = export.profile_rows(page.session, workspace_id=ws, profile_ids=found[:SHOWN])
    query = _query(drill, filters)
    return render(
        page, "journey_customers.html", nav_key="journeys", title=drill.title(page),
        count=len(found), rows=rows, query=query, flows=_api_flows(page),
        back="/journeys?" + urlencode({k: v for k, v in drill.params().items() if k != "kind"
                                       and k != "after_step" and k != "factor"} | filters.params()),
        default_name=drill.title(page)[:200], entered=entered, kept_out=kept_out,
    )  # fmt: skip


@router.get("/journeys/customers.csv")
def customers_csv(
    page: PageDep, runtime: RuntimeDep, filters: AllTimeFiltersDep, drill: DrillDep
) -> Response:
    ws = page.workspace_id
    if ws is None:
        raise ValidationFailed("workspace: choose a workspace first", field="workspace")
    found = _found(page, runtime, filters, drill)
    return StreamingResponse(
        export.csv_chunks(runtime.db.session, workspace_id=ws, profile_ids=found),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="journey-customers.csv"'},
    )


@router.post("/journeys/customers/segment")
def save_segment(
    page: EditPage,
    runtime: RuntimeDep,
    filters: AllTimeFiltersDep,
    drill: DrillDep,
    name: Annotated[str, Form(min_length=1, max_length=200)],
) -> Response:
    """Save the customers as a listed segment and open it on the Customers page."""
    ws = page.workspace_id
    if ws is None:
        raise ValidationFailed("workspace: choose a workspace first", field="workspace")
    found = _found(page, runtime, filters, drill)
    known = identity.unmerged_profile_ids(page.session, workspace_id=ws)
    profiles = [p for p in found if p in known]
    if not profiles:
        raise ValidationFailed("name: there are no customers to save", field="name")
    created = segments.create_segment(
        page.session, workspace_id=ws,
        data=SegmentCreate(name=name.strip() or drill.title(page)[:200],
                           description=drill.title(page)[:2000], profiles=profiles),
    )  # fmt: skip
    segments.schedule_refresh(page.session, runtime.jobs, workspace_id=ws, due_at=runtime.clock(),
                              interval_s=runtime.settings.segment_refresh_s)  # fmt: skip
    return RedirectResponse(f"/customers?segment={created.id}", status_code=303)


@router.post("/journeys/customers/enter")
def enter_journey(
    page: EditPage,
    runtime: FlowsDep,
    filters: AllTimeFiltersDep,
    drill: DrillDep,
    flow_id: Annotated[str, Form(min_length=1, max_length=40)],
) -> Response:
    """Enter every customer into a published journey with an API trigger, once each."""
    ws = page.workspace_id
    if ws is None:
        raise ValidationFailed("workspace: choose a workspace first", field="workspace")
    if flow_id not in {f["id"] for f in _api_flows(page)}:
        raise ValidationFailed("flow_id: choose a live journey that starts from the API",
                               field="flow_id")  # fmt: skip
    found = _found(page, runtime, filters, drill)
    batch = hashlib.sha256(_query(drill, filters).encode()).hexdigest()[:16]
    entered = 0
    for pid in found:
        if runtime.flows.enter(
            page.session,
            workspace_id=ws,
            flow_id=flow_id,
            profile_id=pid,
            key=f"journeys:{batch}:{pid}",
            properties={"source": "journeys", "list": drill.title(page)[:200]},
        ):
            entered += 1  # fmt: skip
    query = _query(drill, filters, entered=str(entered), kept_out=str(len(found) - entered))
    return RedirectResponse(f"/journeys/customers?{query}", status_code=303)
