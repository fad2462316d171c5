"""Automations in the dashboard: the journeys of ``safar.flows`` with their live counts, new ones
from a shipped template or blank, and the visual builder.

The builder (``flow_builder.html`` and ``static/flows.js``) edits the definition in the browser
and posts it whole, as JSON, to the routes below; the checks are the domain's own
(``flows.service.save_draft``, ``FlowEngine.publish``), and a refusal comes back as
``{field, message}`` for the builder to point at. Every number comes from ``flows.analytics``.
Named "Automations" so a CX manager tells them from the "Journeys" analytics page.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Annotated, Any

import yaml
from fastapi import APIRouter, Body, Form, Query
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from safar.errors import NotFound, SafarError
from safar.flows import analytics, library, service
from safar.flows.deps import FlowsDep
from safar.flows.messages import preview as render_preview
from safar.web.flow_labels import (
    EXITS,
    MESSAGE_REASONS,
    MESSAGE_STATUSES,
    OPTIONS,
    UI,
    translate_error,
    translated,
)
from safar.web.i18n import N_
from safar.web.nav import NavEntry, register_nav
from safar.web.render import Page, PageDep, need, render

if TYPE_CHECKING:
    from safar.flows.models import Flow

router = APIRouter(include_in_schema=False)
register_nav(NavEntry("automations", "/automations", N_("Automations"), "flow", order=27))
EditPage = Annotated[Page, need("settings")]
STATUS_LABELS = {
    "draft": N_("Draft"),
    "published": N_("Live"),
    "paused": N_("Paused"),
    "archived": N_("Archived"),
}
ACTIONS = {"pause": "paused", "resume": "published", "archive": "archived"}
#: "seconds: required for a duration delay" names the field inside the node pydantic reported.
_INNER_FIELD = re.compile(r"^(?:Value error, )?([a-z_]+): ")


def _ws(page: Page) -> str:
    if page.workspace_id is None:
        raise NotFound("workspace: there is no workspace yet; create one in Settings")
    return page.workspace_id


def blank(name: str, end: str = "End") -> dict[str, Any]:
    """A journey with an entry and an exit (labelled ``end``, in the reader's language): the
    builder adds the steps between them."""
    return {
        "name": name,
        "trigger": {"type": "api"},
        "start": "end",
        "nodes": [{"id": "end", "type": "exit", "label": end}],
    }


def refused(page: Page, exc: SafarError) -> JSONResponse:
    """A refusal as the builder reads it: the field path and a message in the page's language."""
    field = exc.field or "definition"
    message = exc.message.removeprefix(f"{field}: ")
    inner = _INNER_FIELD.match(message)
    if inner and not field.endswith("." + inner.group(1)):
        field, message = f"{field}.{inner.group(1)}", message[inner.end() :]
    text = translate_error(message, field, page.gettext, page.fmt.numerals)
    return JSONResponse(
        {"field": field, "message": text, "detail": exc.message}, status_code=exc.status_code
    )


def meta(page: Page, flow: Flow) -> str:
    """Which version the builder edits and which one runs ("Version 3 · live version 2")."""
    tr, fmt = page.gettext, page.fmt
    row = service.version_of(
        page.session, workspace_id=flow.workspace_id, flow_id=flow.id, version=flow.version
    )
    version, live = tr(N_("Version")), tr(N_("live version"))
    parts = [version + " " + fmt.number(flow.version)]
    if flow.published_version:
        parts.append(live + " " + fmt.number(flow.published_version))
    if row.published_at is None:
        parts.append(tr(N_("draft")))
    return " · ".join(parts)


def _has_goal(page: Page, flow: Flow) -> bool:
    version = flow.published_version or flow.version
    row = service.version_of(
        page.session, workspace_id=flow.workspace_id, flow_id=flow.id, version=version
    )
    return bool(row.definition.get("goal"))


def _message_label(page: Page, key: str) -> str:
    status, _, reason = key.partition(":")
    label = page.gettext(MESSAGE_STATUSES.get(status, status))
    if reason:
        label += ": " + page.gettext(MESSAGE_REASONS.get(reason, reason))
    return label


def stats(page: Page, runtime: FlowsDep, flow: Flow) -> dict[str, Any]:
    """The live counts of one journey, formatted for the page (its digits, its words)."""
    raw = analytics.flow_stats(
        page.session, workspace_id=_ws(page), flow_id=flow.id, outcomes=runtime.flows.outcomes
    )
    fmt, tr = page.fmt, page.gettext
    nodes = {}
    for node_id, n in raw["nodes"].items():
        acts = n["actions"]
        # A message step counts what the scheduler delivered; other steps what they did.
        sent = (
            n["messages"].get("done", 0)
            if n["messages"]
            else sum(v for k, v in acts.items() if k != "would_send")
        )
        nodes[node_id] = {
            "reached": fmt.number(n["reached"]),
            "waiting": fmt.number(n["waiting"]),
            "sent": fmt.number(sent) if acts else None,
            "held": fmt.number(acts["would_send"]) if acts.get("would_send") else None,
        }
    exits = []
    for reason, n in sorted(raw["exits"].items(), key=lambda kv: -kv[1]):
        label = EXITS.get(reason)
        exits.append({"label": tr(label) if label else reason, "n": fmt.number(n)})
    messages = [
        {"label": _message_label(page, k), "n": fmt.number(v)}
        for k, v in sorted(raw["messages"].items())
    ]
    none = {"treatment": "–", "control": "–", "uplift": "–"}
    goal = _goal(page, raw["goal"]) if _has_goal(page, flow) else none
    return {
        "entered": raw["entered"],
        "summary": {
            "entered": fmt.number(raw["entered"]),
            "waiting": fmt.number(raw["waiting"]),
            "holdout": fmt.number(raw["entered_control"]),
            "exits": exits,
            "messages": messages,
            "goal": goal,
        },
        "nodes": nodes,
    }


def _goal(page: Page, goal: dict[str, Any]) -> dict[str, str]:
    fmt, tr = page.fmt, page.gettext

    def rate(side: dict[str, Any]) -> str:
        if side["rate"] is None:
            return "–"
        return tr(N_("%(rate)s of %(n)s")) % {
            "rate": fmt.percent(side["rate"] * 100),
            "n": fmt.number(side["entered"]),
        }

    out = {"treatment": rate(goal["treatment"]), "control": rate(goal["control"]), "uplift": "–"}
    up = goal["uplift"]
    if up is not None:
        out["uplift"] = tr(N_("%(diff)s (95 in 100 interval: %(low)s to %(high)s)")) % {
            "diff": fmt.percent(up["difference"] * 100),
            "low": fmt.percent(up["low"] * 100),
            "high": fmt.percent(up["high"] * 100),
        }
    return out


def _template_choices(page: Page) -> list[dict[str, str]]:
    out = []
    for name in library.names():
        data = library.load(name)
        out.append(
            {
                "key": name,
                "name": page.gettext(data["name"]),
                "description": page.gettext(data.get("description", "")),
            }
        )
    return out


@router.get("/automations", response_class=HTMLResponse)
def automations(page: PageDep, runtime: FlowsDep) -> HTMLResponse:
    rows: list[dict[str, Any]] = []
    if page.workspace_id:
        for flow in service.list_flows(page.session, workspace_id=page.workspace_id):
            live = stats(page, runtime, flow)
            rows.append({"flow": flow, "stats": live["summary"]})
    return render(
        page,
        "flows.html",
        rows=rows,
        templates=_template_choices(page),
        statuses=STATUS_LABELS,
        nav_key="automations",
    )


@router.post("/automations")
def create(
    page: EditPage,
    runtime: FlowsDep,
    template: Annotated[str, Form(max_length=60)] = "",
    name: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    if template:
        # Installed in the reader's language: its name and its steps' labels.
        definition = library.localized(template, page.gettext)
        definition["name"] = name.strip() or definition["name"]
    else:
        definition = blank(
            name.strip() or page.gettext(N_("New automation")), page.gettext(N_("End"))
        )
    flow = service.create_flow(
        page.session,
        workspace_id=_ws(page),
        definition=definition,
        user=page.caller.user.email,
        now=runtime.flows.clock(),
    )
    return RedirectResponse(f"/automations/{flow.id}", status_code=303)


@router.post("/automations/{flow_id}/status")
def change_status(
    flow_id: str,
    page: EditPage,
    runtime: FlowsDep,
    action: Annotated[str, Form(max_length=20)],
) -> Response:
    status = ACTIONS.get(action)
    if status is None:
        raise NotFound(f"action: no action {action[:20]!r}", field="action")
    service.set_status(
        page.session,
        workspace_id=_ws(page),
        flow_id=flow_id[:40],
        status=status,
        now=runtime.flows.clock(),
    )
    runtime.flows.hook.invalidate()
    return RedirectResponse("/automations", status_code=303)


@router.get("/automations/{flow_id}", response_class=HTMLResponse)
def builder(flow_id: str, page: PageDep, runtime: FlowsDep) -> HTMLResponse:
    ws = _ws(page)
    flow = service.get_flow(page.session, workspace_id=ws, flow_id=flow_id[:40])
    row = service.version_of(page.session, workspace_id=ws, flow_id=flow.id, version=flow.version)
    state = {
        "flow_id": flow.id,
        "definition": row.definition,
        "can_edit": page.can("settings"),
        "stats": stats(page, runtime, flow),
        "ui": translated(UI, page.gettext),
        "options": translated(OPTIONS, page.gettext),
        "percent_sign": page.fmt.percent(0, 0).replace(page.fmt.number(0), ""),
    }
    return render(
        page,
        "flow_builder.html",
        flow=flow,
        meta=meta(page, flow),
        state=state,
        statuses=STATUS_LABELS,
        nav_key="automations",
    )


@router.post("/automations/{flow_id}/definition")
def save(
    flow_id: str,
    page: EditPage,
    runtime: FlowsDep,
    definition: Annotated[dict[str, Any], Body()],
) -> JSONResponse:
    """Save the builder's definition as the draft; a refusal names the field."""
    try:
        flow = service.save_draft(
            page.session,
            workspace_id=_ws(page),
            flow_id=flow_id[:40],
            definition=definition,
            user=page.caller.user.email,
            now=runtime.flows.clock(),
        )
    except SafarError as exc:
        return refused(page, exc)
    return JSONResponse({"version": flow.version, "status": flow.status, "meta": meta(page, flow)})


@router.post("/automations/{flow_id}/publish")
def publish(
    flow_id: str,
    page: EditPage,
    runtime: FlowsDep,
    definition: Annotated[dict[str, Any], Body()],
) -> JSONResponse:
    """Save what the builder shows and publish it; refused (with the field) when it would not
    run here, e.g. an event this workspace has never seen. The draft stays saved."""
    ws = _ws(page)
    try:
        service.save_draft(
            page.session,
            workspace_id=ws,
            flow_id=flow_id[:40],
            definition=definition,
            user=page.caller.user.email,
            now=runtime.flows.clock(),
        )
        flow = runtime.flows.publish(page.session, workspace_id=ws, flow_id=flow_id[:40])
    except SafarError as exc:
        return refused(page, exc)
    return JSONResponse(
        {
            "version": flow.version,
            "status": flow.status,
            "label": page.gettext(STATUS_LABELS[flow.status]),
            "meta": meta(page, flow),
        }
    )


@router.get("/automations/{flow_id}/stats")
def live_stats(flow_id: str, page: PageDep, runtime: FlowsDep) -> dict[str, Any]:
    flow = service.get_flow(page.session, workspace_id=_ws(page), flow_id=flow_id[:40])
    return stats(page, runtime, flow)


@router.post("/automations/{flow_id}/preview")
def preview(
    flow_id: str,
    page: PageDep,
    runtime: FlowsDep,
    definition: Annotated[dict[str, Any], Body()],
    node: Annotated[str, Body(max_length=40)],
    profile_id: Annotated[str, Body(min_length=1, max_length=80)],
) -> JSONResponse:
    """A send step of the definition on screen (saved or not) rendered for a real profile."""
    ws = _ws(page)
    service.get_flow(page.session, workspace_id=ws, flow_id=flow_id[:40])
    try:
        out = render_preview(
            page.session,
            workspace_id=ws,
            flow=service.parse(definition),
            node_id=node,
            profile_id=profile_id.strip(),
            default_tz=runtime.flows.default_tz,
        )
    except SafarError as exc:
        return refused(page, exc)
    return JSONResponse(out)


@router.get("/automations/{flow_id}/export")
def export(
    flow_id: str,
    page: PageDep,
    format: Annotated[str, Query(pattern="^(json|yaml)$")] = "json",
) -> Response:
    ws = _ws(page)
    flow = service.get_flow(page.session, workspace_id=ws, flow_id=flow_id[:40])
    row = service.version_of(page.session, workspace_id=ws, flow_id=flow.id, version=flow.version)
    name = f"{flow.id}.{format}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if format == "yaml":
        text = yaml.safe_dump(row.definition, allow_unicode=True, sort_keys=False)
        return Response(text, media_type="application/yaml", headers=headers)
    body = json.dumps(row.definition, ensure_ascii=False, indent=2)
    return Response(body, media_type="application/json", headers=headers)
